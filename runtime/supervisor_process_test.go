package runtime_test

import (
	"errors"
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// A supervisor is a process: monitored, linked, killed, stopped by its
// parent; exit signals from others are ignored, as in OTP.
func TestSupervisorIsAProcess(t *testing.T) {
	t.Run("signals from others are ignored", func(t *testing.T) {
		tt := newTree(t)
		root := tt.start(flags(runtime.OneForOne, 1), tt.worker("a"))
		tt.rec.cursor = tt.rec.len()
		runtime.Exit(root.Pid(), runtime.Shutdown)
		runtime.Exit(root.Pid(), boom)
		tt.quiet()
		if !root.Pid().Alive() {
			t.Fatal("a supervisor died of a signal from a stranger")
		}
	})
	t.Run("killed", func(t *testing.T) {
		tt := newTree(t)
		me, detach := runtime.Attach()
		defer detach()
		root := tt.start(flags(runtime.OneForOne, 1), tt.worker("a"), tt.sup("s", flags(runtime.OneForOne, 1), tt.worker("x")))
		tt.rec.cursor = tt.rec.len()
		mon := me.Monitor(root.Pid())
		runtime.Exit(root.Pid(), runtime.Killed)
		d, err := runtime.NewSelector[runtime.Down]().SelectingProcessDown(mon, func(d runtime.Down) runtime.Down { return d }).Select(me, wait)
		mustf(t, err, "down")
		if d.Reason != runtime.Killed {
			t.Fatalf("down %v", d.Reason)
		}
		// a dies through its link, and r reports it as it unwinds; s
		// traps it, stops x first and reports itself, at the same time.
		tt.rec.expectSet(t, "terminated r/a escalation <-r (killed)",
			"terminated r/s/x escalation <-r (shutdown)", "terminated r/s escalation <-r (killed)")
		<-root.Done()
		<-tt.supervisor("r/s").Done()
		for _, c := range tt.instances {
			if c.pid.Alive() {
				t.Errorf("%s outlived its supervisor", c.path)
			}
		}
		if !errors.Is(tt.supervisor("r/s").Reason(), runtime.Killed) {
			t.Fatalf("r/s exited with %v", tt.supervisor("r/s").Reason())
		}
	})
	t.Run("parent exits", func(t *testing.T) {
		tt := newTree(t)
		parentDone := make(chan struct{})
		var sup *runtime.Supervisor
		started := make(chan error, 1)
		runtime.Spawn(func(p *runtime.Process) {
			var err error
			sup, err = runtime.StartSupervisor(p, tt.supSpec("r", flags(runtime.OneForOne, 1), tt.worker("a"), tt.worker("b")))
			started <- err
			<-parentDone
			p.SendExit(p.Self(), boom)
		}, runtime.WithClock(tt.clock))
		mustf(t, <-started, "start under a plain process")
		tt.rec.cursor = tt.rec.len()
		close(parentDone)
		tt.rec.expect(t, "terminated r/b shutdown (shutdown)", "terminated r/a shutdown (shutdown)")
		<-sup.Done()
		if !errors.Is(sup.Reason(), boom) {
			t.Fatalf("exited with %v, want the parent's reason", sup.Reason())
		}
	})
	t.Run("start under a dead parent", func(t *testing.T) {
		tt := newTree(t)
		dead, detach := runtime.Attach()
		detach()
		_, err := runtime.StartSupervisor(dead, tt.supSpec("r", flags(runtime.OneForOne, 1), tt.worker("a")))
		if !errors.Is(err, runtime.NoProc) {
			t.Fatalf("start under a dead parent: %v", err)
		}
		tt.rec.noMore(t)
	})
}

// The snapshot: states, pids, restart counts, times, budget, nested
// supervisors, taken while the tree runs.
func TestSupervisorSnapshot(t *testing.T) {
	tt := newTree(t)
	t0 := tt.clock.Now()
	root := tt.start(runtime.Flags{Strategy: runtime.OneForOne, MaxFrequency: 3, Period: 10 * time.Second},
		tt.worker("a"), tt.worker("b", restart(runtime.Transient), shutdown(runtime.BrutalKill)),
		tt.sup("s", flags(runtime.OneForOne, 2), tt.worker("x")),
		tt.scripted("f", func(n int, p *runtime.Process, start func() (runtime.Pid, error)) (runtime.Pid, error) {
			if n == 2 {
				return runtime.Pid{}, nope
			}
			return start()
		}, restart(runtime.Temporary)))
	tt.rec.cursor = tt.rec.len()

	tt.clock.Advance(2 * time.Second)
	tt.exit("r/a", boom)
	tt.rec.expect(t, "exited r/a (boom)", "started r/a crash <-r/a")
	tt.clock.Advance(2 * time.Second)
	tt.exit("r/a", boom)
	tt.rec.expect(t, "exited r/a (boom)", "started r/a crash <-r/a")
	tt.exit("r/b", runtime.Normal)
	tt.rec.expect(t, "exited r/b (normal)")
	tt.clock.Advance(time.Second)
	tt.exit("r/s/x", boom)
	tt.rec.expect(t, "exited r/s/x (boom)", "started r/s/x crash <-r/s/x")
	mustf(t, root.TerminateChild("f"), "terminate f")
	tt.rec.expect(t, "terminated r/f operator (shutdown)")
	_, err := root.StartChild(tt.worker("f")("r"))
	mustf(t, err, "start f again")
	tt.rec.expect(t, "started r/f operator")
	tt.clock.Advance(8 * time.Second) // the first restart of a leaves the window

	snap, err := root.Snapshot()
	mustf(t, err, "snapshot")
	now := tt.clock.Now()
	if snap.Path != "r" || snap.Pid != root.Pid() || snap.Dynamic || !snap.Taken.Equal(now) {
		t.Fatalf("root: %+v", snap)
	}
	if want := (runtime.Budget{Used: 1, Max: 3, Period: 10 * time.Second}); snap.Budget != want {
		t.Fatalf("budget %+v, want %+v", snap.Budget, want)
	}
	if len(snap.Children) != 4 {
		t.Fatalf("children: %+v", snap.Children)
	}
	a, b, s, f := snap.Children[0], snap.Children[1], snap.Children[2], snap.Children[3]
	check := func(name string, ok bool, c runtime.ChildSnapshot) {
		t.Helper()
		if !ok {
			t.Fatalf("%s: %+v", name, c)
		}
	}
	check("a", a.ID == "a" && a.Path == "r/a" && a.State == runtime.StateRunning && a.Pid == tt.child("r/a").pid &&
		a.Restarts == 2 && a.LastRestart.Equal(t0.Add(4*time.Second)) && a.Started.Equal(t0.Add(4*time.Second)) &&
		a.Shutdown == runtime.DefaultWorkerShutdown && a.Restart == runtime.Permanent && a.Kind == "test", a)
	check("b", b.State == runtime.StateStopped && b.Pid.IsZero() && b.Restarts == 0 && b.LastRestart.IsZero() &&
		b.Started.Equal(t0) && b.Shutdown == runtime.BrutalKill && b.Restart == runtime.Transient, b)
	check("s", s.Type == runtime.SupervisorChild && s.State == runtime.StateRunning && s.Shutdown == runtime.Infinity &&
		s.Restarts == 0 && s.Supervisor != nil, s)
	check("f", f.State == runtime.StateRunning && f.Restarts == 0 && f.Started.Equal(t0.Add(5*time.Second)), f)
	ns := s.Supervisor
	if ns.Path != "r/s" || ns.Pid != s.Pid || ns.Budget != (runtime.Budget{Used: 0, Max: 2, Period: 5 * time.Second}) /* x's restart is 8s old */ ||
		len(ns.Children) != 1 {
		t.Fatalf("nested: %+v", ns)
	}
	x := ns.Children[0]
	check("x", x.Path == "r/s/x" && x.Restarts == 1 && x.LastRestart.Equal(t0.Add(5*time.Second)) && x.Pid == tt.child("r/s/x").pid, x)

	// A snapshot is taken without stopping anything: the same pids run.
	tt.quiet()
	again, _ := root.Snapshot()
	for i := range again.Children {
		if again.Children[i].Pid != snap.Children[i].Pid {
			t.Fatalf("%s changed pid across snapshots", again.Children[i].Path)
		}
	}
}

// A failed (reload or operator) start and a pending restart show as such.
func TestSupervisorSnapshotStates(t *testing.T) {
	tt := newTree(t)
	var states []runtime.ChildState
	var root *runtime.Supervisor
	var answered <-chan struct{}
	root = tt.start(flags(runtime.OneForOne, 5), tt.worker("a"),
		tt.scripted("r", func(n int, p *runtime.Process, start func() (runtime.Pid, error)) (runtime.Pid, error) {
			if n == 2 {
				answered = queue(p, func() {
					snap, _ := root.Snapshot()
					for _, c := range snap.Children {
						states = append(states, c.State)
					}
				})
				return runtime.Pid{}, nope
			}
			return start()
		}))
	tt.rec.cursor = tt.rec.len()
	tt.exit("r/r", boom)
	tt.rec.expect(t, "exited r/r (boom)", "start_failed r/r crash <-r/r (nope)", "started r/r crash <-r/r")
	<-answered
	if len(states) != 2 || states[0] != runtime.StateRunning || states[1] != runtime.StateRestarting {
		t.Fatalf("states while restarting: %v", states)
	}
	tt.failNext("r/n", nope)
	root.Apply(runtime.InsertChild{Pos: 5, Spec: tt.worker("n")("r")})
	if got, want := tt.ids(root), "a:running r:running n:failed"; got != want {
		t.Fatalf("children %q, want %q", got, want)
	}
}
