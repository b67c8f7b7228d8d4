package runtime_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

func TestSupervisorWhichAndCountChildren(t *testing.T) {
	tt := newTree(t)
	root := tt.start(flags(runtime.OneForOne, 1),
		tt.worker("a"), tt.sup("s", flags(runtime.OneForOne, 1), tt.worker("x")), tt.worker("b"))
	mustf(t, root.TerminateChild("b"), "terminate b")
	which, err := root.WhichChildren()
	mustf(t, err, "which_children")
	// OTP lists the children last started first.
	var got []string
	for _, c := range which {
		got = append(got, c.ID+":"+string(c.State)+":"+c.Type.String())
	}
	if want := []string{"b:stopped:worker", "s:running:supervisor", "a:running:worker"}; !equal(got, want) {
		t.Fatalf("which_children %v, want %v", got, want)
	}
	if which[0].Pid.IsZero() == false || which[2].Pid != tt.child("r/a").pid {
		t.Fatalf("pids: %+v", which)
	}
	n, err := root.CountChildren()
	mustf(t, err, "count_children")
	if want := (runtime.Counts{Specs: 3, Active: 2, Supervisors: 1, Workers: 2}); n != want {
		t.Fatalf("count_children %+v, want %+v", n, want)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Every API call and its OTP errors.
func TestSupervisorAPIErrors(t *testing.T) {
	tt := newTree(t)
	root := tt.start(flags(runtime.OneForOne, 5), tt.worker("a"), tt.worker("b"), tt.worker("tmp", restart(runtime.Temporary)))
	tt.rec.cursor = tt.rec.len()

	check := func(what string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Fatalf("%s: %v, want %v", what, err, want)
		}
	}
	// start_child
	_, err := root.StartChild(tt.worker("a")("r"))
	check("start_child of a running id", err, runtime.ErrStarted)
	_, err = root.StartChild(runtime.ChildSpec{ID: "nostart"})
	check("start_child without start", err, runtime.ErrInvalidSpec)
	_, err = root.StartChild(runtime.ChildSpec{Start: tt.startFunc("r/x", behaviour{})})
	check("start_child without id", err, runtime.ErrInvalidSpec)
	tt.failNext("r/c", nope)
	_, err = root.StartChild(tt.worker("c")("r"))
	var se *runtime.StartError
	if !errors.As(err, &se) || se.Path != "r/c" || !errors.Is(err, nope) {
		t.Fatalf("start_child failing: %v", err)
	}
	tt.rec.expect(t, "start_failed r/c operator (nope)")
	if got, want := tt.ids(root), "a:running b:running tmp:running"; got != want {
		t.Fatalf("a failed start_child left a child: %q", got)
	}
	pidC, err := root.StartChild(tt.worker("c")("r"))
	mustf(t, err, "start_child")
	tt.rec.expect(t, "started r/c operator")
	if pidC != tt.child("r/c").pid {
		t.Fatal("start_child returned another pid")
	}

	// terminate_child
	check("terminate_child unknown", root.TerminateChild("zz"), runtime.ErrNotFound)
	mustf(t, root.TerminateChild("b"), "terminate b")
	tt.rec.expect(t, "terminated r/b operator (shutdown)")
	mustf(t, root.TerminateChild("b"), "terminate b again") // not running: ok, nothing happens
	mustf(t, root.TerminateChild("tmp"), "terminate tmp")
	tt.rec.expect(t, "terminated r/tmp operator (shutdown)")
	check("restart_child of a terminated temporary", second(root.RestartChild("tmp")), runtime.ErrNotFound)

	_, err = root.StartChild(tt.worker("b")("r"))
	check("start_child of a stopped id", err, runtime.ErrPresent)

	// restart_child
	check("restart_child running", second(root.RestartChild("a")), runtime.ErrRunning)
	check("restart_child unknown", second(root.RestartChild("zz")), runtime.ErrNotFound)
	tt.failNext("r/b", nope)
	_, err = root.RestartChild("b")
	if !errors.As(err, &se) || se.Path != "r/b" || !errors.Is(err, nope) {
		t.Fatalf("restart_child failing: %v", err)
	}
	tt.rec.expect(t, "start_failed r/b operator (nope)")
	if got, want := tt.ids(root), "a:running b:failed c:running"; got != want {
		t.Fatalf("children %q, want %q", got, want)
	}
	pidB, err := root.RestartChild("b")
	mustf(t, err, "restart_child")
	tt.rec.expect(t, "started r/b operator")
	if pidB != tt.child("r/b").pid {
		t.Fatal("restart_child returned another pid")
	}

	// delete_child
	check("delete_child running", root.DeleteChild("b"), runtime.ErrRunning)
	check("delete_child unknown", root.DeleteChild("zz"), runtime.ErrNotFound)
	mustf(t, root.TerminateChild("b"), "terminate b")
	tt.rec.expect(t, "terminated r/b operator (shutdown)")
	mustf(t, root.DeleteChild("b"), "delete b")
	if got, want := tt.ids(root), "a:running c:running"; got != want {
		t.Fatalf("children %q, want %q", got, want)
	}
	_, err = root.StartChild(tt.worker("b")("r"))
	mustf(t, err, "start_child after delete")
	tt.rec.expect(t, "started r/b operator")
	if got, want := tt.ids(root), "a:running c:running b:running"; got != want {
		t.Fatalf("children %q, want %q", got, want)
	}

	tt.quiet()
}

func second(_ runtime.Pid, err error) error { return err }

func snapErr(_ runtime.SupervisorSnapshot, err error) error { return err }

// While a child's restart is pending (its start failed and the retry is
// queued), OTP answers restarting (and already_present to start_child).
func TestSupervisorAPIWhileRestarting(t *testing.T) {
	tt := newTree(t)
	var root *runtime.Supervisor
	var errRestart, errDelete, errStart error
	var answered <-chan struct{}
	root = tt.start(flags(runtime.OneForOne, 5), tt.worker("b"),
		tt.scripted("a", func(n int, p *runtime.Process, start func() (runtime.Pid, error)) (runtime.Pid, error) {
			if n != 2 {
				return start()
			}
			answered = queue(p,
				func() { _, errRestart = root.RestartChild("a") },
				func() { errDelete = root.DeleteChild("a") },
				func() { _, errStart = root.StartChild(tt.worker("a")("r")) })
			return runtime.Pid{}, nope
		}))
	tt.rec.cursor = tt.rec.len()
	tt.exit("r/a", boom)
	tt.rec.expect(t, "exited r/a (boom)", "start_failed r/a crash <-r/a (nope)", "started r/a crash <-r/a")
	<-answered
	for what, c := range map[string]struct{ got, want error }{
		"restart_child": {errRestart, runtime.ErrRestarting},
		"delete_child":  {errDelete, runtime.ErrRestarting},
		"start_child":   {errStart, runtime.ErrPresent},
	} {
		if !errors.Is(c.got, c.want) {
			t.Errorf("%s while restarting: %v, want %v", what, c.got, c.want)
		}
	}
	tt.quiet()
}

// A start that returns Ignore is OTP's ignore.
func TestSupervisorIgnore(t *testing.T) {
	tt := newTree(t)
	ignore := func(id string, r runtime.RestartType) node {
		return func(parent string) runtime.ChildSpec {
			return runtime.ChildSpec{ID: id, Restart: r, Start: func(*runtime.Process) (runtime.Pid, error) {
				return runtime.Pid{}, runtime.Ignore
			}}
		}
	}
	root := tt.start(flags(runtime.OneForAll, 1), tt.worker("a"), ignore("i", runtime.Permanent), ignore("t", runtime.Temporary), tt.worker("b"))
	tt.rec.expect(t, "started r/a boot", "started r/b boot")
	// The permanent one is kept, not running; the temporary one is dropped.
	if got, want := tt.ids(root), "a:running i:stopped b:running"; got != want {
		t.Fatalf("children %q, want %q", got, want)
	}
	pid, err := root.RestartChild("i")
	if err != nil || !pid.IsZero() {
		t.Fatalf("restart_child of an ignoring child: %v %v", pid, err)
	}
	pid, err = root.StartChild(ignore("j", runtime.Transient)("r"))
	if err != nil || !pid.IsZero() {
		t.Fatalf("start_child of an ignoring child: %v %v", pid, err)
	}
	pid, err = root.StartChild(ignore("k", runtime.Temporary)("r"))
	if err != nil || !pid.IsZero() {
		t.Fatalf("start_child of an ignoring temporary child: %v %v", pid, err)
	}
	if got, want := tt.ids(root), "a:running i:stopped b:running j:stopped"; got != want {
		t.Fatalf("children %q, want %q", got, want)
	}
	// A one_for_all restart tries it again, and goes on.
	tt.exit("r/a", boom)
	tt.rec.expect(t, "exited r/a (boom)",
		"terminated r/b sibling <-r/a (shutdown)",
		"started r/a crash <-r/a",
		"started r/b sibling <-r/a")
	tt.quiet()
}

// OTP's init_children: a child that fails to start stops the ones already
// started, in reverse, and the supervisor's start fails naming it.
func TestSupervisorInitFailure(t *testing.T) {
	t.Run("flat", func(t *testing.T) {
		tt := newTree(t)
		tt.failNext("r/c", boom)
		_, err := tt.tryStart(flags(runtime.OneForOne, 1), tt.worker("a"), tt.worker("b"), tt.worker("c"), tt.worker("d"))
		var se *runtime.StartError
		if !errors.As(err, &se) || se.Path != "r/c" || !errors.Is(err, boom) {
			t.Fatalf("start: %v", err)
		}
		tt.rec.expect(t,
			"started r/a boot",
			"started r/b boot",
			"start_failed r/c boot (boom)",
			"terminated r/b shutdown <-r/c (shutdown)",
			"terminated r/a shutdown <-r/c (shutdown)")
		tt.rec.noMore(t)
		for _, c := range tt.instances {
			if c.pid.Alive() {
				t.Errorf("%s left running", c.path)
			}
		}
	})
	t.Run("panic", func(t *testing.T) {
		tt := newTree(t)
		_, err := tt.tryStart(flags(runtime.OneForOne, 1), tt.worker("a"), func(string) runtime.ChildSpec {
			return runtime.ChildSpec{ID: "p", Start: func(*runtime.Process) (runtime.Pid, error) { panic("oops") }}
		})
		var pe *runtime.PanicError
		if !errors.As(err, &pe) {
			t.Fatalf("start: %v", err)
		}
		tt.rec.expect(t, "started r/a boot", "start_failed r/p boot (panic: oops)", "terminated r/a shutdown <-r/p (shutdown)")
	})
	t.Run("nested", func(t *testing.T) {
		tt := newTree(t)
		tt.failNext("r/s/y", boom)
		_, err := tt.tryStart(flags(runtime.OneForOne, 1), tt.worker("a"),
			tt.sup("s", flags(runtime.OneForOne, 1), tt.worker("x"), tt.worker("y")), tt.worker("c"))
		var se *runtime.StartError
		if !errors.As(err, &se) || se.Path != "r/s" {
			t.Fatalf("start: %v", err)
		}
		var inner *runtime.StartError
		if !errors.As(se.Reason, &inner) || inner.Path != "r/s/y" || !errors.Is(err, boom) {
			t.Fatalf("the nested error does not name r/s/y: %v", err)
		}
		tt.rec.expect(t,
			"started r/a boot",
			"started r/s/x boot",
			"start_failed r/s/y boot (boom)",
			"terminated r/s/x shutdown <-r/s/y (shutdown)",
			"start_failed r/s boot (r/s/y failed to start: boom)",
			"terminated r/a shutdown <-r/s (shutdown)")
	})
	t.Run("invalid specs start nothing", func(t *testing.T) {
		tt := newTree(t)
		for name, f := range map[string]runtime.Flags{
			"negative intensity": {MaxFrequency: -1},
			"negative period":    {Period: -time.Second},
			"bad strategy":       {Strategy: 7},
			"bad auto_shutdown":  {AutoShutdown: 9},
		} {
			if _, err := tt.tryStart(f, tt.worker("a")); !errors.Is(err, runtime.ErrInvalidSpec) {
				t.Errorf("%s: %v", name, err)
			}
		}
		if _, err := tt.tryStart(runtime.Flags{}, tt.worker("a"), tt.worker("a")); !errors.Is(err, runtime.ErrInvalidSpec) {
			t.Errorf("duplicate_child_name: %v", err)
		}
		if _, err := tt.tryStart(runtime.Flags{}, tt.worker("a", shutdown(-7))); !errors.Is(err, runtime.ErrInvalidSpec) {
			t.Errorf("invalid_shutdown: %v", err)
		}
		tt.rec.noMore(t)
	})
}

// The operations a reload uses touch only the child they name.
func TestSupervisorReloadOperations(t *testing.T) {
	tt := newTree(t)
	root := tt.start(flags(runtime.OneForAll, 1), tt.worker("a"), tt.worker("b"), tt.worker("c"))
	tt.rec.cursor = tt.rec.len()
	pidA, pidC := tt.child("r/a").pid, tt.child("r/c").pid

	// UpdateChild: in place, same process; the new restart type applies.
	mustf(t, change(root, runtime.UpdateChild{ID: "b", Restart: runtime.Temporary, Shutdown: runtime.BrutalKill}), "update b")
	snap, _ := root.Snapshot()
	if b := snap.Children[1]; b.Restart != runtime.Temporary || b.Shutdown != runtime.BrutalKill || b.Pid != tt.child("r/b").pid {
		t.Fatalf("b after update: %+v", b)
	}
	if err := change(root, runtime.UpdateChild{ID: "zz", Restart: runtime.Permanent}); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("update unknown: %v", err)
	}
	tt.exit("r/b", boom)
	tt.rec.expect(t, "exited r/b (boom)") // temporary now: not restarted, no sibling touched
	if got, want := tt.ids(root), "a:running c:running"; got != want {
		t.Fatalf("children %q, want %q", got, want)
	}

	// InsertChild: started at its position.
	_, err := root.Apply(runtime.InsertChild{Pos: 1, Spec: tt.worker("n")("r")})
	mustf(t, err, "insert")
	tt.rec.expect(t, "started r/n reload")
	if got, want := tt.ids(root), "a:running n:running c:running"; got != want {
		t.Fatalf("children %q, want %q", got, want)
	}
	if _, err := root.Apply(runtime.InsertChild{Pos: 0, Spec: tt.worker("n")("r")}); !errors.Is(err, runtime.ErrStarted) {
		t.Fatalf("insert a taken id: %v", err)
	}
	tt.failNext("r/f", nope)
	if _, err := root.Apply(runtime.InsertChild{Pos: 99, Spec: tt.worker("f")("r")}); !errors.Is(err, nope) {
		t.Fatalf("insert failing: %v", err)
	}
	tt.rec.expect(t, "start_failed r/f reload (nope)")
	if got, want := tt.ids(root), "a:running n:running c:running f:failed"; got != want {
		t.Fatalf("children %q, want %q", got, want)
	}
	// A failed child stays for RestartChild (otpctl start) to try again,
	// where OTP's start_child keeps no spec of it.
	_, err = root.RestartChild("f")
	mustf(t, err, "restart f")
	tt.rec.expect(t, "started r/f operator")
	if got, want := tt.ids(root), "a:running n:running c:running f:running"; got != want {
		t.Fatalf("children %q, want %q", got, want)
	}
	mustf(t, root.TerminateChild("f"), "terminate f")
	tt.rec.expect(t, "terminated r/f operator (shutdown)")

	// ReplaceChild: terminated and started at the same place.
	oldN := tt.child("r/n").pid
	newN, err := root.Apply(runtime.ReplaceChild{Spec: tt.worker("n", restart(runtime.Transient))("r")})
	mustf(t, err, "replace")
	tt.rec.expect(t, "terminated r/n reload (shutdown)", "started r/n reload")
	if newN == oldN || newN != tt.child("r/n").pid {
		t.Fatal("replace did not start a new process")
	}
	if _, err := root.Apply(runtime.ReplaceChild{Spec: tt.worker("zz")("r")}); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("replace unknown: %v", err)
	}

	// RemoveChild: terminated and gone.
	mustf(t, change(root, runtime.RemoveChild{ID: "f"}), "remove f") // not running: no event
	mustf(t, change(root, runtime.RemoveChild{ID: "n"}), "remove n")
	tt.rec.expect(t, "terminated r/n reload (shutdown)")
	if err := change(root, runtime.RemoveChild{ID: "n"}); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("remove again: %v", err)
	}

	// Reorder: no process touched; the stop order follows.
	_, err = root.Apply(runtime.InsertChild{Pos: 0, Spec: tt.worker("z")("r")})
	mustf(t, err, "insert z")
	tt.rec.expect(t, "started r/z reload")
	if err := change(root, runtime.ReorderChildren{IDs: []string{"c", "a"}}); err == nil {
		t.Fatal("reorder with a missing id")
	}
	if err := change(root, runtime.ReorderChildren{IDs: []string{"c", "a", "a"}}); err == nil {
		t.Fatal("reorder with a repeated id")
	}
	mustf(t, change(root, runtime.ReorderChildren{IDs: []string{"c", "z", "a"}}), "reorder")
	if got, want := tt.ids(root), "c:running z:running a:running"; got != want {
		t.Fatalf("children %q, want %q", got, want)
	}

	// SetFlags: strategy changes in place.
	mustf(t, change(root, runtime.SetFlags{Flags: flags(runtime.RestForOne, 1)}), "set flags")
	tt.exit("r/z", boom)
	tt.rec.expect(t, "exited r/z (boom)", "terminated r/a sibling <-r/z (shutdown)",
		"started r/z crash <-r/z", "started r/a sibling <-r/z")
	if tt.child("r/c").pid != pidC || tt.child("r/a").pid == pidA {
		t.Fatal("rest_for_one after reorder touched the wrong children")
	}
	// The restart counted stays counted: intensity 1 allows no second.
	tt.exit("r/c", boom)
	tt.rec.expect(t, "exited r/c (boom)",
		"give_up r <-r/c (reached_max_restart_intensity)",
		"terminated r/a escalation <-r/c (shutdown)",
		"terminated r/z escalation <-r/c (shutdown)")
	<-root.Done()
}

// The API answers ErrNoSupervisor once the supervisor is gone, and a
// Shutdown whose context ends returns while the supervisor goes on stopping.
func TestSupervisorShutdownContext(t *testing.T) {
	tt := newTree(t)
	root := tt.start(flags(runtime.OneForOne, 1), tt.worker("a", trapping(time.Hour), shutdown(runtime.Infinity)))
	tt.rec.cursor = tt.rec.len()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := root.Shutdown(ctx); err == nil {
		t.Fatal("Shutdown with an ended context returned nil while a child is stopping")
	}
	if !tt.clock.AwaitTimers(1, wait) {
		t.Fatal("the child does not take its time")
	}
	select {
	case <-root.Done():
		t.Fatal("done before its child stopped")
	default:
	}
	tt.clock.Advance(time.Hour)
	<-root.Done()
	tt.rec.expect(t, "terminated r/a shutdown (shutdown)")
	for _, err := range []error{
		second(root.StartChild(tt.worker("b")("r"))),
		root.TerminateChild("a"),
		second(root.RestartChild("a")),
		root.DeleteChild("a"),
		snapErr(root.Snapshot()),
	} {
		if !errors.Is(err, runtime.ErrNoSupervisor) {
			t.Fatalf("after exit: %v", err)
		}
	}
	mustf(t, root.Shutdown(ctx), "Shutdown of a stopped supervisor")
}
