package spec

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// warningKinds are testKinds whose exec warns of every program named
// "missing", as a kind's check of the machine would.
type warningKinds struct {
	fakeKinds
	calls *int
}

func (k warningKinds) WarnArgs(name string, args json.RawMessage) error {
	*k.calls++
	if name == "exec" && strings.Contains(string(args), `"missing"`) {
		return argWarning{"/command/0", `program "missing" is not found in PATH`}
	}
	return nil
}

type argWarning struct{ pointer, message string }

func (e argWarning) Error() string       { return e.message }
func (e argWarning) ArgsPointer() string { return e.pointer }
func (e argWarning) ArgsMessage() string { return e.message }

// A kind's warnings are looked for only with LoadOptions.Warnings; they
// come in Tree.Warnings at the arg's position and do not stop the load;
// beside an error they come with it.
func TestWarningsOnlyWhenAskedAndBesideErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "w.yaml")
	src := "version: 1\nsupervisor:\n  children:\n    - {name: a, kind: exec, args: {command: [missing]}}\n    - {name: b, kind: exec, args: {command: [missing]}}\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	calls := 0
	kinds := warningKinds{testKinds, &calls}
	tree, err := Load(file, kinds)
	if err != nil || len(tree.Warnings) != 0 || calls != 0 {
		t.Fatalf("Load: %v, warnings %v, %d calls; want none", err, tree.Warnings, calls)
	}
	tree, err = LoadWith(file, kinds, LoadOptions{Warnings: true})
	if err != nil {
		t.Fatal(err)
	}
	want := file + `:4:46: warning: args.command[0]: program "missing" is not found in PATH` + "\n" +
		file + `:5:46: warning: args.command[0]: program "missing" is not found in PATH`
	if got := tree.Warnings.Error(); got != want || calls != 1 {
		t.Errorf("warnings (%d calls: the same args are checked once):\n%s\nwant:\n%s", calls, got, want)
	}
	if tree.Warnings[0].Severity != SeverityWarning {
		t.Errorf("severity %q", tree.Warnings[0].Severity)
	}

	if err := os.WriteFile(file, []byte(strings.Replace(src, "supervisor:\n", "supervisor:\n  strategy: nope\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadWith(file, kinds, LoadOptions{Warnings: true})
	var ds Diagnostics
	if !errors.As(err, &ds) || !ds.HasErrors() || len(ds) != 3 || ds[1].Severity != SeverityWarning {
		t.Errorf("an error beside warnings: %v", err)
	}
}
