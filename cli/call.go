package cli

import (
	"encoding/json"
	"fmt"
	"time"

	ucli "github.com/urfave/cli/v2"
)

func init() {
	register(&ucli.Command{
		Name:      "call",
		Usage:     "send a request to an actor worker and print its reply",
		ArgsUsage: "PATH JSON",
		Description: "Sends the JSON request to the worker at PATH and prints its JSON reply on stdout,\n" +
			"e.g. otpctl call shop/counter '{\"op\":\"increment\"}'. A call to a pool goes to one of\n" +
			"its members, by the pool's dispatch; PATH/N reaches member N.",
		Flags: append(instanceFlags(),
			&ucli.DurationFlag{Name: "timeout", Value: 5 * time.Second, Usage: "wait for the reply up to `D`"},
		),
		Action: func(c *ucli.Context) error {
			if c.NArg() != 2 {
				return exit(ExitUsage, "call: PATH and a JSON request are expected (otpctl call PATH JSON)")
			}
			path, req := c.Args().Get(0), c.Args().Get(1)
			if !json.Valid([]byte(req)) {
				return exit(ExitUsage, "call: the request is not valid JSON: %s", req)
			}
			cl, err := client(c)
			if err != nil {
				return err
			}
			rep, err := cl.Call(c.Context, path, json.RawMessage(req), c.Duration("timeout"))
			if err != nil {
				return failed(err)
			}
			fmt.Fprintln(c.App.Writer, string(rep))
			return nil
		},
	})
}
