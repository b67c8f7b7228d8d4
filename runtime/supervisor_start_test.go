package runtime_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// slowStart is a child whose init does not return until it is released or
// gets an exit signal: with trap set it traps exits and returns the
// signal's reason (as an OS process's readiness wait does), with ignore too
// it ignores them and waits on (only a kill ends it).
type slowStart struct {
	trap, ignore bool
	release      chan struct{}
	inits        chan runtime.Pid // each init's process, as it begins
}

func newSlowStart(trap, ignore bool) *slowStart {
	return &slowStart{trap: trap, ignore: ignore, release: make(chan struct{}), inits: make(chan runtime.Pid, 8)}
}

func (s *slowStart) start(parent *runtime.Process) (runtime.Pid, error) {
	sub, err := runtime.StartLink(parent, runtime.Spec[int, int]{
		Init: func(p *runtime.Process, self runtime.Subject[int], sel *runtime.Selector[int]) (int, error) {
			p.TrapExits(s.trap)
			exits := runtime.NewSelector[runtime.ExitMessage]().SelectingTrappedExits(func(m runtime.ExitMessage) runtime.ExitMessage { return m })
			s.inits <- p.Self()
			for {
				select {
				case <-s.release:
					return 0, nil
				default:
				}
				m, err := exits.Select(p, 5*time.Millisecond)
				if err == nil && !s.ignore {
					return 0, m.Reason
				}
			}
		},
		Loop: func(_ *runtime.Process, _ int, n int) runtime.Next[int] { return runtime.Continue(n) },
	})
	return sub.Owner(), err
}

// quick starts a child that is ready at once and then waits forever.
func quick(parent *runtime.Process) (runtime.Pid, error) {
	return runtime.SpawnLink(parent, func(p *runtime.Process) {
		runtime.Receive(p, runtime.NewSubject[int](p), runtime.Forever)
	}), nil
}

// awaitStarting takes snapshots of sup until the child at path is
// StateStarting, and returns that child's snapshot.
func awaitStarting(t *testing.T, sup *runtime.Supervisor, path string) runtime.ChildSnapshot {
	t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		answered := make(chan runtime.SupervisorSnapshot, 1)
		go func() {
			if snap, err := sup.Snapshot(); err == nil {
				answered <- snap
			}
		}()
		select {
		case snap := <-answered:
			var found *runtime.ChildSnapshot
			walkChildren(&snap, func(c runtime.ChildSnapshot) {
				if c.Path == path && c.State == runtime.StateStarting {
					found = &c
				}
			})
			if found != nil {
				return *found
			}
		case <-time.After(time.Until(deadline)):
			t.Fatalf("Snapshot does not answer while %s starts", path)
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%s is never seen starting", path)
	return runtime.ChildSnapshot{}
}

func walkChildren(s *runtime.SupervisorSnapshot, f func(runtime.ChildSnapshot)) {
	for _, c := range s.Children {
		f(c)
		if c.Supervisor != nil {
			walkChildren(c.Supervisor, f)
		}
	}
}

// Regression (issue 14): a supervisor blocked in a child's start answered
// no snapshot and ignored Shutdown until the start returned. Now the child
// shows as starting, and Shutdown stops it as any child, then the started
// ones in reverse order; the children after it never start.
func TestSupervisorAnswersAndStopsDuringAChildStart(t *testing.T) {
	rec := newRecorder()
	slow := newSlowStart(true, false)
	defer close(slow.release)
	sup, err := runtime.SpawnSupervisor(runtime.SupervisorSpec{Path: "r", Events: rec.hook, Children: []runtime.ChildSpec{
		{ID: "a", Start: quick},
		{ID: "b", Start: slow.start},
		{ID: "c", Start: quick},
	}})
	mustf(t, err, "spawn")
	b := awaitStarting(t, sup, "r/b")
	if b.Pid.IsZero() || !b.Pid.Alive() {
		t.Errorf("the starting child's pid %v: want its live process", b.Pid)
	}
	snap, err := sup.Snapshot()
	mustf(t, err, "snapshot")
	if len(snap.Children) != 2 || snap.Children[0].State != runtime.StateRunning {
		t.Errorf("snapshot during b's start: %+v", snap.Children)
	}
	select {
	case <-sup.Started():
		t.Fatal("Started is closed while b starts")
	default:
	}

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	mustf(t, sup.Shutdown(ctx), "shutdown during b's start")
	rec.expect(t,
		"started r/a boot",
		"terminated r/b shutdown (shutdown)",
		"terminated r/a shutdown (shutdown)")
	rec.noMore(t)
	if err := sup.StartErr(); !errors.Is(err, runtime.Shutdown) {
		t.Errorf("StartErr %v: want one wrapping shutdown", err)
	}
	if !errors.Is(sup.Reason(), runtime.Shutdown) || b.Pid.Alive() {
		t.Errorf("reason %v, b alive %v", sup.Reason(), b.Pid.Alive())
	}
}

// A nested supervisor starting a child that ignores the exit signal
// Shutdown: its parent's exit signal stops the start, the child is killed
// when its shutdown time passes, and StartSupervisor (in the parent's
// start) fails; the events say who stopped what.
func TestNestedSupervisorStopsAChildStartOnItsParentsExit(t *testing.T) {
	rec := newRecorder()
	stuck := newSlowStart(true, true)
	defer close(stuck.release)
	nested := func(parent *runtime.Process) (runtime.Pid, error) {
		s, err := runtime.StartSupervisor(parent, runtime.SupervisorSpec{Path: "r/n", Events: rec.hook, Children: []runtime.ChildSpec{
			{ID: "w", Start: quick},
			{ID: "s", Start: stuck.start, Shutdown: runtime.ShutdownPolicy(20 * time.Millisecond)},
		}})
		if err != nil {
			return runtime.Pid{}, err
		}
		return s.Pid(), nil
	}
	sup, err := runtime.SpawnSupervisor(runtime.SupervisorSpec{Path: "r", Events: rec.hook, Children: []runtime.ChildSpec{
		{ID: "first", Start: quick},
		{ID: "n", Start: nested, Type: runtime.SupervisorChild},
	}})
	mustf(t, err, "spawn")
	s := awaitStarting(t, sup, "r/n/s")
	<-stuck.inits // it traps exits by now: the exit signal Shutdown cannot end it
	awaitStarting(t, sup, "r/n")
	if !shutdownWithin(sup, wait) {
		t.Fatal("the root did not stop")
	}
	rec.expect(t,
		"started r/first boot",
		"started r/n/w boot",
		"terminated r/n/s shutdown (killed)",
		"terminated r/n/w shutdown (shutdown)",
		"terminated r/n shutdown (shutdown)",
		"terminated r/first shutdown (shutdown)")
	rec.noMore(t)
	if s.Pid.Alive() {
		t.Error("the stuck child is alive")
	}
}

// After the start, a restart whose start blocks shows as starting, and
// Shutdown stops it too.
func TestShutdownStopsARestartInProgress(t *testing.T) {
	rec := newRecorder()
	slow := newSlowStart(false, false)
	defer close(slow.release)
	first := true
	start := func(parent *runtime.Process) (runtime.Pid, error) {
		if first {
			first = false
			return quick(parent)
		}
		return slow.start(parent)
	}
	sup, err := runtime.StartSupervisor(nil, runtime.SupervisorSpec{Flags: runtime.DefaultFlags(), Path: "r", Events: rec.hook, Children: []runtime.ChildSpec{
		{ID: "k", Start: start},
	}})
	mustf(t, err, "start")
	kids, err := sup.WhichChildren()
	mustf(t, err, "which_children")
	runtime.Exit(kids[0].Pid, boom)
	k := awaitStarting(t, sup, "r/k")
	if !shutdownWithin(sup, wait) {
		t.Fatal("the supervisor did not stop")
	}
	rec.expect(t,
		"started r/k boot",
		"exited r/k ("+boom.Error()+")",
		"terminated r/k shutdown (shutdown)")
	rec.noMore(t)
	if k.Pid.Alive() {
		t.Error("the child whose restart was stopped is alive")
	}
}
