package runtime_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// dynamic starts a dynamic root supervisor "r" whose template is a test
// child of kind echo.
func (tt *tree) dynamic(f runtime.Flags, maxChildren int, opts ...opt) *runtime.Supervisor {
	tt.t.Helper()
	tmpl := runtime.ChildSpec{Kind: "echo"}
	var b behaviour
	for _, o := range opts {
		o(&tmpl, &b)
	}
	tt.dynBehaviour = b
	spec := runtime.SupervisorSpec{Flags: f, Path: "r", Events: tt.rec.hook,
		Dynamic: &runtime.DynamicSpec{Template: tmpl, MaxChildren: maxChildren}}
	s, err := runtime.StartSupervisor(nil, spec, runtime.WithClock(tt.clock))
	if err != nil {
		tt.t.Fatalf("start: %v", err)
	}
	tt.mu.Lock()
	tt.root, tt.sups["r"] = s, s
	tt.mu.Unlock()
	return s
}

// startDyn starts a child of the dynamic root, named name ("" to have one
// made), with its own start function, as a loader would.
func (tt *tree) startDyn(name string) (runtime.Pid, error) {
	return tt.supervisor("r").StartChild(runtime.ChildSpec{ID: name, Start: tt.startFunc("r/?", tt.dynBehaviour)})
}

// startDynN starts n children with generated names.
func (tt *tree) startDynN(n int) {
	tt.t.Helper()
	for i := 0; i < n; i++ {
		_, err := tt.startDyn("")
		mustf(tt.t, err, "start a dynamic child")
	}
}

func TestSupervisorDynamic(t *testing.T) {
	t.Run("names, max_children, count", func(t *testing.T) {
		tt := newTree(t)
		root := tt.dynamic(flags(runtime.OneForOne, 1), 3)
		for _, name := range []string{"", "", "mine"} {
			_, err := tt.startDyn(name)
			mustf(t, err, "start %q", name)
		}
		tt.rec.expect(t, "started r/echo-1 operator", "started r/echo-2 operator", "started r/mine operator")
		if _, err := tt.startDyn(""); !errors.Is(err, runtime.ErrMaxChildren) {
			t.Fatalf("past max_children: %v", err)
		}
		if _, err := tt.startDyn("mine"); !errors.Is(err, runtime.ErrMaxChildren) {
			t.Fatalf("past max_children: %v", err)
		}
		n, err := root.CountChildren()
		mustf(t, err, "count")
		// OTP: one spec (the template) for a simple_one_for_one.
		if want := (runtime.Counts{Specs: 1, Active: 3, Workers: 3}); n != want {
			t.Fatalf("count_children %+v, want %+v", n, want)
		}
		mustf(t, root.TerminateChild("echo-1"), "terminate echo-1")
		tt.rec.expect(t, "terminated r/echo-1 operator (shutdown)")
		// A generated name skips the names in use; the counter goes on.
		_, err = tt.startDyn("echo-3")
		mustf(t, err, "start echo-3")
		_, err = tt.startDyn("")
		if !errors.Is(err, runtime.ErrMaxChildren) {
			t.Fatalf("past max_children: %v", err)
		}
		mustf(t, root.TerminateChild("mine"), "terminate mine")
		_, err = tt.startDyn("")
		mustf(t, err, "start")
		tt.rec.expect(t, "started r/echo-3 operator", "terminated r/mine operator (shutdown)", "started r/echo-4 operator")
		if _, err := tt.startDyn("echo-4"); !errors.Is(err, runtime.ErrMaxChildren) {
			t.Fatalf("past max_children: %v", err)
		}
		if got, want := tt.ids(root), "echo-2:running echo-3:running echo-4:running"; got != want {
			t.Fatalf("children %q, want %q", got, want)
		}
		// What a dynamic supervisor does not have (OTP's simple_one_for_one).
		if _, err := root.RestartChild("echo-2"); !errors.Is(err, runtime.ErrDynamic) {
			t.Fatalf("restart_child: %v", err)
		}
		if err := root.DeleteChild("echo-2"); !errors.Is(err, runtime.ErrDynamic) {
			t.Fatalf("delete_child: %v", err)
		}
		if _, err := root.Apply(runtime.InsertChild{Pos: 0, Spec: tt.worker("x")("r")}); !errors.Is(err, runtime.ErrDynamic) {
			t.Fatalf("insert: %v", err)
		}
		if err := change(root, runtime.SetFlags{Flags: flags(runtime.OneForAll, 1)}); !errors.Is(err, runtime.ErrInvalidSpec) {
			t.Fatalf("one_for_all on a dynamic supervisor: %v", err)
		}
		if err := root.TerminateChild("nope"); !errors.Is(err, runtime.ErrNotFound) {
			t.Fatalf("terminate unknown: %v", err)
		}
	})
	for _, c := range []struct {
		restart runtime.RestartType
		reason  error
		again   bool
	}{
		{runtime.Permanent, runtime.Normal, true},
		{runtime.Permanent, boom, true},
		{runtime.Transient, runtime.Normal, false},
		{runtime.Transient, runtime.Shutdown, false},
		{runtime.Transient, runtime.Killed, true},
		{runtime.Temporary, boom, false},
	} {
		t.Run(fmt.Sprintf("restart %v after %v", c.restart, c.reason), func(t *testing.T) {
			tt := newTree(t)
			root := tt.dynamic(flags(runtime.OneForOne, 1), 0, restart(c.restart))
			tt.startDynN(3)
			tt.rec.cursor = tt.rec.len()
			tt.exitPid(tt.instances[1].pid, c.reason)
			tt.rec.expect(t, "exited r/echo-2 ("+c.reason.Error()+")")
			want := "echo-1:running echo-3:running"
			if c.again {
				tt.rec.expect(t, "started r/echo-2 crash <-r/echo-2")
				want = "echo-1:running echo-2:running echo-3:running"
			}
			if got := tt.ids(root); got != want {
				t.Fatalf("children %q, want %q", got, want)
			}
			tt.quiet()
		})
	}
	t.Run("give up", func(t *testing.T) {
		tt := newTree(t)
		root := tt.dynamic(flags(runtime.OneForOne, 0), 0, shutdown(runtime.BrutalKill))
		tt.startDynN(3)
		tt.rec.cursor = tt.rec.len()
		tt.exitPid(tt.instances[0].pid, boom)
		tt.rec.expect(t, "exited r/echo-1 (boom)", "give_up r <-r/echo-1 (reached_max_restart_intensity)")
		tt.rec.expectSet(t, "terminated r/echo-2 escalation <-r/echo-1 (killed)", "terminated r/echo-3 escalation <-r/echo-1 (killed)")
		<-root.Done()
	})
	t.Run("a failed restart is retried", func(t *testing.T) {
		tt := newTree(t)
		tt.dynamic(flags(runtime.OneForOne, 3), 0)
		starts := 0
		_, err := tt.supervisor("r").StartChild(runtime.ChildSpec{Start: func(p *runtime.Process) (runtime.Pid, error) {
			starts++
			if starts == 2 {
				return runtime.Pid{}, nope
			}
			return tt.startFunc("r/?", behaviour{})(p)
		}})
		mustf(t, err, "start")
		tt.rec.cursor = tt.rec.len()
		tt.exitPid(tt.instances[0].pid, boom)
		tt.rec.expect(t, "exited r/echo-1 (boom)", "start_failed r/echo-1 crash <-r/echo-1 (nope)", "started r/echo-1 crash <-r/echo-1")
	})
	t.Run("all_significant", func(t *testing.T) {
		tt := newTree(t)
		root := tt.dynamic(runtime.Flags{MaxFrequency: 1, AutoShutdown: runtime.AllSignificant}, 0, restart(runtime.Transient), significant())
		tt.startDynN(2)
		tt.rec.cursor = tt.rec.len()
		tt.exitPid(tt.instances[0].pid, runtime.Normal)
		tt.rec.expect(t, "exited r/echo-1 (normal)")
		tt.exitPid(tt.instances[1].pid, runtime.Normal)
		tt.rec.expect(t, "exited r/echo-2 (normal)")
		<-root.Done()
		if !errors.Is(root.Reason(), runtime.Shutdown) {
			t.Fatalf("exited with %v", root.Reason())
		}
	})
	t.Run("SetTemplate", func(t *testing.T) {
		tt := newTree(t)
		root := tt.dynamic(flags(runtime.OneForOne, 5), 1)
		_, err := tt.startDyn("")
		mustf(t, err, "start")
		mustf(t, change(root, runtime.SetTemplate{Dynamic: runtime.DynamicSpec{Template: runtime.ChildSpec{ID: "w", Kind: "echo", Restart: runtime.Temporary}, MaxChildren: 2}}), "set template")
		_, err = tt.startDyn("")
		mustf(t, err, "start")
		tt.rec.cursor = tt.rec.len()
		// The running child took the new restart type, as in OTP.
		tt.exitPid(tt.instances[0].pid, boom)
		tt.rec.expect(t, "exited r/echo-1 (boom)")
		if got, want := tt.ids(root), "w-2:running"; got != want {
			t.Fatalf("children %q, want %q", got, want)
		}
	})
}

// OTP's terminate_dynamic_children: every child is asked to stop at once,
// they share one timer, and those left when it fires are killed together.
func TestSupervisorDynamicParallelShutdown(t *testing.T) {
	tt := newTree(t)
	root := tt.dynamic(flags(runtime.OneForOne, 1), 0, shutdown(runtime.ShutdownPolicy(5*time.Second)))
	tt.dynBehaviour = behaviour{trap: true, stopDelay: 3 * time.Second}
	_, err := tt.startDyn("")
	mustf(t, err, "start")
	tt.dynBehaviour = behaviour{trap: true, stopDelay: time.Hour}
	tt.startDynN(3)
	tt.rec.cursor = tt.rec.len()
	done := make(chan bool, 1)
	go func() { done <- shutdownWithin(root, runtime.Forever) }()
	// Four children sleeping and one shared timer: all were asked at once.
	if !tt.clock.AwaitTimers(5, wait) {
		t.Fatalf("timers %d, want 5", tt.clock.Timers())
	}
	if n := tt.clock.Timers(); n != 5 {
		t.Fatalf("timers %d, want 5 (one shared)", n)
	}
	tt.clock.Advance(3 * time.Second)
	tt.rec.expect(t, "terminated r/echo-1 shutdown (shutdown)")
	tt.clock.Advance(2 * time.Second)
	tt.rec.expectSet(t,
		"terminated r/echo-2 shutdown (killed)",
		"terminated r/echo-3 shutdown (killed)",
		"terminated r/echo-4 shutdown (killed)")
	<-done
	tt.rec.noMore(t)
}

// exitPid makes the test child pid exit by itself with reason.
func (tt *tree) exitPid(pid runtime.Pid, reason error) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	for _, c := range tt.instances {
		if c.pid == pid {
			c.cmd.Send(reason)
			return
		}
	}
	tt.t.Fatalf("no test child %v", pid)
}
