package runtime_test

import (
	"errors"

	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// OTP's add_restart: more than MaxFrequency restarts within Period and the
// supervisor gives up; a restart exactly Period ago still counts.
func TestSupervisorIntensity(t *testing.T) {
	const period = 5 * time.Second
	cases := []struct {
		name    string
		maxFreq int
		gaps    []time.Duration // clock advance before each crash
		giveUp  bool            // on the last crash
	}{
		{"zero allows none", 0, []time.Duration{0}, true},
		{"at the limit", 3, []time.Duration{0, 0, 0}, false},
		{"one over", 3, []time.Duration{0, 0, 0, 0}, true},
		{"one over, spread inside the period", 2, []time.Duration{0, 2 * time.Second, 2 * time.Second}, true},
		{"one over, first exactly period ago", 2, []time.Duration{0, period / 2, period / 2}, true},
		{"first just outside the period", 2, []time.Duration{0, period / 2, period/2 + time.Nanosecond}, false},
		{"all outside the period", 1, []time.Duration{0, period + 1, period + 1, period + 1}, false},
		{"window slides", 2, []time.Duration{0, 4 * time.Second, 2 * time.Second, time.Second}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tt := newTree(t)
			root := tt.start(runtime.Flags{Strategy: runtime.OneForOne, MaxFrequency: c.maxFreq, Period: period},
				tt.worker("a"), tt.worker("b"), tt.worker("c"))
			tt.rec.expect(t, "started r/a boot", "started r/b boot", "started r/c boot")
			for i, gap := range c.gaps {
				tt.clock.Advance(gap)
				tt.exit("r/b", boom)
				tt.rec.expect(t, "exited r/b (boom)")
				if i < len(c.gaps)-1 || !c.giveUp {
					tt.rec.expect(t, "started r/b crash <-r/b")
					continue
				}
				tt.rec.expect(t,
					"give_up r <-r/b (reached_max_restart_intensity)",
					"terminated r/c escalation <-r/b (shutdown)",
					"terminated r/a escalation <-r/b (shutdown)")
				<-root.Done()
				if !errors.Is(root.Reason(), runtime.Shutdown) {
					t.Fatalf("root exited with %v, want shutdown", root.Reason())
				}
			}
			if !c.giveUp {
				tt.quiet()
				if root.Reason() != nil {
					t.Fatalf("root exited: %v", root.Reason())
				}
			}
		})
	}
}

// A restart that fails is retried through the mailbox, each try counting
// against the intensity again, until it succeeds or the supervisor gives up.
func TestSupervisorRestartFailureRetriesAndCounts(t *testing.T) {
	t.Run("succeeds on the third try", func(t *testing.T) {
		tt := newTree(t)
		root := tt.start(flags(runtime.OneForOne, 3), tt.worker("a"), tt.worker("b"))
		tt.rec.expect(t, "started r/a boot", "started r/b boot")
		tt.failNext("r/a", nope, nope)
		tt.exit("r/a", boom)
		tt.rec.expect(t,
			"exited r/a (boom)",
			"start_failed r/a crash <-r/a (nope)",
			"start_failed r/a crash <-r/a (nope)",
			"started r/a crash <-r/a")
		snap, err := root.Snapshot()
		mustf(t, err, "snapshot")
		if snap.Budget.Used != 3 {
			t.Fatalf("budget used %d, want 3 (one per try)", snap.Budget.Used)
		}
		if a := snap.Children[0]; a.State != runtime.StateRunning || a.Restarts != 1 {
			t.Fatalf("a: %+v", a)
		}
	})
	t.Run("gives up", func(t *testing.T) {
		tt := newTree(t)
		root := tt.start(flags(runtime.OneForOne, 2), tt.worker("a"), tt.worker("b"))
		tt.rec.expect(t, "started r/a boot", "started r/b boot")
		tt.failNext("r/a", nope, nope, nope)
		tt.exit("r/a", boom)
		tt.rec.expect(t,
			"exited r/a (boom)",
			"start_failed r/a crash <-r/a (nope)",
			"start_failed r/a crash <-r/a (nope)",
			"give_up r <-r/a (reached_max_restart_intensity)",
			"terminated r/b escalation <-r/a (shutdown)")
		<-root.Done()
	})
	t.Run("one_for_all: a sibling's failed start restarts all again", func(t *testing.T) {
		tt := newTree(t)
		root := tt.start(flags(runtime.OneForAll, 5), tt.worker("a"), tt.worker("b"), tt.worker("c"))
		tt.rec.expect(t, "started r/a boot", "started r/b boot", "started r/c boot")
		tt.failNext("r/b", nope)
		tt.exit("r/a", boom)
		tt.rec.expect(t,
			"exited r/a (boom)",
			"terminated r/c sibling <-r/a (shutdown)",
			"terminated r/b sibling <-r/a (shutdown)",
			"started r/a crash <-r/a",
			"start_failed r/b sibling <-r/a (nope)",
			// OTP's try_again_restart of b: one_for_all again
			"terminated r/a sibling <-r/a (shutdown)",
			"started r/a sibling <-r/a",
			"started r/b sibling <-r/a",
			"started r/c sibling <-r/a")
		snap, err := root.Snapshot()
		mustf(t, err, "snapshot")
		if snap.Budget.Used != 2 {
			t.Fatalf("budget used %d, want 2", snap.Budget.Used)
		}
		tt.quiet()
	})
	t.Run("rest_for_one: the failed child and those after it", func(t *testing.T) {
		tt := newTree(t)
		tt.start(flags(runtime.RestForOne, 5), tt.worker("a"), tt.worker("b"), tt.worker("c"), tt.worker("d"))
		tt.rec.expect(t, "started r/a boot", "started r/b boot", "started r/c boot", "started r/d boot")
		tt.failNext("r/c", nope)
		tt.exit("r/b", boom)
		tt.rec.expect(t,
			"exited r/b (boom)",
			"terminated r/d sibling <-r/b (shutdown)",
			"terminated r/c sibling <-r/b (shutdown)",
			"started r/b crash <-r/b",
			"start_failed r/c sibling <-r/b (nope)",
			// the retry restarts c and what follows it, not b
			"started r/c sibling <-r/b",
			"started r/d sibling <-r/b")
		tt.quiet()
	})
}

// The retry goes through the mailbox, so a request queued before it comes
// first (OTP's try_again_restart): here terminate_child cancels the retry,
// and a stop ends the supervisor instead of retrying.
func TestSupervisorRetryLetsRequestsIn(t *testing.T) {
	t.Run("terminate_child", func(t *testing.T) {
		tt := newTree(t)
		var root *runtime.Supervisor
		var err error
		var answered <-chan struct{}
		root = tt.start(flags(runtime.OneForOne, 5), tt.worker("a"),
			tt.scripted("b", func(n int, p *runtime.Process, start func() (runtime.Pid, error)) (runtime.Pid, error) {
				if n == 1 {
					return start()
				}
				answered = queue(p, func() { err = root.TerminateChild("b") })
				return runtime.Pid{}, nope
			}))
		tt.rec.expect(t, "started r/a boot", "started r/b boot")
		tt.exit("r/b", boom)
		tt.rec.expect(t, "exited r/b (boom)", "start_failed r/b crash <-r/b (nope)")
		<-answered
		mustf(t, err, "terminate b")
		if got, want := tt.ids(root), "a:running b:stopped"; got != want {
			t.Fatalf("children %q, want %q", got, want)
		}
		tt.quiet() // no retry happened
	})
	t.Run("stop", func(t *testing.T) {
		tt := newTree(t)
		var root *runtime.Supervisor
		var answered <-chan struct{}
		root = tt.start(flags(runtime.OneForOne, 5), tt.worker("a"),
			tt.scripted("b", func(n int, p *runtime.Process, start func() (runtime.Pid, error)) (runtime.Pid, error) {
				if n == 1 {
					return start()
				}
				answered = queue(p, func() { root.Stop(runtime.Forever) })
				return runtime.Pid{}, nope
			}))
		tt.rec.expect(t, "started r/a boot", "started r/b boot")
		tt.exit("r/b", boom)
		tt.rec.expect(t, "exited r/b (boom)", "start_failed r/b crash <-r/b (nope)",
			"terminated r/a shutdown (shutdown)")
		<-answered
		tt.rec.noMore(t)
	})
}

// Operator and reload operations are not crashes: with an intensity of zero,
// none of them makes the supervisor give up, and none restarts a sibling.
func TestSupervisorOperatorRestartsDoNotCount(t *testing.T) {
	for _, strategy := range []runtime.Strategy{runtime.OneForOne, runtime.OneForAll, runtime.RestForOne} {
		t.Run(strategy.String(), func(t *testing.T) {
			tt := newTree(t)
			root := tt.start(flags(strategy, 0), tt.worker("a"), tt.worker("b"), tt.worker("c"))
			tt.rec.expect(t, "started r/a boot", "started r/b boot", "started r/c boot")
			for i := 0; i < 3; i++ {
				mustf(t, root.TerminateChild("b"), "terminate")
				_, err := root.RestartChild("b")
				mustf(t, err, "restart")
				tt.rec.expect(t, "terminated r/b operator (shutdown)", "started r/b operator")
			}
			_, err := root.ReplaceChild(tt.worker("b")("r"))
			mustf(t, err, "replace")
			tt.rec.expect(t, "terminated r/b reload (shutdown)", "started r/b reload")
			mustf(t, root.RemoveChild("b"), "remove")
			tt.rec.expect(t, "terminated r/b reload (shutdown)")
			_, err = root.InsertChild(1, tt.worker("b")("r"))
			mustf(t, err, "insert")
			tt.rec.expect(t, "started r/b reload")
			_, err = root.StartChild(tt.worker("d")("r"))
			mustf(t, err, "start_child")
			tt.rec.expect(t, "started r/d operator")
			snap, err := root.Snapshot()
			mustf(t, err, "snapshot")
			if snap.Budget.Used != 0 {
				t.Fatalf("budget used %d, want 0", snap.Budget.Used)
			}
			tt.quiet()
		})
	}
}

// Escalation: a nested supervisor that gives up exits with shutdown, which
// its parent handles as any child's exit, with its own strategy.
func TestSupervisorEscalation(t *testing.T) {
	after := map[runtime.Strategy][]string{
		runtime.OneForOne: {
			"started r/s/x escalation <-r/s",
			"started r/s/y escalation <-r/s",
			"started r/s crash <-r/s",
		},
		runtime.OneForAll: {
			"terminated r/c sibling <-r/s (shutdown)",
			"terminated r/a sibling <-r/s (shutdown)",
			"started r/a sibling <-r/s",
			"started r/s/x escalation <-r/s",
			"started r/s/y escalation <-r/s",
			"started r/s crash <-r/s",
			"started r/c sibling <-r/s",
		},
		runtime.RestForOne: {
			"terminated r/c sibling <-r/s (shutdown)",
			"started r/s/x escalation <-r/s",
			"started r/s/y escalation <-r/s",
			"started r/s crash <-r/s",
			"started r/c sibling <-r/s",
		},
	}
	for strategy, rest := range after {
		t.Run(strategy.String(), func(t *testing.T) {
			tt := newTree(t)
			tt.start(flags(strategy, 1),
				tt.worker("a"),
				tt.sup("s", flags(runtime.OneForOne, 0), tt.worker("x"), tt.worker("y")),
				tt.worker("c"))
			tt.rec.expect(t, "started r/a boot", "started r/s/x boot", "started r/s/y boot", "started r/s boot", "started r/c boot")
			tt.exit("r/s/x", boom)
			tt.rec.expect(t,
				"exited r/s/x (boom)",
				"give_up r/s <-r/s/x (reached_max_restart_intensity)",
				"terminated r/s/y escalation <-r/s/x (shutdown)",
				"exited r/s (shutdown)")
			tt.rec.expect(t, rest...)
			tt.quiet()
		})
	}
	t.Run("transient nested supervisor is not restarted", func(t *testing.T) {
		tt := newTree(t)
		root := tt.start(flags(runtime.OneForAll, 1),
			tt.worker("a"),
			func(parent string) runtime.ChildSpec {
				c := tt.sup("s", flags(runtime.OneForOne, 0), tt.worker("x"))(parent)
				c.Restart = runtime.Transient
				return c
			})
		tt.rec.expect(t, "started r/a boot", "started r/s/x boot", "started r/s boot")
		tt.exit("r/s/x", boom)
		tt.rec.expect(t,
			"exited r/s/x (boom)",
			"give_up r/s <-r/s/x (reached_max_restart_intensity)",
			"exited r/s (shutdown)")
		if got, want := tt.ids(root), "a:running s:stopped"; got != want {
			t.Fatalf("children %q, want %q", got, want)
		}
		tt.quiet()
	})
	t.Run("up to the root", func(t *testing.T) {
		tt := newTree(t)
		root := tt.start(flags(runtime.OneForOne, 0),
			tt.worker("a"),
			tt.sup("s", flags(runtime.OneForOne, 0), tt.sup("t", flags(runtime.OneForOne, 0), tt.worker("x"))),
			tt.worker("c"))
		tt.rec.expect(t, "started r/a boot", "started r/s/t/x boot", "started r/s/t boot", "started r/s boot", "started r/c boot")
		tt.exit("r/s/t/x", runtime.Killed)
		tt.rec.expect(t,
			"exited r/s/t/x (killed)",
			"give_up r/s/t <-r/s/t/x (reached_max_restart_intensity)",
			"exited r/s/t (shutdown)",
			"give_up r/s <-r/s/t (reached_max_restart_intensity)",
			"exited r/s (shutdown)",
			"give_up r <-r/s (reached_max_restart_intensity)",
			"terminated r/c escalation <-r/s (shutdown)",
			"terminated r/a escalation <-r/s (shutdown)")
		<-root.Done()
		if !errors.Is(root.Reason(), runtime.Shutdown) {
			t.Fatalf("root: %v", root.Reason())
		}
	})
	t.Run("a sibling restart stops a nested supervisor depth first", func(t *testing.T) {
		tt := newTree(t)
		tt.start(flags(runtime.OneForAll, 1),
			tt.worker("a"),
			tt.sup("s", flags(runtime.OneForOne, 1), tt.worker("x"), tt.worker("y")),
			tt.worker("c"))
		tt.rec.expect(t, "started r/a boot", "started r/s/x boot", "started r/s/y boot", "started r/s boot", "started r/c boot")
		tt.exit("r/a", boom)
		tt.rec.expect(t,
			"exited r/a (boom)",
			"terminated r/c sibling <-r/a (shutdown)",
			"terminated r/s/y escalation <-r/a (shutdown)",
			"terminated r/s/x escalation <-r/a (shutdown)",
			"terminated r/s sibling <-r/a (shutdown)",
			"started r/a crash <-r/a",
			"started r/s/x escalation <-r/a",
			"started r/s/y escalation <-r/a",
			"started r/s sibling <-r/a",
			"started r/c sibling <-r/a")
		tt.quiet()
	})
}

// The ring keeps at most max_frequency+1 times, whatever the restart rate:
// thousands of restarts spread out never make a supervisor with intensity 2
// give up, and each costs the same.
func TestSupervisorIntensityManyRestartsOutsideWindow(t *testing.T) {
	tt := newTree(t)
	root := tt.start(runtime.Flags{MaxFrequency: 2, Period: time.Second}, tt.worker("a"))
	tt.rec.expect(t, "started r/a boot")
	n := 500
	if testing.Short() {
		n = 50
	}
	for i := 0; i < n; i++ {
		tt.clock.Advance(600 * time.Millisecond) // two restarts per period at most
		tt.exit("r/a", boom)
		tt.rec.expect(t, "exited r/a (boom)", "started r/a crash <-r/a")
	}
	snap, err := root.Snapshot()
	mustf(t, err, "snapshot")
	if snap.Budget.Used != 2 || snap.Children[0].Restarts != n {
		t.Fatalf("budget %+v, restarts %d", snap.Budget, snap.Children[0].Restarts)
	}

}
