package otptest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/otpctl/otpctl/otptest"
	"github.com/otpctl/otpctl/spec"
)

// Regression (issue 14, 8): a reload to args the kind's start refuses
// passed validation, stopped the running child and left it failed. Now the
// reload is refused, at the arg, and the child runs on untouched.
func TestReloadToArgsTheStartRefusesIsRefused(t *testing.T) {
	const tree = "version: 1\nname: r\nsupervisor:\n  children:\n    - {name: c, kind: counter, args: {initial: INITIAL}}\n    - {name: e, kind: exec, args: {command: [COMMAND]}}\n"
	tr := otptest.StartYAML(t, strings.NewReplacer("INITIAL", "1", "COMMAND", "sleep, '1000'").Replace(tree))
	before := tr.Snapshot()
	m := tr.Mark()
	for _, c := range []struct{ initial, command, want string }{
		{"99999999999999999999", "sleep, '1000'", ":5:48: args.initial: must be a whole number"},
		{"1", `sleep, "10\u000000"`, `:6:53: args.command[1]: "10\x0000" must not contain a NUL byte`},
	} {
		_, err := tr.TryReload(strings.NewReplacer("INITIAL", c.initial, "COMMAND", c.command).Replace(tree))
		var ds spec.Diagnostics
		if !errors.As(err, &ds) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("reload: %v, want diagnostics with %q", err, c.want)
		}
	}
	tr.AssertTrace(m, "reload_failed r errors=1", "reload_failed r errors=1")
	after := tr.Snapshot()
	for _, path := range []string{"r/c", "r/e"} {
		if after.Pid(path) != before.Pid(path) || after.State(path) != "running" {
			t.Errorf("%s: %v %s, was %v running", path, after.Pid(path), after.State(path), before.Pid(path))
		}
	}
}
