package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/workers"
	"github.com/otpctl/otpctl/workers/builtin"
)

const badProblems = `testdata/bad.yaml:3:13: strategy: must be one of one_for_one, one_for_all, rest_for_one; got "one_for_any"
testdata/bad.yaml:6:13: kind: unknown kind "database-client-kind"
testdata/bad.yaml:7:13: name: "db" is already the name of a sibling (line 5); sibling names must be unique
testdata/bad.yaml:10:16: include: cannot read testdata/sub/missing.yaml: no such file or directory
`

func TestValidateGood(t *testing.T) {
	r := otpctl(t, nil, "validate", "testdata/good.yaml")
	if r.code != ExitOK || r.stdout != "" || r.stderr != "testdata/good.yaml: valid (4 nodes)\n" {
		t.Fatalf("code %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
	}
	r = otpctl(t, nil, "validate", "--json", "testdata/good.yaml")
	if r.code != ExitOK || strings.TrimSpace(r.stdout) != "[]" {
		t.Fatalf("--json: code %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestValidateBad(t *testing.T) {
	r := otpctl(t, nil, "validate", "testdata/bad.yaml")
	if r.code != ExitFailure || r.stdout != badProblems || r.stderr != "otpctl: 4 problems in 1 file\n" {
		t.Fatalf("code %d\nstdout:\n%s\nstderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestValidateManyFiles(t *testing.T) {
	// All problems in all files, the good ones confirmed on stderr.
	r := otpctl(t, nil, "validate", "testdata/bad.yaml", "testdata/good.yaml", "testdata/none.yaml")
	want := badProblems + "testdata/none.yaml: cannot read the file: no such file or directory\n"
	if r.code != ExitFailure || r.stdout != want {
		t.Fatalf("code %d\nstdout:\n%s\nwant:\n%s", r.code, r.stdout, want)
	}
	if r.stderr != "testdata/good.yaml: valid (4 nodes)\notpctl: 5 problems in 2 files\n" {
		t.Errorf("stderr %q", r.stderr)
	}
}

func TestValidateJSON(t *testing.T) {
	r := otpctl(t, nil, "validate", "--json", "testdata/bad.yaml", "testdata/none.yaml")
	if r.code != ExitFailure {
		t.Fatalf("code %d, stderr %q", r.code, r.stderr)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("stdout is not a JSON array: %v\n%s", err, r.stdout)
	}
	if len(got) != 5 {
		t.Fatalf("%d problems, want 5: %s", len(got), r.stdout)
	}
	first := map[string]any{"file": "testdata/bad.yaml", "line": 3.0, "col": 13.0, "severity": "error",
		"message": `strategy: must be one of one_for_one, one_for_all, rest_for_one; got "one_for_any"`}
	for k, v := range first {
		if got[0][k] != v {
			t.Errorf("first problem %s = %v, want %v", k, got[0][k], v)
		}
	}
	if len(got[0]) != len(first) {
		t.Errorf("first problem has keys %v, want exactly file, line, col, severity, message", got[0])
	}
	last := got[4]
	if last["file"] != "testdata/none.yaml" || last["line"] != 0.0 || last["col"] != 0.0 {
		t.Errorf("unreadable file: %v", last)
	}
}

func TestValidateUsage(t *testing.T) {
	r := otpctl(t, nil, "validate")
	if r.code != ExitUsage || r.stdout != "" || !strings.Contains(r.stderr, "name at least one tree file") {
		t.Fatalf("code %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
	}
	r = otpctl(t, nil, "validate", "--help")
	for _, want := range []string{"USAGE:", "otpctl validate [command options] FILE...", "FILE:LINE:COL", "Examples:", "--json"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("validate --help lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestValidateHasNoSideEffects: validate starts nothing and opens no
// socket, whatever the file says (Caddy's validate opened listeners).
func TestValidateHasNoSideEffects(t *testing.T) {
	dir := t.TempDir()
	runDir := filepath.Join(dir, "run")
	if err := os.Mkdir(runDir, 0o700); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dir, "started")
	tree := filepath.Join(dir, "tree.yaml")
	os.WriteFile(tree, []byte(`version: 1
supervisor:
  children:
    - name: touch
      kind: exec
      args: {command: [touch, `+marker+`]}
`), 0o644)
	env := []string{"XDG_RUNTIME_DIR=" + runDir, "OTPCTL_SOCKET=" + filepath.Join(runDir, "x.sock"), "TMPDIR=" + runDir}
	r := otpctl(t, env, "validate", tree)
	if hasKind("exec") && r.code != ExitOK {
		t.Fatalf("the tree should be valid: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("validate started a worker: %v", err)
	}
	if entries, _ := os.ReadDir(runDir); len(entries) > 0 {
		t.Errorf("validate left files in the runtime folder: %v", entries)
	}
}

// hasKind reports whether the built-in kinds include name.
func hasKind(name string) bool {
	return slices.ContainsFunc(builtin.Kinds(), func(k workers.Kind) bool { return k.Name == name })
}

func TestValidateWithOwnKinds(t *testing.T) {
	// A Go program's own kinds are checked like the built-in ones: args
	// against the kind's schema, with positions.
	reg := workers.NewRegistry()
	reg.Register(workers.Kind{Name: "greeter", Doc: "replies hello",
		Args:  `{"type":"object","properties":{"greeting":{"type":"string"}},"additionalProperties":false}`,
		Start: noStart})
	dir := t.TempDir()
	file := filepath.Join(dir, "t.yaml")
	os.WriteFile(file, []byte("version: 1\nsupervisor:\n  children:\n    - {name: g, kind: greeter, args: {greting: hi}}\n    - {name: h, kind: greeter, args: {greeting: 5}}\n"), 0o644)
	var stdout, stderr bytes.Buffer
	err := validate(&stdout, &stderr, []string{file}, reg, validateOptions{})
	want := file + `:4:39: args: unknown key "greting" (did you mean "greeting"?)` + "\n" +
		file + ":5:49: args.greeting: must be a string; got 5\n"
	if err == nil || stdout.String() != want {
		t.Fatalf("err %v\nstdout:\n%s\nwant:\n%s", err, stdout.String(), want)
	}
}

func noStart(*runtime.Process, workers.Worker) (workers.Instance, error) {
	return workers.Instance{}, errors.New("not started in tests")
}
