package cli

import (
	"fmt"
	"strings"

	"github.com/otpctl/otpctl/loader"
	ucli "github.com/urfave/cli/v2"
)

func init() {
	register(&ucli.Command{
		Name:      "signal",
		Usage:     "send a signal to an exec child's process group",
		ArgsUsage: "PATH SIG",
		Description: "Sends SIG to the process group of the exec child at PATH (nginx and postgres\n" +
			"reload their configuration on HUP). SIG is one of " + strings.Join(loader.Signals, ", ") + ",\n" +
			"in any case, with or without SIG (HUP, SIGHUP, hup). It is not a restart and\n" +
			"not a crash: nothing is counted. Should the child exit because of it (TERM),\n" +
			"its supervisor handles that exit as any other (a permanent child is restarted,\n" +
			"and the restart counts against the intensity). An actor or a supervisor is\n" +
			"refused. Prints `signalled PATH (SIG)`; the event log has a signalled event." +
			examples("otpctl signal shop/nginx HUP", "otpctl signal shop/worker usr1"),
		Flags: instanceFlags(),
		Action: func(c *ucli.Context) error {
			if c.NArg() != 2 {
				return exit(ExitUsage, "signal: PATH and a signal are expected (otpctl signal PATH SIG)")
			}
			path := c.Args().Get(0)
			sig, _, err := loader.ParseSignal(c.Args().Get(1))
			if err != nil {
				return exit(ExitUsage, "signal: %q is not a signal otpctl sends; one of %s", c.Args().Get(1), strings.Join(loader.Signals, ", "))
			}
			cl, err := client(c)
			if err != nil {
				return err
			}
			rep, err := cl.Signal(c.Context, path, sig)
			if err != nil {
				return failed(err)
			}
			fmt.Fprintf(c.App.Writer, "signalled %s (%s)\n", rep.Path, rep.Signal)
			return nil
		},
	})
}
