package runtime_test

import (
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// OTP's shutdown/1: a timeout asks the child to stop and kills it when the
// time passes; brutal_kill kills at once; infinity waits. Children trap exits
// and take time (on the fake clock) to stop.
func TestSupervisorShutdownPolicies(t *testing.T) {
	cases := []struct {
		name   string
		policy runtime.ShutdownPolicy
		child  []opt
		timers int           // timers waiting once the supervisor waits for the child
		step   time.Duration // advance by this, once
		want   string
	}{
		{"timeout, child stops in time", runtime.ShutdownPolicy(5 * time.Second), []opt{trapping(3 * time.Second)}, 2, 3 * time.Second,
			"terminated r/a shutdown (shutdown)"},
		{"timeout, child too slow is killed", runtime.ShutdownPolicy(5 * time.Second), []opt{trapping(10 * time.Second)}, 2, 5 * time.Second,
			"terminated r/a shutdown (killed)"},
		{"timeout, child not trapping stops at once", runtime.ShutdownPolicy(5 * time.Second), nil, 0, 0,
			"terminated r/a shutdown (shutdown)"},
		{"default timeout is 5s", 0, []opt{trapping(time.Hour)}, 2, 5 * time.Second,
			"terminated r/a shutdown (killed)"},
		{"brutal_kill kills a trapping child at once", runtime.BrutalKill, []opt{trapping(time.Hour)}, 0, 0,
			"terminated r/a shutdown (killed)"},
		{"infinity waits", runtime.Infinity, []opt{trapping(time.Hour)}, 1, time.Hour,
			"terminated r/a shutdown (shutdown)"},
		{"a killed child outside the runtime is abandoned", runtime.ShutdownPolicy(time.Second), []opt{stuck()}, 1, time.Second,
			"terminated r/a shutdown (killed)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tt := newTree(t)
			tt.start(flags(runtime.OneForOne, 1), tt.worker("a", append(c.child, shutdown(c.policy))...), tt.worker("b"))
			tt.rec.expect(t, "started r/a boot", "started r/b boot")
			done := make(chan bool, 1)
			go func() { done <- shutdownWithin(tt.root, runtime.Forever) }()
			tt.rec.expect(t, "terminated r/b shutdown (shutdown)")
			if c.timers > 0 {
				if c.name == "a killed child outside the runtime is abandoned" {
					tt.awaitBlocked("r/a")
				}
				if !tt.clock.AwaitTimers(c.timers, wait) {
					t.Fatalf("want %d timers, have %d", c.timers, tt.clock.Timers())
				}
				// Nothing can stop before the clock moves.
				if n := tt.rec.len(); n != tt.rec.cursor {
					t.Fatalf("stopped before its time:\n%s", lines(tt.rec.all()[tt.rec.cursor:]))
				}
				tt.clock.Advance(c.step)
			}
			<-done
			evs := tt.rec.expect(t, c.want)
			if c.name == "a killed child outside the runtime is abandoned" {
				if runtime.Strays() < 1 {
					t.Fatalf("Strays() = %d, want the abandoned child counted", runtime.Strays())
				}
				if evs[0].Pid.Alive() || !evs[0].NotStopped {
					t.Fatalf("the abandoned child: alive %v, NotStopped %v", evs[0].Pid.Alive(), evs[0].NotStopped)
				}
			}
			tt.rec.noMore(t)
		})
	}
}

// A killed child's link is gone by the time its terminated event is out, so
// when its goroutine unwinds later nothing reaches the supervisor.
func TestSupervisorKilledChildIsUnlinked(t *testing.T) {
	tt := newTree(t)
	root := tt.start(flags(runtime.OneForOne, 1), tt.worker("a", stuck(), shutdown(runtime.ShutdownPolicy(time.Second))), tt.worker("b"))
	tt.rec.expect(t, "started r/a boot", "started r/b boot")
	done := make(chan error, 1)
	go func() { done <- root.TerminateChild("a") }()
	tt.awaitBlocked("r/a")
	if !tt.clock.AwaitTimers(1, wait) {
		t.Fatal("the supervisor does not wait on the clock")
	}
	tt.clock.Advance(time.Second)
	mustf(t, <-done, "terminate a")
	if evs := tt.rec.expect(t, "terminated r/a operator (killed)"); !evs[0].NotStopped {
		t.Fatal("a child killed outside the runtime is not reported NotStopped")
	}
	close(tt.release) // the goroutine unwinds now
	tt.quiet()
	if got, want := tt.ids(root), "a:stopped b:running"; got != want {
		t.Fatalf("children %q, want %q", got, want)
	}
}
