package otptest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/otpctl/otpctl/otptest"
	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/spec"
	"github.com/otpctl/otpctl/workers"
	_ "github.com/otpctl/otpctl/workers/builtin"
)

const backoffTree = `
version: 1
name: r
kinds:
  slow: {base: echo, backoff: 4s}
supervisor:
  max_frequency: 10
  period: 1m
  backoff: {initial: 1s, max: 8s, factor: 2}
  children:
    - {name: a, kind: echo}
    - {name: b, kind: slow}
    - {name: c, kind: slow, backoff: 3s}
`

// A tree file's backoff: the supervisor's is its children's default, a
// kind's overrides it, a child's own overrides both; tree shows the time
// left; an operator's start skips the wait.
func TestBackoffFromYAML(t *testing.T) {
	tr := otptest.StartYAML(t, backoffTree, otptest.WithFakeClock())
	for path, want := range map[string]time.Duration{"r/a": time.Second, "r/b": 4 * time.Second, "r/c": 3 * time.Second} {
		m := tr.Mark()
		tr.Kill(path, "boom")
		tr.AssertTrace(m, "exited "+path+" reason=boom")
		n := tr.Snapshot().Node(path)
		if n.State != runtime.StateRestarting || n.RestartIn != spec.FormatDuration(want) {
			t.Fatalf("%s: %s in %q, want restarting in %v", path, n.State, n.RestartIn, want)
		}
		tr.Advance(want)
		tr.AssertTrace(m, "exited "+path+" reason=boom", "started "+path+" cause=crash trigger="+path)
	}
	// The second crash of a waits twice as long; start skips the wait.
	m := tr.Mark()
	tr.Kill("r/a", "boom")
	tr.AssertTrace(m, "exited r/a reason=boom")
	if got := tr.Snapshot().Node("r/a").RestartIn; got != "2s" {
		t.Fatalf("second restart in %q, want 2s", got)
	}
	tr.Start("r/a")
	tr.AssertTrace(m, "exited r/a reason=boom", "started r/a cause=operator")
	tr.Advance(time.Minute)
	tr.AssertQuiet(m)
}

// A change of backoff is applied in place: the plan says updated, and the
// child keeps its process.
func TestBackoffReloadInPlace(t *testing.T) {
	tr := otptest.StartYAML(t, backoffTree, otptest.WithFakeClock())
	before := tr.Snapshot()
	newTree := strings.Replace(backoffTree, "backoff: 3s", "backoff: 5s", 1)
	newTree = strings.Replace(newTree, "factor: 2}", "factor: 3}", 1)
	old, err := spec.Parse("r.yaml", []byte(backoffTree), workers.Default)
	if err != nil {
		t.Fatal(err)
	}
	nt, err := spec.Parse("r.yaml", []byte(newTree), workers.Default)
	if err != nil {
		t.Fatal(err)
	}
	plan := spec.Diff(old, nt).String()
	for _, want := range []string{"~ r/c (backoff 3s → 5s: updated in place)", "~ r (supervisor.backoff"} {
		if !strings.Contains(plan, want) {
			t.Fatalf("plan lacks %q:\n%s", want, plan)
		}
	}
	m := tr.Mark()
	tr.Reload(newTree)
	after := tr.Snapshot()
	for _, p := range []string{"r/a", "r/b", "r/c"} {
		if before.Pid(p) != after.Pid(p) {
			t.Errorf("%s restarted by a change of backoff", p)
		}
	}
	if got := after.Node("r/c").Backoff; got != "5s" {
		t.Fatalf("r/c backoff %q after reload", got)
	}
	m = tr.Mark()
	tr.Kill("r/a", "boom")
	tr.AssertTrace(m, "exited r/a reason=boom")
	if got := tr.Snapshot().Node("r/a").Backoff; !strings.HasPrefix(got, "{initial: 1s, max: 8s, factor: 3") {
		t.Fatalf("r/a backoff %q after reload", got)
	}
}

// A backoff's values are checked with their position.
func TestBackoffValidate(t *testing.T) {
	for _, c := range []struct{ value, want string }{
		{"{initial: 2s, max: 1s}", "r.yaml:6:57: backoff.max: 1s is less than initial 2s"},
		{"{factor: 0.5}", "r.yaml:6:"},
		{"{jitter: 1}", "r.yaml:6:"},
		{"{initial: 0s}", "r.yaml:6:"},
		{"-1s", "r.yaml:6:"},
	} {
		y := "version: 1\nname: r\nsupervisor:\n  children:\n    - {name: a, kind: echo}\n    - {name: b, kind: echo, backoff: " + c.value + "}\n"
		_, err := spec.Parse("r.yaml", []byte(y), workers.Default)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("backoff %s: %v, want %q", c.value, err, c.want)
		}
	}
	y := "version: 1\nname: r\nsupervisor:\n  children:\n    - {name: a, kind: echo, backoff: {initial: 1s, max: 1m, factor: 1.5, jitter: 0.1, reset_after: 0}}\n"
	if _, err := spec.Parse("r.yaml", []byte(y), workers.Default); err != nil {
		t.Errorf("a full backoff: %v", err)
	}
}

// A pool's and a dynamic supervisor's backoff is their members' default.
func TestBackoffPoolAndDynamic(t *testing.T) {
	tr := otptest.StartYAML(t, `
version: 1
name: r
supervisor:
  children:
    - {name: p, pool: {kind: echo, size: 2, backoff: 2s}}
    - {name: d, dynamic: {kind: echo, backoff: 3s}}
`, otptest.WithFakeClock())
	child := tr.StartChild("r/d", "x", nil)
	for path, want := range map[string]string{"r/p/1": "2s", child: "3s"} {
		m := tr.Mark()
		tr.Kill(path, "boom")
		tr.AssertTrace(m, "exited "+path+" reason=boom")
		if n := tr.Snapshot().Node(path); n.State != runtime.StateRestarting || n.RestartIn != want {
			t.Fatalf("%s: %s in %q, want restarting in %s", path, n.State, n.RestartIn, want)
		}
	}
}

// `otpctl restart` of a child waiting for its backoff starts it now (it
// has no process to stop).
func TestBackoffOperatorRestart(t *testing.T) {
	tr := otptest.StartYAML(t, backoffTree, otptest.WithFakeClock())
	m := tr.Mark()
	tr.Kill("r/b", "boom")
	tr.AssertTrace(m, "exited r/b reason=boom")
	tr.Restart("r/b")
	tr.AssertTrace(m, "exited r/b reason=boom", "started r/b cause=operator")
	tr.Advance(time.Minute)
	tr.AssertQuiet(m)
}
