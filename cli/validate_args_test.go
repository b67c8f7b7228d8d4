package cli

import (
	"strings"
	"testing"
)

// Regression (issue 14, 8): `otpctl validate` passed args the kind's start
// refuses. It now refuses them with the arg's FILE:LINE:COL and status 1.
func TestValidateRefusesArgsTheStartRefuses(t *testing.T) {
	dir := t.TempDir()
	file := writeTree(t, dir, "t.yaml", `version: 1
supervisor:
  children:
    - {name: c, kind: counter, args: {initial: 99999999999999999999}}
    - {name: e, kind: exec, args: {command: [sleep, "1\u00000"], dir: "/tmp\u0000"}}
    - {name: k, kind: ticker, args: {interval: 9223372037}}
`)
	r := otpctl(t, nil, "validate", file)
	if r.code != ExitFailure {
		t.Fatalf("validate: status %d, want %d\n%s%s", r.code, ExitFailure, r.stdout, r.stderr)
	}
	for _, want := range []string{
		file + ":4:48: args.initial: must be a whole number from -9223372036854775808 to 9223372036854775807",
		file + `:5:53: args.command[1]: "1\x000" must not contain a NUL byte`,
		file + `:5:71: args.dir: "/tmp\x00" must not contain a NUL byte`,
		file + ":6:48: args.interval: must be a duration",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("validate says:\n%s\nwant a line with %q", r.stdout, want)
		}
	}
}
