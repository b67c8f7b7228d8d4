package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// validate warns, at the arg's FILE:LINE:COL, of what a start on this
// machine would fail on: a program not in PATH, a path that is missing or
// not executable, a dir that does not exist. Warnings leave the status 0;
// --strict makes them problems; --json gives them a severity.
func TestValidateWarnsOfWhatThisMachineLacks(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.txt")
	if err := os.WriteFile(plain, []byte("not a program\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := writeTree(t, dir, "t.yaml", `version: 1
supervisor:
  children:
    - {name: a, kind: exec, args: {command: [otpctl-no-such-program-x, run]}}
    - {name: b, kind: exec, args: {command: [sh, -c, "true"], dir: /no/such/folder}}
    - {name: c, kind: exec, args: {command: [/no/such/bin/app]}}
    - {name: d, kind: exec, args: {command: [`+plain+`]}}
    - {name: e, kind: exec, args: {command: [./plain.txt], dir: `+dir+`}}
    - {name: ok, kind: exec, args: {command: [sh, -c, "true"], dir: /}}
`)
	wants := []string{
		file + `:4:46: warning: args.command[0]: program "otpctl-no-such-program-x" is not found in PATH on this machine`,
		file + `:5:68: warning: args.dir: folder "/no/such/folder" does not exist on this machine`,
		file + `:6:46: warning: args.command[0]: program "/no/such/bin/app" does not exist on this machine`,
		file + `:7:46: warning: args.command[0]: "` + plain + `" is not an executable file`,
		file + `:8:46: warning: args.command[0]: "./plain.txt" is not an executable file`,
	}
	r := otpctl(t, nil, "validate", file)
	if r.code != 0 {
		t.Fatalf("validate: status %d, want 0 (warnings only)\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := strings.TrimSuffix(r.stdout, "\n"); got != strings.Join(wants, "\n") {
		t.Errorf("validate says:\n%s\nwant:\n%s", got, strings.Join(wants, "\n"))
	}
	if !strings.Contains(r.stderr, "valid (7 nodes, 5 warnings)") {
		t.Errorf("summary: %q", r.stderr)
	}

	r = otpctl(t, nil, "validate", "--strict", file)
	if r.code != ExitFailure || strings.TrimSuffix(r.stdout, "\n") != strings.Join(wants, "\n") || !strings.Contains(r.stderr, "5 problems in 1 file") {
		t.Errorf("validate --strict: status %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	r = otpctl(t, nil, "validate", "--json", file)
	var got []problem
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 || len(got) != 5 {
		t.Fatalf("validate --json: status %d, %v\n%s", r.code, err, r.stdout)
	}
	if p := got[0]; p != (problem{File: file, Line: 4, Col: 46, Severity: "warning", Message: `args.command[0]: program "otpctl-no-such-program-x" is not found in PATH on this machine`}) {
		t.Errorf("first warning as JSON: %+v", p)
	}

	// A warning and an error together: the error fails it, the warning is
	// printed beside it.
	bad := writeTree(t, dir, "bad.yaml", `version: 1
supervisor:
  strategy: one_for_any
  children:
    - {name: a, kind: exec, args: {command: [otpctl-no-such-program-x]}}
`)
	r = otpctl(t, nil, "validate", bad)
	if r.code != ExitFailure || !strings.Contains(r.stdout, bad+":3:13: strategy:") || !strings.Contains(r.stdout, bad+":5:46: warning: ") ||
		!strings.Contains(r.stderr, "1 problem in 1 file") {
		t.Errorf("validate of a file with an error and a warning: status %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
