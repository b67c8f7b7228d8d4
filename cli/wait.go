package cli

import (
	"context"
	"errors"
	"fmt"
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
		Action: pathCommand(func(ctx context.Context, c *ucli.Context, cl *control.Client, path string) error {
			_, err := cl.Wait(ctx, path, c.String("state"), c.Duration("timeout"))
			var ce *control.Error
			if errors.As(err, &ce) && ce.Code == control.CodeTimeout {
				return fmt.Errorf("wait: %s", ce.Message)
			}
			return err
		}),
	})
}
