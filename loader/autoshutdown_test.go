package loader

import (
	"context"
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/spec"
)

// significant makes n a significant child with restart r.
func significant(n *spec.Node, restart string) *spec.Node {
	n.Restart, n.Significant = restart, true
	return n
}

// autoShut makes the supervisor n shut down when any significant child
// exits.
func autoShut(n *spec.Node) *spec.Node {
	n.Supervisor.AutoShutdown = spec.AnySignificant
	return n
}

func waitDone(t *testing.T, r *Running) {
	t.Helper()
	select {
	case <-r.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the tree did not stop")
	}
}

// AutoShutdownCause names the significant child whose exit ended the
// tree, following a nested supervisor that shut down by its own
// auto_shutdown down to the child that set it off.
func TestAutoShutdownCause(t *testing.T) {
	cases := []struct {
		name   string
		root   *spec.Node
		kill   string
		reason string
		path   string
		normal bool
	}{
		{"a worker", autoShut(sup("app", spec.OneForOne, w("a", "echo"), significant(w("job", "echo"), spec.Temporary))),
			"app/job", "boom", "app/job", false},
		{"a worker's normal exit", autoShut(sup("app", spec.OneForOne, w("a", "echo"), significant(w("job", "echo"), spec.Transient))),
			"app/job", "normal", "app/job", true},
		{"through a nested supervisor", autoShut(sup("app", spec.OneForOne, w("a", "echo"),
			significant(autoShut(sup("s", spec.OneForOne, w("b", "echo"), significant(w("x", "echo"), spec.Temporary))), spec.Transient))),
			"app/s/x", "exit 9", "app/s/x", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, _ := start(t, tree(c.root), nil)
			if _, _, ok := r.AutoShutdownCause(); ok || r.Stopping() {
				t.Fatalf("a running tree: AutoShutdownCause ok, or Stopping")
			}
			if err := r.Kill(c.kill, c.reason); err != nil {
				t.Fatal(err)
			}
			waitDone(t, r)
			path, reason, ok := r.AutoShutdownCause()
			if !ok || path != c.path || ReasonText(reason) != c.reason || runtime.IsAbnormal(reason) == c.normal {
				t.Errorf("AutoShutdownCause = %q, %v, %v; want %s, %s", path, reason, ok, c.path, c.reason)
			}
			if !r.Stopping() {
				t.Error("a stopped tree is not Stopping")
			}
		})
	}
}

// A tree that was stopped, or whose root gave up, did not end by
// auto_shutdown, even with a significant child's exit behind it.
func TestAutoShutdownCauseNotWhenStopped(t *testing.T) {
	r, _ := start(t, tree(autoShut(sup("app", spec.OneForOne, w("a", "echo"), significant(w("job", "echo"), spec.Transient)))), nil)
	if err := r.Kill("app/job", "boom"); err != nil { // transient, abnormal: restarted
		t.Fatal(err)
	}
	if r.Stopping() {
		t.Error("Stopping after a child's restart")
	}
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p, reason, ok := r.AutoShutdownCause(); ok || !r.Stopping() {
		t.Errorf("after Shutdown: AutoShutdownCause %q %v %v, Stopping %v", p, reason, ok, r.Stopping())
	}

	g, rec := start(t, tree(autoShut(sup("app", spec.OneForOne, w("a", "echo"), significant(w("job", "echo"), spec.Transient)))), nil)
	for i := range 4 { // past max_frequency 3 in 5s
		m := rec.Len()
		if err := g.Kill("app/a", "boom"); err != nil {
			t.Fatal(err)
		}
		if i < 3 {
			rec.wait(t, m, "started app/a")
		}
	}
	waitDone(t, g)
	if p, reason, ok := g.AutoShutdownCause(); ok || !g.GaveUp() {
		t.Errorf("after a give-up: AutoShutdownCause %q %v %v, GaveUp %v", p, reason, ok, g.GaveUp())
	}
}

// A tree that shuts itself down (auto_shutdown) is Stopping from its first
// child's termination on, not only once it is done: GET /healthz says so
// while a slow child stops.
func TestStoppingDuringAutoShutdown(t *testing.T) {
	slow := w("slow", "stubborn") // never stops by itself: killed after its shutdown
	slow.Shutdown = spec.Shutdown(30 * time.Second)
	r, rec := start(t, tree(autoShut(sup("app", spec.OneForOne, slow, w("a", "echo"), significant(w("job", "echo"), spec.Temporary)))), nil)
	m := rec.Len()
	if err := r.Kill("app/job", "normal"); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, m, "terminated app/a shutdown shutdown app/job")
	select {
	case <-r.Done():
		t.Fatal("the tree is done before its slow child stopped")
	default:
	}
	if !r.Stopping() {
		t.Error("not Stopping while the root shuts down by auto_shutdown")
	}
	r.Halt() // do not wait for slow's shutdown
	waitDone(t, r)
}
