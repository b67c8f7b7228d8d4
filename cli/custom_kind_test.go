package cli

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCustomKindExample builds examples/custom-kind, otpctl with a kind of
// its own, and uses it as its README says: validate its tree, run it, call
// the custom kind (its args from the tree's named kind, its state kept
// between calls and lost on a restart), and shut it down with status 0.
func TestCustomKindExample(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "custom-kind")
	if out, err := exec.Command("go", "build", "-race", "-o", bin, "github.com/otpctl/otpctl/examples/custom-kind").CombinedOutput(); err != nil {
		t.Fatalf("building examples/custom-kind: %v\n%s", err, out)
	}
	const tree = "../examples/custom-kind/tree.yaml"

	if r := runBinary(t, bin, nil, "validate", tree); r.code != ExitOK || r.stdout != "" {
		t.Fatalf("validate: status %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	// Its args schema is checked as a built-in kind's is.
	bad := writeTree(t, dir, "bad.yaml", "version: 1\nsupervisor:\n  children:\n    - {name: g, kind: greeter, args: {greeting: 3}}\n")
	if r := runBinary(t, bin, nil, "validate", bad); r.code != ExitFailure || !strings.Contains(r.stdout, "bad.yaml:4:49: args.greeting: must be a string; got 3") {
		t.Fatalf("validate bad.yaml: status %d\nstdout %s", r.code, r.stdout)
	}
	// The plain otpctl does not know the kind, and says so.
	if r := otpctl(t, nil, "validate", tree); r.code != ExitFailure || !strings.Contains(r.stdout, `unknown kind "greeter"`) {
		t.Fatalf("otpctl validate: status %d\nstdout %s", r.code, r.stdout)
	}

	r := startRunBinary(t, bin, dir, tree, "--socket", filepath.Join(dir, "ctl.sock"))
	r.waitEvent(0, "started greet boot")
	for _, c := range [][3]string{
		{"greet/front", `{"op":"greet","name":"Joe"}`, `{"count":1,"message":"hello, Joe"}`},
		{"greet/front", `{"op":"greet","name":"Mike"}`, `{"count":2,"message":"hello, Mike"}`},
		{"greet/desk", `{"op":"greet","name":"Ann"}`, `{"count":1,"message":"good morning, Ann"}`},
		{"greet/visits", `{"op":"increment"}`, `{"value":1}`},
	} {
		if got := strings.TrimSpace(r.mustCtl("call", c[0], c[1])); got != c[2] {
			t.Errorf("call %s %s = %s, want %s", c[0], c[1], got, c[2])
		}
	}
	if res := r.ctl("call", "greet/front", `{"op":"wave"}`); res.code != ExitFailure || !strings.Contains(res.stderr, `unknown op "wave" (ops: greet)`) {
		t.Errorf("call wave: status %d, stderr %q", res.code, res.stderr)
	}
	if n := r.node("greet/desk"); n.Kind != "polite" || n.State != "running" {
		t.Errorf("greet/desk: kind %q, state %q", n.Kind, n.State)
	}

	from := r.count()
	r.mustCtl("kill", "greet/front")
	r.waitEvent(from, "started greet/front crash greet/front")
	if got := strings.TrimSpace(r.mustCtl("call", "greet/front", `{"op":"greet","name":"Joe"}`)); got != `{"count":1,"message":"hello, Joe"}` {
		t.Errorf("after the restart: %s, want a fresh count", got)
	}

	r.mustCtl("shutdown")
	if code := r.wait(); code != ExitOK {
		t.Fatalf("run exited %d; stderr:\n%s", code, r.stderr())
	}
	ev := r.events(0)
	want := []string{"terminated greet/visits shutdown shutdown", "terminated greet/desk shutdown shutdown",
		"terminated greet/front shutdown shutdown", "terminated greet shutdown shutdown"}
	if len(ev) < len(want) || strings.Join(ev[len(ev)-len(want):], "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant them to end with:\n%s", strings.Join(ev, "\n"), strings.Join(want, "\n"))
	}
}
