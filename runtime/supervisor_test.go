package runtime_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

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
	if !root.Stop(time.Second) {
		t.Fatal("Stop of a stopped supervisor did not return true")
	}
}

// OTP's do_restart: whether a child is restarted, by restart type and exit
// reason.
func TestSupervisorRestartDecision(t *testing.T) {
	rows := []struct {
		restart runtime.RestartType
		reason  error
		again   bool // restarted
	}{
		{runtime.Permanent, runtime.Normal, true},
		{runtime.Permanent, runtime.Shutdown, true},
		{runtime.Permanent, boom, true},
		{runtime.Permanent, runtime.Killed, true},
		{runtime.Transient, runtime.Normal, false},
		{runtime.Transient, runtime.Shutdown, false},
		{runtime.Transient, fmt.Errorf("stopping: %w", runtime.Shutdown), false}, // OTP's {shutdown, Term}
		{runtime.Transient, boom, true},
		{runtime.Transient, runtime.Killed, true},
		{runtime.Temporary, runtime.Normal, false},
		{runtime.Temporary, runtime.Shutdown, false},
		{runtime.Temporary, boom, false},
		{runtime.Temporary, runtime.Killed, false},
	}
	// What follows "exited r/b" when b is restarted, by strategy: a, b, c
	// are siblings in that order; only b is under test.
	restarted := map[runtime.Strategy][]string{
		runtime.OneForOne: {
			"started r/b crash <-r/b",
		},
		runtime.OneForAll: {
			"terminated r/c sibling <-r/b (shutdown)",
			"terminated r/a sibling <-r/b (shutdown)",
			"started r/a sibling <-r/b",
			"started r/b crash <-r/b",
			"started r/c sibling <-r/b",
		},
		runtime.RestForOne: {
			"terminated r/c sibling <-r/b (shutdown)",
			"started r/b crash <-r/b",
			"started r/c sibling <-r/b",
		},
	}
	for _, strategy := range []runtime.Strategy{runtime.OneForOne, runtime.OneForAll, runtime.RestForOne} {
		for _, row := range rows {
			t.Run(fmt.Sprintf("%v/%v/%v", strategy, row.restart, row.reason), func(t *testing.T) {
				tt := newTree(t)
				root := tt.start(flags(strategy, 1), tt.worker("a"), tt.worker("b", restart(row.restart)), tt.worker("c"))
				tt.rec.expect(t, "started r/a boot", "started r/b boot", "started r/c boot")
				tt.exit("r/b", row.reason)
				tt.rec.expect(t, "exited r/b ("+row.reason.Error()+")")
				wantIDs := "a:running b:running c:running"
				if row.again {
					tt.rec.expect(t, restarted[strategy]...)
				} else if row.restart == runtime.Temporary {
					wantIDs = "a:running c:running" // removed
				} else {
					wantIDs = "a:running b:stopped c:running" // kept, not running
				}
				if got := tt.ids(root); got != wantIDs {
					t.Fatalf("children %q, want %q", got, wantIDs)
				}
				tt.quiet()
			})
		}
	}
}

// A temporary sibling terminated by a one_for_all or rest_for_one restart is
// removed, not restarted; a transient one is restarted with the others, as is
// a child that an operator had stopped.
func TestSupervisorSiblingRestartRemovesTemporaryRestartsStopped(t *testing.T) {
	for _, strategy := range []runtime.Strategy{runtime.OneForAll, runtime.RestForOne} {
		t.Run(strategy.String(), func(t *testing.T) {
			tt := newTree(t)
			root := tt.start(flags(strategy, 1),
				tt.worker("a"),
				tt.worker("t", restart(runtime.Temporary)),
				tt.worker("u", restart(runtime.Transient)),
				tt.worker("o"))
			tt.rec.expect(t, "started r/a boot", "started r/t boot", "started r/u boot", "started r/o boot")
			mustf(t, root.TerminateChild("o"), "terminate o")
			tt.rec.expect(t, "terminated r/o operator (shutdown)")
			tt.exit("r/a", boom)
			tt.rec.expect(t,
				"exited r/a (boom)",
				"terminated r/u sibling <-r/a (shutdown)",
				"terminated r/t sibling <-r/a (shutdown)",
				"started r/a crash <-r/a",
				"started r/u sibling <-r/a",
				"started r/o sibling <-r/a")
			if got, want := tt.ids(root), "a:running u:running o:running"; got != want {
				t.Fatalf("children %q, want %q", got, want)
			}
			tt.quiet()
		})
	}
}
