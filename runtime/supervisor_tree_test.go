package runtime_test

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// idleActor is a worker that does nothing: an actor, so that it holds no
// goroutine while idle.
func idleActor(p *runtime.Process) (runtime.Pid, error) {
	s, err := runtime.StartLink(p, runtime.Spec[struct{}, int]{
		Loop: func(_ *runtime.Process, _ int, st struct{}) runtime.Next[struct{}] { return runtime.Continue(st) },
	})
	return s.Owner(), err
}

// A wide tree starts in OTP's order (each supervisor's children in order,
// then the supervisor itself) and stops in the exact reverse, depth first.
// OTPCTL_BIG_TREE=1 runs it at 100 supervisors of 1,000 workers.
func TestSupervisorWideTreeOrder(t *testing.T) {
	sups, workers := 10, 50
	if testing.Short() {
		sups, workers = 4, 10
	}
	if os.Getenv("OTPCTL_BIG_TREE") != "" {
		sups, workers = 100, 1000
	}
	var events []runtime.Event // one goroutine at a time: start and stop are sequential
	hook := func(e runtime.Event) { events = append(events, e) }
	spec := runtime.SupervisorSpec{Flags: flags(runtime.OneForOne, 1), Path: "r", Events: hook}
	for i := 0; i < sups; i++ {
		sub := runtime.SupervisorSpec{Flags: flags(runtime.OneForOne, 1), Path: "r/s" + strconv.Itoa(i), Events: hook}
		for j := 0; j < workers; j++ {
			sub.Children = append(sub.Children, runtime.ChildSpec{ID: "w" + strconv.Itoa(j), Start: idleActor})
		}
		spec.Children = append(spec.Children, runtime.ChildSpec{ID: "s" + strconv.Itoa(i), Type: runtime.SupervisorChild,
			Start: func(p *runtime.Process) (runtime.Pid, error) {
				s, err := runtime.StartSupervisor(p, sub)
				if err != nil {
					return runtime.Pid{}, err
				}
				return s.Pid(), nil
			}})
	}
	t0 := time.Now()
	root, err := runtime.StartSupervisor(nil, spec)
	mustf(t, err, "start")
	started := time.Since(t0)
	snap, err := root.Snapshot()
	mustf(t, err, "snapshot")
	t1 := time.Now()
	if !shutdownWithin(root, time.Minute) {
		t.Fatal("the tree did not stop within a minute")
	}
	t.Logf("%d supervisors x %d workers: start %v, stop %v", sups, workers, started, time.Since(t1))

	running := 0
	for _, s := range snap.Children {
		for _, w := range s.Supervisor.Children {
			if w.State == runtime.StateRunning {
				running++
			}
		}
	}
	if running != sups*workers {
		t.Fatalf("%d workers running, want %d", running, sups*workers)
	}
	n := sups * (workers + 1)
	if len(events) != 2*n {
		t.Fatalf("%d events, want %d", len(events), 2*n)
	}
	k := 0
	next := func(typ runtime.EventType, path string, cause runtime.Cause) {
		e := events[k]
		if e.Type != typ || e.Path != path || e.Cause != cause {
			t.Fatalf("event %d is %s, want %s %s %s", k, line(e), typ, path, cause)
		}
		k++
	}
	for i := 0; i < sups; i++ {
		s := "r/s" + strconv.Itoa(i)
		for j := 0; j < workers; j++ {
			next(runtime.EventStarted, s+"/w"+strconv.Itoa(j), runtime.CauseBoot)
		}
		next(runtime.EventStarted, s, runtime.CauseBoot)
	}
	for i := sups - 1; i >= 0; i-- {
		s := "r/s" + strconv.Itoa(i)
		for j := workers - 1; j >= 0; j-- {
			next(runtime.EventTerminated, s+"/w"+strconv.Itoa(j), runtime.CauseShutdown)
		}
		next(runtime.EventTerminated, s, runtime.CauseShutdown)
	}
	for _, s := range snap.Children {
		for _, w := range s.Supervisor.Children {
			if w.Pid.Alive() {
				t.Fatalf("%s alive after stop", w.Path)
			}
		}
	}
}
