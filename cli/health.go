package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/otpctl/otpctl/control"
	ucli "github.com/urfave/cli/v2"
)

func init() {
	register(&ucli.Command{
		Name:  "health",
		Usage: "check that the instance is up, or with --ready that its tree is ready",
		Description: "For exec probes (a Kubernetes exec probe, Docker's HEALTHCHECK): asks the\n" +
			"instance's GET /healthz (it is up: not stopping), or with --ready GET /readyz\n" +
			"(every node is running, or stopped after exiting as a transient or temporary child\n" +
			"may; a starting, restarting, failed or stopped permanent node is not ready).\n" +
			"Prints ok, or the nodes that are not ready, one PATH STATE a line.\n" +
			"Exit status 0 up (ready), 1 not, or no instance answers within --timeout.",
		Flags: append(instanceFlags(),
			&ucli.BoolFlag{Name: "ready", Usage: "check readiness: every node running (GET /readyz)"},
			&ucli.DurationFlag{Name: "timeout", Value: 5 * time.Second, Usage: "give up after `D`"},
			jsonFlag("print the instance's answer as JSON"),
		),
		Action: healthAction,
	})
}

func healthAction(c *ucli.Context) error {
	if c.NArg() != 0 {
		return exit(ExitUsage, "health: no arguments are expected")
	}
	cl, err := client(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Context, c.Duration("timeout"))
	defer cancel()
	rep, err := cl.Health(ctx, c.Bool("ready"))
	if errors.Is(err, context.DeadlineExceeded) {
		return exit(ExitFailure, "health: no answer from %s within %v", cl.Socket, c.Duration("timeout"))
	}
	if err != nil {
		return failed(err)
	}
	out := c.App.Writer
	if c.Bool("json") {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
		if rep.Status != control.HealthOK {
			return exit(ExitFailure, "")
		}
		return nil
	}
	if rep.Status == control.HealthOK {
		fmt.Fprintln(out, "ok")
		return nil
	}
	for _, n := range rep.NotReady {
		fmt.Fprintln(out, n.Path, n.State)
	}
	if rep.More > 0 {
		fmt.Fprintf(out, "… and %d more\n", rep.More)
	}
	return exit(ExitFailure, "%s", rep.Message)
}
