package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/otpctl/otpctl/control"
	ucli "github.com/urfave/cli/v2"
)

func init() {
	register(&ucli.Command{
		Name:  "reload",
		Usage: "reload the tree files of a running tree, as SIGHUP does",
		Description: `Asks the instance to read its tree files again (the root file and its includes)
and to apply only what changed, as a save of a watched file or SIGHUP does.
Unchanged children keep running with their pid and state; changed ones restart
at their place; restart, shutdown, significant and a supervisor's flags change
in place. Restarts by a reload count against no restart intensity.

Prints the plan that was applied, as ` + "`otpctl plan`" + ` does (one line per path that
changed, then how many nodes were left untouched), and the paths whose start
failed (they are left failed; the events say why). If the files do not
validate, nothing changes and every problem is printed as FILE:LINE:COL: message.

Exit status: 0 the plan was applied (or nothing changed); 1 the reload was
refused (nothing changed), a start failed, or the instance could not be reached.`,
		Flags: append(instanceFlags(),
			jsonFlag("print the reply as one JSON object"),
		),
		Action: reloadCommand,
	})
}

func reloadCommand(c *ucli.Context) error {
	if c.NArg() != 0 {
		return exit(ExitUsage, "reload: no arguments are expected (the instance reads its own files)")
	}
	cl, err := client(c)
	if err != nil {
		return err
	}
	rep, err := cl.Reload(c.Context)
	if err != nil {
		var ce *control.Error
		if errors.As(err, &ce) && len(ce.Details) > 0 {
			fmt.Fprintln(c.App.ErrWriter, strings.Join(ce.Details, "\n"))
		}
		return failed(err)
	}
	if c.Bool("json") {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return exit(ExitFailure, "reload: %v", err)
		}
		fmt.Fprintf(c.App.Writer, "%s\n", b)
	} else {
		for _, l := range rep.Lines {
			fmt.Fprintln(c.App.Writer, l)
		}
		fmt.Fprintf(c.App.Writer, "%d unchanged\n", rep.Unchanged)
	}
	if len(rep.Failed) > 0 {
		return exit(ExitFailure, "reload: failed to start: %s (see otpctl events)", strings.Join(rep.Failed, ", "))
	}
	return nil
}

// reload reloads the tree files (SIGHUP, POST /v1/reload): the reply is the
// plan applied; a refusal is an API error, with every FILE:LINE:COL problem
// in its details when the files do not validate.
func (st *runState) reload() (control.ReloadReply, error) { return st.tree.ReloadReply() }
