package runtime_test

import (
	"errors"
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

func backoff(b runtime.Backoff) opt {
	return func(c *runtime.ChildSpec, _ *behaviour) { c.Backoff = b }
}

// startRand starts the root "r" as tt.start does, with u as every jitter
// number.
func (tt *tree) startRand(u float64, f runtime.Flags, children ...node) *runtime.Supervisor {
	tt.t.Helper()
	spec := tt.supSpec("r", f, children...)
	spec.Rand = func() float64 { return u }
	s, err := runtime.StartSupervisor(nil, spec, runtime.WithClock(tt.clock))
	mustf(tt.t, err, "start")
	tt.mu.Lock()
	tt.root, tt.sups["r"] = s, s
	tt.mu.Unlock()
	return s
}

// pending returns the state of child id of s and the time left before
// its delayed restart (zero when none is pending).
func pending(t testing.TB, s *runtime.Supervisor, id string) (runtime.ChildState, time.Duration) {
	t.Helper()
	snap, err := s.Snapshot()
	mustf(t, err, "snapshot")
	for _, c := range snap.Children {
		if c.ID == id {
			if c.RestartDue.IsZero() {
				return c.State, 0
			}
			return c.State, c.RestartDue.Sub(snap.Taken)
		}
	}
	t.Fatalf("no child %s", id)
	return "", 0
}

// crashAndWait makes r/id crash and checks that its restart waits exactly
// want: not started a nanosecond before, started at want.
func (tt *tree) crashAndWait(s *runtime.Supervisor, id string, want time.Duration) {
	tt.t.Helper()
	tt.exit("r/"+id, boom)
	tt.rec.expect(tt.t, "exited r/"+id+" (boom)")
	tt.sync()
	if st, left := pending(tt.t, s, id); st != runtime.StateRestarting || left != want {
		tt.t.Fatalf("after crash: %s, restart in %v; want restarting in %v", st, left, want)
	}
	tt.clock.Advance(want - time.Nanosecond)
	tt.sync()
	if st, _ := pending(tt.t, s, id); st != runtime.StateRestarting {
		tt.t.Fatalf("a nanosecond before its delay: %s, want restarting", st)
	}
	tt.rec.noMore(tt.t)
	tt.clock.Advance(time.Nanosecond)
	tt.rec.expect(tt.t, "started r/"+id+" crash <-r/"+id)
}

func TestBackoffDelaysGrowAndCap(t *testing.T) {
	tt := newTree(t)
	b := runtime.Backoff{Initial: time.Second, Max: 5 * time.Second, Factor: 2, ResetAfter: time.Hour}
	s := tt.start(flags(runtime.OneForOne, 100), tt.worker("a", backoff(b)))
	tt.rec.expect(t, "started r/a boot")
	for _, want := range []time.Duration{1, 2, 4, 5, 5} {
		tt.crashAndWait(s, "a", want*time.Second)
	}
	tt.quiet()
}

func TestBackoffDelay(t *testing.T) {
	cases := []struct {
		b    runtime.Backoff
		n    int
		want time.Duration
	}{
		{runtime.Backoff{}, 1, 0},
		{runtime.Backoff{Initial: time.Second}, 7, time.Second}, // fixed
		{runtime.Backoff{Initial: 100 * time.Millisecond, Max: 30 * time.Second, Factor: 2}, 1, 100 * time.Millisecond},
		{runtime.Backoff{Initial: 100 * time.Millisecond, Max: 30 * time.Second, Factor: 2}, 4, 800 * time.Millisecond},
		{runtime.Backoff{Initial: 100 * time.Millisecond, Max: 30 * time.Second, Factor: 2}, 10_000, 30 * time.Second},
		{runtime.Backoff{Initial: time.Second, Max: 10 * time.Second, Factor: 1.5}, 3, 2250 * time.Millisecond},
	}
	for _, c := range cases {
		if got := c.b.Delay(c.n); got != c.want {
			t.Errorf("%+v.Delay(%d) = %v, want %v", c.b, c.n, got, c.want)
		}
	}
}

// Jitter spreads a delay by up to ±jitter, from the supervisor's numbers.
func TestBackoffJitterBounds(t *testing.T) {
	for _, c := range []struct {
		u    float64
		want time.Duration
	}{
		{0, 900 * time.Millisecond},
		{0.5, time.Second},
		{0.75, 1050 * time.Millisecond},
	} {
		tt := newTree(t)
		b := runtime.Backoff{Initial: time.Second, Jitter: 0.1}
		s := tt.startRand(c.u, flags(runtime.OneForOne, 100), tt.worker("a", backoff(b)))
		tt.rec.expect(t, "started r/a boot")
		tt.crashAndWait(s, "a", c.want)
		tt.stop(0)
	}
}

// The count of consecutive restarts goes back to zero once the child has
// run reset_after.
func TestBackoffResetAfter(t *testing.T) {
	tt := newTree(t)
	b := runtime.Backoff{Initial: time.Second, Max: time.Minute, Factor: 2, ResetAfter: 10 * time.Second}
	s := tt.start(flags(runtime.OneForOne, 100), tt.worker("a", backoff(b)))
	tt.rec.expect(t, "started r/a boot")
	tt.clock.Advance(10*time.Second - time.Nanosecond) // not quite reset_after
	tt.crashAndWait(s, "a", time.Second)               // the first, all the same
	tt.crashAndWait(s, "a", 2*time.Second)
	tt.clock.Advance(10*time.Second - time.Nanosecond)
	tt.crashAndWait(s, "a", 4*time.Second)
	tt.clock.Advance(10 * time.Second) // ran reset_after
	tt.crashAndWait(s, "a", time.Second)
	tt.quiet()
}

// While a restart waits, the supervisor answers, handles a sibling's
// crash, and stops cleanly on shutdown, without starting the child.
func TestBackoffSupervisorAnswersWhilePending(t *testing.T) {
	tt := newTree(t)
	s := tt.start(flags(runtime.OneForOne, 100),
		tt.worker("a", backoff(runtime.Backoff{Initial: time.Minute})), tt.worker("b"))
	tt.rec.expect(t, "started r/a boot", "started r/b boot")
	tt.exit("r/a", boom)
	tt.rec.expect(t, "exited r/a (boom)")
	infos, err := s.WhichChildren()
	mustf(t, err, "which_children")
	if infos[1].ID != "a" || infos[1].State != runtime.StateRestarting || !infos[1].Pid.IsZero() {
		t.Fatalf("a: %+v, want restarting with no process", infos[1])
	}
	if st, left := pending(t, s, "a"); st != runtime.StateRestarting || left != time.Minute {
		t.Fatalf("a: %s in %v", st, left)
	}
	tt.exit("r/b", boom)
	tt.rec.expect(t, "exited r/b (boom)", "started r/b crash <-r/b")
	if got := tt.ids(s); got != "a:restarting b:running" {
		t.Fatalf("children: %s", got)
	}
	tt.stop(0)
	tt.rec.expect(t, "terminated r/b shutdown (shutdown)")
	tt.quiet()
	if n := tt.clock.Timers(); n != 0 {
		t.Fatalf("%d timers left after shutdown, want the pending restart's cancelled", n)
	}
}

// An operator's restart of a child waiting for its backoff starts it at
// once, and the wait's timer then does nothing.
func TestBackoffOperatorRestartSkipsWait(t *testing.T) {
	tt := newTree(t)
	s := tt.start(flags(runtime.OneForOne, 100), tt.worker("a", backoff(runtime.Backoff{Initial: time.Minute})))
	tt.rec.expect(t, "started r/a boot")
	tt.exit("r/a", boom)
	tt.rec.expect(t, "exited r/a (boom)")
	pid, err := s.RestartChild("a")
	mustf(t, err, "restart_child")
	if pid.IsZero() {
		t.Fatal("restart_child gave no process")
	}
	tt.rec.expect(t, "started r/a operator")
	tt.clock.Advance(time.Hour)
	tt.quiet()
	if got := tt.ids(s); got != "a:running" {
		t.Fatalf("children: %s", got)
	}
	// Without a pending wait, restart_child still answers as OTP's.
	if _, err := s.RestartChild("a"); !errors.Is(err, runtime.ErrRunning) {
		t.Fatalf("restart_child of a running child: %v", err)
	}
}

// Under one_for_all the siblings stop at once and the group starts after
// the delay of the child that crashed.
func TestBackoffGroupRestart(t *testing.T) {
	tt := newTree(t)
	s := tt.start(flags(runtime.OneForAll, 100),
		tt.worker("a", backoff(runtime.Backoff{Initial: 3 * time.Second})), tt.worker("b"))
	tt.rec.expect(t, "started r/a boot", "started r/b boot")
	tt.exit("r/a", boom)
	tt.rec.expect(t, "exited r/a (boom)", "terminated r/b sibling <-r/a (shutdown)")
	tt.sync()
	if got := tt.ids(s); got != "a:restarting b:stopped" {
		t.Fatalf("children: %s", got)
	}
	tt.clock.Advance(3 * time.Second)
	tt.rec.expect(t, "started r/a crash <-r/a", "started r/b sibling <-r/a")
	tt.quiet()
}

// The supervisor's Backoff is the default of its children that set none.
func TestBackoffSupervisorDefault(t *testing.T) {
	tt := newTree(t)
	f := flags(runtime.OneForOne, 100)
	f.Backoff = runtime.Backoff{Initial: 2 * time.Second}
	s := tt.start(f, tt.worker("a"), tt.worker("b", backoff(runtime.Backoff{Initial: 7 * time.Second})))
	tt.rec.expect(t, "started r/a boot", "started r/b boot")
	tt.crashAndWait(s, "a", 2*time.Second)
	tt.crashAndWait(s, "b", 7*time.Second)
	tt.quiet()
}

func TestBackoffInvalid(t *testing.T) {
	for _, b := range []runtime.Backoff{
		{Initial: -1},
		{Initial: 2 * time.Second, Max: time.Second},
		{Initial: time.Second, Factor: 0.5},
		{Initial: time.Second, Jitter: 1},
		{Initial: time.Second, ResetAfter: -1},
		{Max: time.Second}, // no initial
	} {
		tt := newTree(t)
		if _, err := tt.tryStart(flags(runtime.OneForOne, 1), tt.worker("a", backoff(b))); !errors.Is(err, runtime.ErrInvalidSpec) {
			t.Errorf("%+v: %v, want invalid spec", b, err)
		}
	}
}

// The README's worked example ("Backoff and intensity"): a child that
// crashes 2 s after each start, under max_frequency 3 in period 10s. The
// intensity counts each restart when it is decided, at the crash; backoff
// only delays the start. The numbers here are the README's.
func TestBackoffIntensityWorkedExample(t *testing.T) {
	cases := []struct {
		name    string
		b       runtime.Backoff
		crashes []time.Duration // when it crashes, from the first start
		giveUp  bool            // on the last crash
	}{
		{"no backoff", runtime.Backoff{}, secs(2, 4, 6, 8), true},
		{"backoff 1s", runtime.Backoff{Initial: time.Second}, secs(2, 5, 8, 11), true},
		{"backoff 2s", runtime.Backoff{Initial: 2 * time.Second}, secs(2, 6, 10, 14, 18, 22, 26, 30), false},
		{"backoff 1s doubling", runtime.Backoff{Initial: time.Second, Max: 30 * time.Second, Factor: 2, ResetAfter: time.Minute},
			secs(2, 5, 9, 15, 25, 43, 75, 107), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tt := newTree(t)
			s := tt.start(runtime.Flags{MaxFrequency: 3, Period: 10 * time.Second}, tt.worker("a", backoff(c.b)))
			tt.rec.expect(t, "started r/a boot")
			began := tt.clock.Now()
			for i, at := range c.crashes {
				tt.clock.Advance(at - tt.clock.Now().Sub(began)) // it runs 2s...
				tt.exit("r/a", boom)                             // ...and crashes
				if i == len(c.crashes)-1 && c.giveUp {
					tt.rec.expect(t, "exited r/a (boom)", "give_up r <-r/a (reached_max_restart_intensity)")
					<-s.Done()
					return
				}
				tt.rec.expect(t, "exited r/a (boom)")
				tt.sync()
				_, left := pending(t, s, "a")
				tt.clock.Advance(left)
				if left == 0 {
					tt.sync()
				}
				tt.rec.expect(t, "started r/a crash <-r/a")
				if i+1 < len(c.crashes) && c.crashes[i+1]-tt.clock.Now().Sub(began) != 2*time.Second {
					t.Fatalf("crash %d: restarted at %v, so the next crash is not at %v", i+1, tt.clock.Now().Sub(began), c.crashes[i+1])
				}
			}
			tt.quiet()
		})
	}
}

func secs(ss ...int) []time.Duration {
	out := make([]time.Duration, len(ss))
	for i, s := range ss {
		out[i] = time.Duration(s) * time.Second
	}
	return out
}

// An operator's restart of a child waiting under one_for_all starts the
// whole group now.
func TestBackoffOperatorRestartStartsGroup(t *testing.T) {
	tt := newTree(t)
	s := tt.start(flags(runtime.OneForAll, 100),
		tt.worker("a"), tt.worker("b", backoff(runtime.Backoff{Initial: time.Hour})))
	tt.rec.expect(t, "started r/a boot", "started r/b boot")
	tt.exit("r/b", boom)
	tt.rec.expect(t, "exited r/b (boom)", "terminated r/a sibling <-r/b (shutdown)")
	_, err := s.RestartChild("b")
	mustf(t, err, "restart_child")
	tt.rec.expect(t, "started r/a sibling <-r/b", "started r/b operator")
	tt.clock.Advance(time.Hour)
	tt.quiet()
}
