package runtime_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otpctl/otpctl/otptest"
	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/workers"
	"github.com/otpctl/otpctl/workers/builtin"
)

// OTP's add_restart: more than max_frequency restarts within period and the
// supervisor gives up; a restart exactly period ago still counts (OTP keeps
// a restart while it is >= Now - Period), one a nanosecond older does not.
// otpctl measures exact time where OTP counts whole seconds: the rows for
// 1 in 1s are the README's example of the difference.
func TestSupervisorIntensity(t *testing.T) {
	const period = 5 * time.Second
	cases := []struct {
		name    string
		maxFreq int
		period  time.Duration
		gaps    []time.Duration // clock advance before each crash
		giveUp  bool            // on the last crash
	}{
		{"zero allows none", 0, period, []time.Duration{0}, true},
		{"at the limit", 3, period, []time.Duration{0, 0, 0}, false},
		{"one over", 3, period, []time.Duration{0, 0, 0, 0}, true},
		{"one over, spread inside the period", 2, period, []time.Duration{0, 2 * time.Second, 2 * time.Second}, true},
		{"one over, first exactly period ago", 2, period, []time.Duration{0, period / 2, period / 2}, true},
		{"first just outside the period", 2, period, []time.Duration{0, period / 2, period/2 + time.Nanosecond}, false},
		{"all outside the period", 1, period, []time.Duration{0, period + 1, period + 1, period + 1}, false},
		{"window slides", 2, period, []time.Duration{0, 4 * time.Second, 2 * time.Second, time.Second}, true},
		// OTP, in whole seconds, gives up on two crashes 1.3s apart
		// whenever they fall in consecutive seconds; otpctl does not.
		{"1 in 1s: crashes 1.3s apart", 1, time.Second, []time.Duration{0, 1300 * time.Millisecond}, false},
		{"1 in 1s: crashes exactly 1s apart", 1, time.Second, []time.Duration{0, time.Second}, true},
		{"1 in 1s: crashes 1s and 1ns apart", 1, time.Second, []time.Duration{0, time.Second + time.Nanosecond}, false},
		{"1 in 1s: crashes 0.7s apart", 1, time.Second, []time.Duration{0, 700 * time.Millisecond}, true},
		{"sub-second period: first exactly period ago", 2, 250 * time.Millisecond, []time.Duration{0, 100 * time.Millisecond, 150 * time.Millisecond}, true},
		{"sub-second period: first just outside", 2, 250 * time.Millisecond, []time.Duration{0, 100 * time.Millisecond, 150*time.Millisecond + time.Nanosecond}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := otptest.StartYAML(t, fmt.Sprintf(`
version: 1
name: r
supervisor:
  max_frequency: %d
  period: %s
  children: [{name: a, kind: echo}, {name: b, kind: echo}, {name: c, kind: echo}]
`, c.maxFreq, c.period), otptest.WithFakeClock())
			for i, gap := range c.gaps {
				tr.Advance(gap)
				m := tr.Mark()
				tr.Kill("r/b", "boom")
				if i < len(c.gaps)-1 || !c.giveUp {
					tr.AssertTrace(m, "exited r/b reason=boom", "started r/b cause=crash trigger=r/b")
					continue
				}
				tr.AssertTrace(m,
					"exited r/b reason=boom",
					"give_up r trigger=r/b reason=reached_max_restart_intensity",
					"terminated r/c cause=escalation trigger=r/b reason=shutdown",
					"terminated r/a cause=escalation trigger=r/b reason=shutdown",
					"exited r reason=shutdown")
			}
		})
	}
}

// flaky is the built-in kinds and "flaky", an echo whose next starts at a
// path fail with nope, as many as failNext says.
type flaky struct {
	*workers.Registry
	mu    sync.Mutex
	fails map[string]int
}

func newFlaky() *flaky {
	f := &flaky{Registry: workers.NewRegistry(), fails: map[string]int{}}
	builtin.Register(f.Registry)
	echo := builtin.Echo().Start
	f.Register(workers.Kind{Name: "flaky", Start: func(p *runtime.Process, w workers.Worker) (workers.Instance, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.fails[w.Path] > 0 {
			f.fails[w.Path]--
			return workers.Instance{}, nope
		}
		return echo(p, w)
	}})
	return f
}

func (f *flaky) failNext(path string, n int) {
	f.mu.Lock()
	f.fails[path] += n
	f.mu.Unlock()
}

// A restart that fails is retried through the mailbox, each try counting
// against the intensity again, until it succeeds or the supervisor gives up.
func TestSupervisorRestartFailureRetriesAndCounts(t *testing.T) {
	start := func(t *testing.T, strategy string, maxFreq int, names ...string) (*otptest.Tree, *flaky) {
		f := newFlaky()
		yaml := fmt.Sprintf("version: 1\nname: r\nsupervisor:\n  strategy: %s\n  max_frequency: %d\n  children:\n", strategy, maxFreq)
		for _, n := range names {
			yaml += "    - {name: " + n + ", kind: flaky}\n"
		}
		return otptest.StartYAML(t, yaml, otptest.WithRegistry(f.Registry), otptest.WithFakeClock()), f
	}
	t.Run("succeeds on the third try", func(t *testing.T) {
		tr, f := start(t, "one_for_one", 3, "a", "b")
		m := tr.Mark()
		f.failNext("r/a", 2)
		tr.Kill("r/a", "boom")
		tr.AssertTrace(m,
			"exited r/a reason=boom",
			"start_failed r/a cause=crash trigger=r/a reason=nope",
			"start_failed r/a cause=crash trigger=r/a reason=nope",
			"started r/a cause=crash trigger=r/a")
		snap := tr.Snapshot()
		if snap.Budget("r").Used != 3 || snap.State("r/a") != runtime.StateRunning || snap.Restarts("r/a") != 1 {
			t.Fatalf("want 3 used (one per try), a running and restarted once:\n%s", snap)
		}
	})
	t.Run("gives up", func(t *testing.T) {
		tr, f := start(t, "one_for_one", 2, "a", "b")
		m := tr.Mark()
		f.failNext("r/a", 3)
		tr.Kill("r/a", "boom")
		tr.AssertTrace(m,
			"exited r/a reason=boom",
			"start_failed r/a cause=crash trigger=r/a reason=nope",
			"start_failed r/a cause=crash trigger=r/a reason=nope",
			"give_up r trigger=r/a reason=reached_max_restart_intensity",
			"terminated r/b cause=escalation trigger=r/a reason=shutdown",
			"exited r reason=shutdown")
	})
	for _, c := range []struct {
		name, strategy string
		children       []string
		fail, kill     string
		trace          []string
	}{
		{"one_for_all: a sibling's failed start restarts all again", "one_for_all", []string{"a", "b", "c"}, "r/b", "r/a", []string{
			"exited r/a reason=boom",
			"terminated r/c cause=sibling trigger=r/a reason=shutdown",
			"terminated r/b cause=sibling trigger=r/a reason=shutdown",
			"started r/a cause=crash trigger=r/a",
			"start_failed r/b cause=sibling trigger=r/a reason=nope",
			// OTP's try_again_restart of b: one_for_all again
			"terminated r/a cause=sibling trigger=r/a reason=shutdown",
			"started r/a cause=sibling trigger=r/a",
			"started r/b cause=sibling trigger=r/a",
			"started r/c cause=sibling trigger=r/a"}},
		{"rest_for_one: the failed child and those after it", "rest_for_one", []string{"a", "b", "c", "d"}, "r/c", "r/b", []string{
			"exited r/b reason=boom",
			"terminated r/d cause=sibling trigger=r/b reason=shutdown",
			"terminated r/c cause=sibling trigger=r/b reason=shutdown",
			"started r/b cause=crash trigger=r/b",
			"start_failed r/c cause=sibling trigger=r/b reason=nope",
			// the retry restarts c and what follows it, not b
			"started r/c cause=sibling trigger=r/b",
			"started r/d cause=sibling trigger=r/b"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr, f := start(t, c.strategy, 5, c.children...)
			m := tr.Mark()
			f.failNext(c.fail, 1)
			tr.Kill(c.kill, "boom")
			tr.AssertTrace(m, c.trace...)
			// The crash's restart and the retry each count.
			if used := tr.Snapshot().Budget("r").Used; used != 2 {
				t.Fatalf("budget used %d, want 2", used)
			}
		})
	}
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
	// A reload that replaces a child whose restart is pending does not
	// start it out of turn: the new spec waits for the retry, which starts
	// it and the siblings the strategy stopped (here c, after b under
	// rest_for_one). Starting b at once left c stopped for good.
	t.Run("replace_child", func(t *testing.T) {
		tt := newTree(t)
		var root *runtime.Supervisor
		var err error
		var answered <-chan struct{}
		root = tt.start(flags(runtime.RestForOne, 5), tt.worker("a"),
			tt.scripted("b", func(n int, p *runtime.Process, start func() (runtime.Pid, error)) (runtime.Pid, error) {
				if n == 1 {
					return start()
				}
				answered = queue(p, func() { _, err = root.Apply(runtime.ReplaceChild{Spec: tt.worker("b")("r")}) })
				return runtime.Pid{}, nope
			}),
			tt.worker("c"))
		tt.rec.expect(t, "started r/a boot", "started r/b boot", "started r/c boot")
		tt.exit("r/b", boom)
		tt.rec.expect(t, "exited r/b (boom)", "terminated r/c sibling <-r/b (shutdown)",
			"start_failed r/b crash <-r/b (nope)",
			"started r/b crash <-r/b", "started r/c sibling <-r/b")
		<-answered
		mustf(t, err, "replace b")
		if got, want := tt.ids(root), "a:running b:running c:running"; got != want {
			t.Fatalf("children %q, want %q", got, want)
		}
		tt.quiet()
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
				answered = queue(p, func() { root.Shutdown(context.Background()) })
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
			_, err := root.Apply(runtime.ReplaceChild{Spec: tt.worker("b")("r")})
			mustf(t, err, "replace")
			tt.rec.expect(t, "terminated r/b reload (shutdown)", "started r/b reload")
			mustf(t, change(root, runtime.RemoveChild{ID: "b"}), "remove")
			tt.rec.expect(t, "terminated r/b reload (shutdown)")
			_, err = root.Apply(runtime.InsertChild{Pos: 1, Spec: tt.worker("b")("r")})
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
	after := map[string][]string{
		"one_for_one": {
			"started r/s/x cause=escalation trigger=r/s",
			"started r/s/y cause=escalation trigger=r/s",
			"started r/s cause=crash trigger=r/s",
		},
		"one_for_all": {
			"terminated r/c cause=sibling trigger=r/s reason=shutdown",
			"terminated r/a cause=sibling trigger=r/s reason=shutdown",
			"started r/a cause=sibling trigger=r/s",
			"started r/s/x cause=escalation trigger=r/s",
			"started r/s/y cause=escalation trigger=r/s",
			"started r/s cause=crash trigger=r/s",
			"started r/c cause=sibling trigger=r/s",
		},
		"rest_for_one": {
			"terminated r/c cause=sibling trigger=r/s reason=shutdown",
			"started r/s/x cause=escalation trigger=r/s",
			"started r/s/y cause=escalation trigger=r/s",
			"started r/s cause=crash trigger=r/s",
			"started r/c cause=sibling trigger=r/s",
		},
	}
	// a, then s (max_frequency 0: it gives up at the first crash) with x
	// and y, then c; r's strategy to fill in, and s's restart type.
	const asc = `
version: 1
name: r
supervisor:
  strategy: %s
  children:
    - {name: a, kind: echo}
    - name: s
      restart: %s
      supervisor:
        max_frequency: 0
        children: [{name: x, kind: echo}, {name: y, kind: echo}]
    - {name: c, kind: echo}
`
	gaveUp := []string{
		"exited r/s/x reason=boom",
		"give_up r/s trigger=r/s/x reason=reached_max_restart_intensity",
		"terminated r/s/y cause=escalation trigger=r/s/x reason=shutdown",
		"exited r/s reason=shutdown",
	}
	for strategy, rest := range after {
		t.Run(strategy, func(t *testing.T) {
			tr := otptest.StartYAML(t, fmt.Sprintf(asc, strategy, "permanent"), otptest.WithFakeClock())
			m := tr.Mark()
			tr.Kill("r/s/x", "boom")
			tr.AssertTrace(m, append(gaveUp, rest...)...)
		})
	}
	t.Run("transient nested supervisor is not restarted", func(t *testing.T) {
		tr := otptest.StartYAML(t, fmt.Sprintf(asc, "one_for_all", "transient"), otptest.WithFakeClock())
		m := tr.Mark()
		tr.Kill("r/s/x", "boom")
		tr.AssertTrace(m, gaveUp...)
		if got, want := tr.Snapshot().Children("r"), "a:running s:stopped c:running"; got != want {
			t.Fatalf("children %q, want %q", got, want)
		}
	})
	t.Run("up to the root", func(t *testing.T) {
		tr := otptest.StartYAML(t, `
version: 1
name: r
supervisor:
  max_frequency: 0
  children:
    - {name: a, kind: echo}
    - name: s
      supervisor:
        max_frequency: 0
        children:
          - name: t
            supervisor:
              max_frequency: 0
              children: [{name: x, kind: echo}]
    - {name: c, kind: echo}
`, otptest.WithFakeClock())
		m := tr.Mark()
		tr.Kill("r/s/t/x", "killed")
		tr.AssertTrace(m,
			"exited r/s/t/x reason=killed",
			"give_up r/s/t trigger=r/s/t/x reason=reached_max_restart_intensity",
			"exited r/s/t reason=shutdown",
			"give_up r/s trigger=r/s/t reason=reached_max_restart_intensity",
			"exited r/s reason=shutdown",
			"give_up r trigger=r/s reason=reached_max_restart_intensity",
			"terminated r/c cause=escalation trigger=r/s reason=shutdown",
			"terminated r/a cause=escalation trigger=r/s reason=shutdown",
			"exited r reason=shutdown")
	})
	t.Run("a sibling restart stops a nested supervisor depth first", func(t *testing.T) {
		tr := otptest.StartYAML(t, strings.Replace(fmt.Sprintf(asc, "one_for_all", "permanent"), "max_frequency: 0", "max_frequency: 1", 1), otptest.WithFakeClock())
		m := tr.Mark()
		tr.Kill("r/a", "boom")
		tr.AssertTrace(m,
			"exited r/a reason=boom",
			"terminated r/c cause=sibling trigger=r/a reason=shutdown",
			"terminated r/s/y cause=escalation trigger=r/a reason=shutdown",
			"terminated r/s/x cause=escalation trigger=r/a reason=shutdown",
			"terminated r/s cause=sibling trigger=r/a reason=shutdown",
			"started r/a cause=crash trigger=r/a",
			"started r/s/x cause=escalation trigger=r/a",
			"started r/s/y cause=escalation trigger=r/a",
			"started r/s cause=sibling trigger=r/a",
			"started r/c cause=sibling trigger=r/a")
	})
}

// The ring keeps at most max_frequency+1 times, whatever the restart rate:
// hundreds of restarts spread out never make a supervisor with intensity 2
// give up.
func TestSupervisorIntensityManyRestartsOutsideWindow(t *testing.T) {
	tr := otptest.StartYAML(t, `
version: 1
name: r
supervisor:
  max_frequency: 2
  period: 1s
  children: [{name: a, kind: echo}]
`, otptest.WithFakeClock())
	n := 500
	if testing.Short() {
		n = 50
	}
	for range n {
		tr.Advance(600 * time.Millisecond) // two restarts per period at most
		m := tr.Mark()
		tr.Kill("r/a", "boom")
		tr.AssertTrace(m, "exited r/a reason=boom", "started r/a cause=crash trigger=r/a")
	}
	snap := tr.Snapshot()
	if snap.Budget("r").Used != 2 || snap.Restarts("r/a") != n {
		t.Fatalf("want budget 2 used and %d restarts:\n%s", n, snap)
	}
}
