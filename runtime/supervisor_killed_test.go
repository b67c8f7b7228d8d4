package runtime_test

import (
	"fmt"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// A killed supervisor's workers die through their links. As in OTP, the
// supervisor's exit is reported first, then each worker terminated (killed,
// escalation, the supervisor as trigger), last started first, before its
// parent restarts it.
func TestKilledSupervisorReportsItsWorkers(t *testing.T) {
	tt := newTree(t)
	tt.start(flags(runtime.OneForOne, 5), tt.worker("a"),
		tt.sup("s", flags(runtime.OneForOne, 1), tt.worker("x"), tt.worker("y"), tt.worker("z", trapping(0))))
	tt.killSupervisor(t, "r/s", inOrder,
		"exited r/s (killed)",
		"terminated r/s/z escalation <-r/s (killed)",
		"terminated r/s/y escalation <-r/s (killed)",
		"terminated r/s/x escalation <-r/s (killed)",
		"started r/s/x escalation <-r/s",
		"started r/s/y escalation <-r/s",
		"started r/s/z escalation <-r/s",
		"started r/s crash <-r/s")
}

const inOrder, inAnyOrder = true, false

// killSupervisor kills the supervisor at path and expects the events want
// (in order, or in any order), and nothing more once the tree is quiet.
func (tt *tree) killSupervisor(t *testing.T, path string, ordered bool, want ...string) {
	t.Helper()
	tt.rec.cursor = tt.rec.len()
	runtime.Exit(tt.supervisor(path).Pid(), runtime.Killed)
	if ordered {
		tt.rec.expect(t, want...)
	} else {
		tt.rec.expectSet(t, want...)
	}
	tt.quiet()
	tt.rec.noMore(t)
}

// A nested supervisor under a killed one stops its own children in order
// (as OTP's orphaned supervisor does) and then reports itself terminated,
// as no one else is left to; it runs at the same time as the killed
// supervisor's report of its workers and its parent's restart.
func TestKilledSupervisorsNestedSupervisorReportsItself(t *testing.T) {
	tt := newTree(t)
	tt.start(flags(runtime.OneForOne, 5),
		tt.sup("s", flags(runtime.OneForOne, 1), tt.worker("x"),
			tt.sup("t", flags(runtime.OneForOne, 1), tt.worker("u"), tt.worker("v")), tt.worker("y")))
	tt.killSupervisor(t, "r/s", inAnyOrder,
		"exited r/s (killed)",
		"terminated r/s/y escalation <-r/s (killed)",
		"terminated r/s/x escalation <-r/s (killed)",
		"terminated r/s/t/v escalation <-r/s (shutdown)",
		"terminated r/s/t/u escalation <-r/s (shutdown)",
		"terminated r/s/t escalation <-r/s (killed)",
		"started r/s/x escalation <-r/s",
		"started r/s/t/u escalation <-r/s",
		"started r/s/t/v escalation <-r/s",
		"started r/s/t escalation <-r/s",
		"started r/s/y escalation <-r/s",
		"started r/s crash <-r/s")
	// What each goroutine reports is in order: r's exited of r/s, then
	// r/s's report of its workers, then r's restart; the orphan r/s/t's
	// children last started first, then r/s/t itself.
	var parent, orphan []string
	for _, e := range tt.rec.all()[len(tt.rec.all())-12:] {
		switch e.Path {
		case "r/s/t", "r/s/t/u", "r/s/t/v":
			if e.Type == runtime.EventTerminated {
				orphan = append(orphan, e.Path)
			}
		case "r/s", "r/s/x", "r/s/y":
			parent = append(parent, string(e.Type)+" "+e.Path)
		}
	}
	if got, want := fmt.Sprint(orphan), "[r/s/t/v r/s/t/u r/s/t]"; got != want {
		t.Errorf("the orphan r/s/t reported %v, want %v", got, want)
	}
	if got, want := fmt.Sprint(parent), "[exited r/s terminated r/s/y terminated r/s/x started r/s/x started r/s/y started r/s]"; got != want {
		t.Errorf("r and r/s reported %v, want %v", got, want)
	}
}

// Thousands of kills of a 100-worker supervisor leave nothing behind: each
// kill reports every worker once, and the supervisor registry, the strays
// and the goroutines come back to their baseline.
func TestKilledSupervisorLeavesNothingBehind(t *testing.T) {
	kills, width := 2000, 100
	if testing.Short() {
		kills = 200
	}
	baseSups, baseG := runtime.SupervisorCount(), goruntime.NumGoroutine()
	idle := func(parent *runtime.Process) (runtime.Pid, error) {
		return runtime.SpawnLink(parent, func(p *runtime.Process) {
			_, _ = runtime.Receive(p, runtime.NewSubject[int](p), runtime.Forever)
		}), nil
	}
	terminated := map[runtime.Pid]int{}
	var pending []runtime.Pid
	restarted := make(chan struct{}, 1)
	hook := func(e runtime.Event) {
		switch {
		case e.Type == runtime.EventTerminated && e.Trigger == "r/pool":
			terminated[e.Pid]++
		case e.Type == runtime.EventStarted && e.Path == "r/pool":
			select {
			case restarted <- struct{}{}:
			default:
			}
		case e.Type == runtime.EventStarted:
			pending = append(pending, e.Pid)
		}
	}
	pool := runtime.SupervisorSpec{Flags: flags(runtime.OneForOne, 1), Path: "r/pool", Events: hook}
	for i := range width {
		pool.Children = append(pool.Children, runtime.ChildSpec{ID: fmt.Sprintf("w%d", i), Start: idle, Shutdown: runtime.BrutalKill})
	}
	root, err := runtime.StartSupervisor(nil, runtime.SupervisorSpec{
		// The hook runs on one supervisor at a time here: r only
		// restarts r/pool after r/pool's report (see reportOrphans).
		Flags: runtime.Flags{MaxFrequency: kills + 1, Period: time.Hour}, Path: "r", Events: hook,
		Children: []runtime.ChildSpec{{ID: "pool", Type: runtime.SupervisorChild, Start: func(p *runtime.Process) (runtime.Pid, error) {
			s, err := runtime.StartSupervisor(p, pool)
			if err != nil {
				return runtime.Pid{}, err
			}
			return s.Pid(), nil
		}}},
	})
	mustf(t, err, "start")
	<-restarted
	current := func() runtime.Pid {
		kids, err := root.WhichChildren()
		mustf(t, err, "which_children")
		return kids[0].Pid
	}
	for i := range kills {
		workers := pending
		pending = nil
		runtime.Exit(current(), runtime.Killed)
		select {
		case <-restarted:
		case <-time.After(wait):
			t.Fatalf("kill %d: r/pool was not restarted", i)
		}
		for _, w := range workers {
			if terminated[w] != 1 {
				t.Fatalf("kill %d: worker %v reported terminated %d times, want once", i, w, terminated[w])
			}
			delete(terminated, w)
		}
		if len(workers) != width {
			t.Fatalf("kill %d: %d workers were started, want %d", i, len(workers), width)
		}
	}
	if !shutdownWithin(root, wait) {
		t.Fatal("the root did not stop")
	}
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) && (runtime.SupervisorCount() != baseSups || goruntime.NumGoroutine() > baseG || runtime.Strays() != 0) {
		time.Sleep(time.Millisecond)
	}
	if n := runtime.SupervisorCount(); n != baseSups {
		t.Errorf("%d supervisors registered after %d kills, %d before", n, kills, baseSups)
	}
	if n := goruntime.NumGoroutine(); n > baseG {
		t.Errorf("%d goroutines after %d kills, %d before", n, kills, baseG)
	}
	if n := runtime.Strays(); n != 0 {
		t.Errorf("%d strays", n)
	}
}
