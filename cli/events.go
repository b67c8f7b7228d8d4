package cli

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/otpctl/otpctl/live"
	ucli "github.com/urfave/cli/v2"
)

func init() {
	register(&ucli.Command{
		Name:  "events",
		Usage: "print the tree's events",
		Description: "Prints the events the instance has kept (the last 10000), as `run` logs them;\n" +
			"with --follow, then every new one until interrupted or the instance stops.",
		Flags: append(instanceFlags(),
			&ucli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "keep printing new events"},
			jsonFlag("one JSON object per line, with its sequence number"),
		),
		Action: func(c *ucli.Context) error {
			if c.NArg() != 0 {
				return exit(ExitUsage, "events: no arguments are expected")
			}
			cl, err := client(c)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
			defer stop()
			text := slog.NewTextHandler(c.App.Writer, nil)
			enc := json.NewEncoder(c.App.Writer)
			err = cl.Events(ctx, 0, c.Bool("follow"), func(e live.Event) error {
				if c.Bool("json") {
					return enc.Encode(e)
				}
				return text.Handle(context.Background(), eventRecord(e))
			})
			if err != nil && ctx.Err() == nil {
				return failed(err)
			}
			return nil
		},
	})
}
