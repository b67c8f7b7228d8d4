package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/otpctl/otpctl/otptest"
	"github.com/otpctl/otpctl/runtime"
)

func TestSupervisorStartsInOrderAndStopsInReverseDepthFirst(t *testing.T) {
	tt := newTree(t)
	root := tt.start(flags(runtime.OneForOne, 1),
		tt.worker("a"), tt.worker("b"),
		tt.sup("s", flags(runtime.RestForOne, 1), tt.worker("x"), tt.worker("y")),
		tt.worker("c"))
	tt.rec.expect(t,
		"started r/a boot",
		"started r/b boot",
		"started r/s/x boot",
		"started r/s/y boot",
		"started r/s boot",
		"started r/c boot")
	tt.stop(0)
	tt.rec.expect(t,
		"terminated r/c shutdown (shutdown)",
		"terminated r/s/y shutdown (shutdown)",
		"terminated r/s/x shutdown (shutdown)",
		"terminated r/s shutdown (shutdown)",
		"terminated r/b shutdown (shutdown)",
		"terminated r/a shutdown (shutdown)")
	tt.rec.noMore(t)
	if !errors.Is(root.Reason(), runtime.Shutdown) {
		t.Fatalf("root exited with %v, want shutdown", root.Reason())
	}
	for _, c := range tt.instances {
		if c.pid.Alive() {
			t.Errorf("%s still alive after the root stopped", c.path)
		}
	}
	// A stopped supervisor answers no more.
	if _, err := root.WhichChildren(); !errors.Is(err, runtime.ErrNoSupervisor) {
		t.Fatalf("WhichChildren after stop: %v", err)
	}
	if err := root.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown of a stopped supervisor: %v", err)
	}
}

// abc is a tree of three echo workers under r, with b's restart type and
// r's strategy to fill in.
const abc = `
version: 1
name: r
supervisor:
  strategy: %s
  children:
    - {name: a, kind: echo}
    - {name: b, kind: echo, restart: %s}
    - {name: c, kind: echo}
`

var strategies = []string{"one_for_one", "one_for_all", "rest_for_one"}

// OTP's do_restart: whether a child is restarted, by restart type and exit
// reason, and what each strategy restarts with it.
func TestSupervisorRestartDecision(t *testing.T) {
	rows := []struct {
		restart, reason string
		again           bool // restarted
	}{
		{"permanent", "normal", true},
		{"permanent", "shutdown", true},
		{"permanent", "boom", true},
		{"permanent", "killed", true},
		{"transient", "normal", false},
		{"transient", "shutdown", false},
		{"transient", "boom", true},
		{"transient", "killed", true},
		{"temporary", "normal", false},
		{"temporary", "shutdown", false},
		{"temporary", "boom", false},
		{"temporary", "killed", false},
		// OTP's {shutdown, Term}: `otpctl kill --reason shutdown:TEXT`.
		{"permanent", "shutdown:maintenance", true},
		{"transient", "shutdown:maintenance", false},
		{"temporary", "shutdown:maintenance", false},
	}
	// What follows "exited r/b" when b is restarted, by strategy.
	restarted := map[string][]string{
		"one_for_one": {
			"started r/b cause=crash trigger=r/b",
		},
		"one_for_all": {
			"terminated r/c cause=sibling trigger=r/b reason=shutdown",
			"terminated r/a cause=sibling trigger=r/b reason=shutdown",
			"started r/a cause=sibling trigger=r/b",
			"started r/b cause=crash trigger=r/b",
			"started r/c cause=sibling trigger=r/b",
		},
		"rest_for_one": {
			"terminated r/c cause=sibling trigger=r/b reason=shutdown",
			"started r/b cause=crash trigger=r/b",
			"started r/c cause=sibling trigger=r/b",
		},
	}
	for _, strategy := range strategies {
		for _, row := range rows {
			t.Run(strategy+"/"+row.restart+"/"+row.reason, func(t *testing.T) {
				tr := otptest.StartYAML(t, fmt.Sprintf(abc, strategy, row.restart), otptest.WithFakeClock())
				m := tr.Mark()
				tr.Kill("r/b", row.reason)
				want, children := []string{"exited r/b reason=" + row.reason}, "a:running b:running c:running"
				switch {
				case row.again:
					want = append(want, restarted[strategy]...)
				case row.restart == "temporary":
					children = "a:running c:running" // removed
				default:
					children = "a:running b:stopped c:running" // kept, not running
				}
				tr.AssertTrace(m, want...)
				if got := tr.Snapshot().Children("r"); got != children {
					t.Fatalf("children %q, want %q", got, children)
				}
			})
		}
	}
}

// OTP's {shutdown, Term} is a shutdown too: a transient child that exits
// with it is not restarted. (No text given to Kill reads as it.)
func TestSupervisorTransientShutdownWithTerm(t *testing.T) {
	tt := newTree(t)
	root := tt.start(flags(runtime.OneForOne, 1), tt.worker("a", restart(runtime.Transient)))
	tt.rec.expect(t, "started r/a boot")
	tt.exit("r/a", fmt.Errorf("stopping: %w", runtime.Shutdown))
	tt.rec.expect(t, "exited r/a (stopping: shutdown)")
	if got := tt.ids(root); got != "a:stopped" {
		t.Fatalf("children %q, want a:stopped", got)
	}
	tt.quiet()
}

// A temporary sibling terminated by a one_for_all or rest_for_one restart is
// removed, not restarted; a transient one is restarted with the others, as is
// a child that an operator had stopped.
func TestSupervisorSiblingRestartRemovesTemporaryRestartsStopped(t *testing.T) {
	for _, strategy := range strategies[1:] {
		t.Run(strategy, func(t *testing.T) {
			tr := otptest.StartYAML(t, fmt.Sprintf(`
version: 1
name: r
supervisor:
  strategy: %s
  children:
    - {name: a, kind: echo}
    - {name: t, kind: echo, restart: temporary}
    - {name: u, kind: echo, restart: transient}
    - {name: o, kind: echo}
`, strategy), otptest.WithFakeClock())
			m := tr.Mark()
			tr.Stop("r/o")
			tr.Kill("r/a", "boom")
			tr.AssertTrace(m,
				"terminated r/o cause=operator reason=shutdown",
				"exited r/a reason=boom",
				"terminated r/u cause=sibling trigger=r/a reason=shutdown",
				"terminated r/t cause=sibling trigger=r/a reason=shutdown",
				"started r/a cause=crash trigger=r/a",
				"started r/u cause=sibling trigger=r/a",
				"started r/o cause=sibling trigger=r/a")
			if got, want := tr.Snapshot().Children("r"), "a:running u:running o:running"; got != want {
				t.Fatalf("children %q, want %q", got, want)
			}
		})
	}
}
