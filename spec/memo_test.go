package spec

import (
	"strings"
	"testing"
)

// TestReparseSeesEveryEdit: the args a load checked are remembered for the
// next load (schema.Schema.ValidateCached), and an edit of a child, in
// each way, is still seen by the next load, with the diagnostics and
// positions of a first load.
func TestReparseSeesEveryEdit(t *testing.T) {
	const base = "version: 1\nname: app\nsupervisor:\n  children:\n" +
		"    - {name: a, kind: counter, args: {initial: 1}}\n" +
		"    - {name: b, kind: counter, args: {initial: 2}}\n" +
		"    - {name: c, kind: exec, args: {command: [x]}}\n"
	edit := func(old, new string) string {
		if !strings.Contains(base, old) {
			t.Fatalf("no %q in the file", old)
		}
		return strings.Replace(base, old, new, 1)
	}
	// shape lists the children as name kind args restart.
	shape := func(tr *Tree) string {
		var b strings.Builder
		for _, c := range tr.Root.Supervisor.Children {
			b.WriteString(c.Name + " " + c.Worker.Kind + " " + string(c.Worker.Args) + " " + c.Restart + "; ")
		}
		return b.String()
	}
	for _, c := range []struct {
		name, text, want string
	}{
		{"unchanged", base, `a counter {"initial":1} permanent; b counter {"initial":2} permanent; c exec {"command":["x"]} permanent; `},
		{"name", edit("name: b,", "name: bb,"), `a counter {"initial":1} permanent; bb counter {"initial":2} permanent; c exec {"command":["x"]} permanent; `},
		{"args", edit("initial: 2", "initial: 3"), `a counter {"initial":1} permanent; b counter {"initial":3} permanent; c exec {"command":["x"]} permanent; `},
		{"args as the sibling's", edit("initial: 2", "initial: 1"), `a counter {"initial":1} permanent; b counter {"initial":1} permanent; c exec {"command":["x"]} permanent; `},
		{"restart", edit("args: {initial: 2}}", "args: {initial: 2}, restart: temporary}"), `a counter {"initial":1} permanent; b counter {"initial":2} temporary; c exec {"command":["x"]} permanent; `},
		{"move", "version: 1\nname: app\nsupervisor:\n  children:\n" +
			"    - {name: b, kind: counter, args: {initial: 2}}\n" +
			"    - {name: c, kind: exec, args: {command: [x]}}\n" +
			"    - {name: a, kind: counter, args: {initial: 1}}\n",
			`b counter {"initial":2} permanent; c exec {"command":["x"]} permanent; a counter {"initial":1} permanent; `},
		{"kind", edit("name: b, kind: counter", "name: b, kind: exec"), "app.yaml:6:35: args: missing required key \"command\"\n" +
			"app.yaml:6:36: args: unknown key \"initial\"; expected one of command, dir, env, ready, stop_signal"},
		{"invalid value", edit("initial: 2", "initial: x"), `app.yaml:6:48: args.initial: must be an integer; got "x"`},
		{"the same invalid value on another child", edit("initial: 1", "initial: x"), `app.yaml:5:48: args.initial: must be an integer; got "x"`},
		{"fixed", base, `a counter {"initial":1} permanent; b counter {"initial":2} permanent; c exec {"command":["x"]} permanent; `},
	} {
		for _, round := range []string{"first", "again"} {
			tr, err := Parse("app.yaml", []byte(c.text), testKinds)
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = shape(tr)
			}
			if got != c.want {
				t.Errorf("%s, %s load:\ngot  %s\nwant %s", c.name, round, got, c.want)
			}
		}
	}
}
