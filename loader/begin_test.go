package loader

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/spec"
	"github.com/otpctl/otpctl/workers"
)

// waitingKinds are testKinds plus "waiting": its init never returns by
// itself; it traps exits and fails with the first exit signal's reason, as
// an exec worker waiting for its readiness does.
func waitingKinds() *workers.Registry {
	reg := testKinds()
	reg.Register(workers.Kind{Name: "waiting", Start: func(parent *runtime.Process, w workers.Worker) (workers.Instance, error) {
		self, err := runtime.StartLink(parent, runtime.Spec[int, int]{
			InitTimeout: time.Hour,
			Init: func(p *runtime.Process, _ runtime.Subject[int], _ *runtime.Selector[int]) (int, error) {
				p.TrapExits(true)
				sel := runtime.NewSelector[error]().SelectingTrappedExits(func(m runtime.ExitMessage) error { return m.Reason })
				reason, err := sel.Select(p, runtime.Forever)
				if err != nil {
					return 0, err
				}
				return 0, reason
			},
			Loop: func(_ *runtime.Process, _ int, n int) runtime.Next[int] { return runtime.Continue(n) },
		})
		return workers.Instance{Pid: self.Owner()}, err
	}})
	return reg
}

// awaitStartingNode takes snapshots until the node at path is starting.
func awaitStartingNode(t *testing.T, r *Running, path string) *live.Node {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		snap, err := r.Snapshot()
		if err != nil {
			t.Fatalf("snapshot during the start: %v", err)
		}
		if n := snap.Find(path); n != nil && n.State == runtime.StateStarting {
			if snap.State != runtime.StateStarting {
				t.Errorf("the root is %s while %s starts", snap.State, path)
			}
			return n
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%s is never seen starting", path)
	return nil
}

// Regression (issue 14): the tree could not be seen or stopped before
// every node had started. Begin returns it at once; Snapshot shows the node
// being started, and Shutdown stops it and the started ones in reverse.
func TestBeginShowsTheStartingNodeAndShutdownStopsIt(t *testing.T) {
	rec := newRecorder()
	st := tree(sup("shop", spec.OneForOne, w("db", "echo"),
		sup("back", spec.OneForOne, w("slow", "waiting"), w("after", "echo")), w("web", "echo")))
	r, err := Begin(st, Options{Registry: waitingKinds(), Events: rec.Add, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	n := awaitStartingNode(t, r, "shop/back/slow")
	if n.Proc.IsZero() {
		t.Error("the starting node has no pid")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown during the start: %v", err)
	}
	if err := r.StartErr(); err == nil || !strings.Contains(err.Error(), "stopped while it started") {
		t.Errorf("StartErr %v", err)
	}
	want := []string{
		"started shop/db boot",
		"terminated shop/back/slow shutdown shutdown",
		"terminated shop/back shutdown shutdown",
		"terminated shop/db shutdown shutdown",
		"terminated shop shutdown shutdown",
	}
	if got := rec.lines(0); !slices.Equal(got, want) {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Start's ctx used to be seen only once the start in progress returned;
// now its end stops the start at once.
func TestStartContextStopsAStartInProgress(t *testing.T) {
	st := tree(sup("shop", spec.OneForOne, w("db", "echo"), w("slow", "waiting")))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := Start(ctx, st, Options{Registry: waitingKinds(), Log: quiet}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}
