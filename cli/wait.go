package cli

import (
	"errors"
	"time"

	"github.com/otpctl/otpctl/control"
	ucli "github.com/urfave/cli/v2"
)

func init() {
	register(&ucli.Command{
		Name:      "wait",
		Usage:     "wait until a node is in a state",
		ArgsUsage: "PATH",
		Description: "Blocks until the node at PATH is in the state (running, restarting, stopped or\n" +
			"failed), for scripts and tests. Exit status 0 when it is, 1 when the timeout\n" +
			"passes first (or the tree stops).",
		Flags: append(instanceFlags(),
			&ucli.StringFlag{Name: "state", Value: "running", Usage: "the `STATE` to wait for: running, restarting, stopped or failed"},
			&ucli.DurationFlag{Name: "timeout", Value: 30 * time.Second, Usage: "give up after `D`"},
		),
		Action: func(c *ucli.Context) error {
			path, err := onePath(c)
			if err != nil {
				return err
			}
			cl, err := client(c)
			if err != nil {
				return err
			}
			if _, err := cl.Wait(c.Context, path, c.String("state"), c.Duration("timeout")); err != nil {
				var ce *control.Error
				if errors.As(err, &ce) && ce.Code == control.CodeTimeout {
					return exit(ExitFailure, "wait: %s", ce.Message)
				}
				return failed(err)
			}
			return nil
		},
	})
}
