package cli

import (
	"encoding/json"
	"errors"
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/otpctl/otpctl/spec"
	"github.com/otpctl/otpctl/workers"
)

func init() {
	register(&ucli.Command{
		Name:      "plan",
		Usage:     "show what a reload from OLD to NEW would do, without running anything",
		ArgsUsage: "OLD NEW",
		Description: `plan validates both tree files (as validate does, with the registered kinds),
compares them path by path, through nested supervisors and included files,
and prints what a reload of a tree running OLD would do to make it NEW, without
running anything: one line per path that changes, with the fields that caused
it, then how many nodes are left untouched:

   - shop/old (removed)                              stopped
   ~ shop (max_frequency 3 → 5: updated in place)    a supervisor's flags change
   ~ shop/db (args changed (initial): restart)       kind or args: stopped, then
                                                     started again at its place
   ~ shop/web (shutdown 5s → 10s: updated in place)  restart, shutdown, significant:
                                                     keeps running, same pid and state
   + shop/jobs (added)                               started at its position
   3 unchanged

Lines come in the order a reload applies them: every removal first, in reverse
start order; then, in the new start order, each supervisor before its children.
A subtree added, removed or restarted is one line for its root ("4 nodes").
--json prints {"changes":[{"op","path","fields":[{"field","old","new"}],...}],
"unchanged":N}; op is added, removed, changed (restart) or updated (in place).

Exit status, as kubectl diff, so CI can gate on it:
   0  no change: a reload would do nothing
   1  changes: the plan is printed
   2  an error: a file does not validate (every problem is printed on stderr as
      FILE:LINE:COL: message) or cannot be read`,
		Flags:  []ucli.Flag{jsonFlag("print the plan as one JSON object")},
		Action: planCommand,
	})
}

func planCommand(c *ucli.Context) error {
	files := c.Args().Slice() // a trailing --json is a flag too: see flagsFirst
	if len(files) != 2 {
		return exit(ExitPlanError, "plan takes two files, OLD and NEW (see otpctl plan --help)")
	}
	old, errOld := spec.Load(files[0], workers.Default)
	new, errNew := spec.Load(files[1], workers.Default)
	if err := errors.Join(errOld, errNew); err != nil {
		fmt.Fprintln(c.App.ErrWriter, err)
		return exit(ExitPlanError, "")
	}
	p := spec.Diff(old, new)
	if c.Bool("json") {
		b, err := json.MarshalIndent(p, "", "  ")
		if err != nil {
			return exit(ExitPlanError, "plan: %v", err)
		}
		fmt.Fprintf(c.App.Writer, "%s\n", b)
	} else if err := p.WriteText(c.App.Writer); err != nil {
		return exit(ExitPlanError, "plan: %v", err)
	}
	if p.Empty() {
		return nil
	}
	return exit(ExitFailure, "")
}
