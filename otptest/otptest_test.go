package otptest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/loader"
	"github.com/otpctl/otpctl/otptest"
	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/workers"
	"github.com/otpctl/otpctl/workers/builtin"
)

func TestStartFromAFileWithItsIncludes(t *testing.T) {
	tree := otptest.Start(t, "testdata/shop.yaml")
	tree.AssertTrace(0,
		"started shop/counter cause=boot",
		"started shop/pool/w1 cause=boot",
		"started shop/pool/w2 cause=boot",
		"started shop/pool cause=boot",
		"started shop/payments/ledger cause=boot",
		"started shop/payments/gateway cause=boot",
		"started shop/payments cause=boot",
		"started shop/jobs cause=boot",
		"started shop cause=boot")
	snap := tree.Snapshot()
	if got, want := snap.Children("shop"), "counter:running pool:running payments:running jobs:running"; got != want {
		t.Errorf("children %q, want %q", got, want)
	}
	if b := snap.Budget("shop/pool"); b != (live.Budget{Used: 0, Max: 3, Period: "10s"}) {
		t.Errorf("pool's budget %+v", b)
	}
	if snap.Pid("shop/counter").IsZero() || snap.State("shop/pool/w2") != runtime.StateRunning || snap.Restarts("shop/pool/w1") != 0 {
		t.Errorf("snapshot:\n%s", snap)
	}
	if got := string(tree.Call("shop/counter", `{"op":"increment"}`)); got != `{"value":41}` {
		t.Errorf("increment = %s", got)
	}
	if got := string(tree.Call("shop/counter", map[string]string{"op": "get"})); got != `{"value":41}` {
		t.Errorf("get = %s", got)
	}
}

func TestInvalidTreeFailsWithEveryDiagnostic(t *testing.T) {
	f := runFake(func(tb testing.TB) { otptest.Start(tb, "testdata/bad.yaml") })
	for _, want := range []string{
		"otptest: testdata/bad.yaml is not a valid tree:\n",
		"\ttestdata/bad.yaml:4:13: ",
		"\ttestdata/bad.yaml:6:24: kind: unknown kind \"ech\" (did you mean \"echo\"?)\n",
		"\ttestdata/bad.yaml:7:14: ",
	} {
		if !strings.Contains(f.fatal, want) {
			t.Errorf("message lacks %q:\n%s", want, f.fatal)
		}
	}
	f = runFake(func(tb testing.TB) {
		otptest.StartYAML(tb, "version: 1\nname: x\nsupervisor:\n  children:\n    - {name: a, kind: nope}\n")
	})
	if !strings.HasPrefix(f.fatal, "otptest: the YAML is not a valid tree:\n\tinline.yaml:5:") {
		t.Errorf("message:\n%s", f.fatal)
	}
}

func TestStartFailureNamesTheNode(t *testing.T) {
	reg := workers.NewRegistry()
	builtin.Register(reg)
	reg.Register(workers.Kind{Name: "broken", Start: func(*runtime.Process, workers.Worker) (workers.Instance, error) {
		return workers.Instance{}, errors.New("no database")
	}})
	f := runFake(func(tb testing.TB) {
		otptest.StartYAML(tb, `
version: 1
name: shop
supervisor:
  children:
    - {name: cache, kind: cache}
    - {name: db, kind: broken}
`, otptest.WithRegistry(reg))
	})
	want := `otptest: shop did not start: shop/db failed to start: no database
events after #0:
	  1  started shop/cache cause=boot
	  2  start_failed shop/db cause=boot reason=no database
	  3  terminated shop/cache cause=shutdown trigger=shop/db reason=shutdown`
	if f.failed() != want {
		t.Errorf("message:\n%s\nwant:\n%s", f.failed(), want)
	}
}

const pair = `
version: 1
name: r
supervisor:
  strategy: one_for_all
  max_frequency: 3
  children:
    - {name: a, kind: echo}
    - {name: b, kind: echo}
`

// The trace assertion's failure shows both traces side by side, numbered,
// with the first difference marked.
func TestWrongTracePrintsBothAligned(t *testing.T) {
	f := runFake(func(tb testing.TB) {
		tree := otptest.StartYAML(tb, pair, otptest.WithFakeClock())
		m := tree.Mark()
		tree.Kill("r/b", "boom")
		tree.AssertTrace(m,
			"exited r/b reason=boom",
			"started r/b cause=crash trigger=r/b")
	})
	want := `otptest: the trace after #3 differs from the one expected:
     want                                 got
  1  exited r/b reason=boom               exited r/b reason=boom
> 2  started r/b cause=crash trigger=r/b  terminated r/a cause=sibling trigger=r/b reason=shutdown
  3  (nothing)                            started r/a cause=sibling trigger=r/b
  4  (nothing)                            started r/b cause=crash trigger=r/b`
	if f.failed() != want {
		t.Errorf("message:\n%s\nwant:\n%s", f.failed(), want)
	}
}

// An expected event that never comes: the wait is bounded, and the message
// says how long it waited.
func TestTraceWithMissingEvents(t *testing.T) {
	f := runFake(func(tb testing.TB) {
		tree := otptest.StartYAML(tb, pair, otptest.WithTimeout(50*time.Millisecond))
		m := tree.Mark()
		tree.Stop("r/b")
		tree.AssertTrace(m,
			"terminated r/b cause=operator reason=shutdown",
			"started r/b cause=operator")
	})
	want := `otptest: the trace after #3 differs from the one expected:
     want                                           got
  1  terminated r/b cause=operator reason=shutdown  terminated r/b cause=operator reason=shutdown
> 2  started r/b cause=operator                     (nothing)
(waited 50ms for 2 events)`
	if f.failed() != want {
		t.Errorf("message:\n%s\nwant:\n%s", f.failed(), want)
	}
}

func TestAwait(t *testing.T) {
	tree := otptest.StartYAML(t, pair, otptest.WithFakeClock())
	tree.Mark()
	tree.Kill("r/a", "")
	b := tree.Await(otptest.Started("r/b").Cause(runtime.CauseSibling).Trigger("r/a"))
	if b.Proc.IsZero() || b.Kind != "echo" {
		t.Errorf("event %+v", b)
	}
	// Awaits read the stream in order: this is the second crash, not the
	// first.
	tree.Kill("r/a", "disk full")
	tree.Await(otptest.Exited("r/a").Reason("disk full"))
	tree.Await(otptest.Started("r/b").Where("a new pid", func(e live.Event) bool { return e.Proc != b.Proc }))

	// Events the Awaits skipped are reported by AssertQuiet.
	f := runFake(func(tb testing.TB) {
		tree := otptest.StartYAML(tb, pair)
		m := tree.Mark()
		tree.Kill("r/a", "boom")
		tree.Await(otptest.Started("r/b"))
		tree.AssertQuiet(m)
	})
	want := `otptest: AssertQuiet: something else happened after #3:
	  4  exited r/a reason=boom
	  5  terminated r/b cause=sibling trigger=r/a reason=shutdown
	  6  started r/a cause=crash trigger=r/a
events after #3:
	  4  exited r/a reason=boom
	  5  terminated r/b cause=sibling trigger=r/a reason=shutdown
	  6  started r/a cause=crash trigger=r/a
	  7  started r/b cause=sibling trigger=r/a`
	if f.failed() != want {
		t.Errorf("message:\n%s\nwant:\n%s", f.failed(), want)
	}
}

func TestAwaitTimesOut(t *testing.T) {
	f := runFake(func(tb testing.TB) {
		tree := otptest.StartYAML(tb, pair, otptest.WithTimeout(20*time.Millisecond))
		tree.Mark()
		tree.Stop("r/a")
		tree.Await(otptest.Started("r/a").Cause(runtime.CauseCrash))
	})
	want := "otptest: Await started r/a cause=crash: not seen in 20ms\nevents after #3:\n\t  4  terminated r/a cause=operator reason=shutdown"
	if f.failed() != want {
		t.Errorf("message:\n%s\nwant:\n%s", f.failed(), want)
	}
}

// Intensity on the fake clock: two crashes within the period are allowed,
// a third gives up unless the window has slid past the first.
func TestFakeClockIntensity(t *testing.T) {
	tree := otptest.Start(t, "testdata/shop.yaml", otptest.WithFakeClock())
	for range 2 {
		m := tree.Mark()
		tree.Kill("shop/counter", "boom")
		tree.AssertTrace(m, "exited shop/counter reason=boom", "started shop/counter cause=crash trigger=shop/counter")
		tree.Advance(2 * time.Second)
	}
	if b := tree.Snapshot().Budget("shop"); b.Used != 2 {
		t.Fatalf("budget %+v, want 2 used", b)
	}
	tree.Advance(1500 * time.Millisecond) // the first crash is now 5.5s ago
	m := tree.Mark()
	tree.Kill("shop/counter", "boom")
	tree.AssertTrace(m, "exited shop/counter reason=boom", "started shop/counter cause=crash trigger=shop/counter")
	snap := tree.Snapshot()
	if snap.Budget("shop").Used != 2 || snap.Restarts("shop/counter") != 3 {
		t.Fatalf("after 3 crashes, one out of the window:\n%s", snap)
	}
	m = tree.Mark()
	tree.Kill("shop/counter", "boom")
	tree.AssertTrace(m,
		"exited shop/counter reason=boom",
		"give_up shop trigger=shop/counter reason=reached_max_restart_intensity",
		"terminated shop/jobs cause=escalation trigger=shop/counter reason=shutdown",
		"terminated shop/payments/gateway cause=escalation trigger=shop/counter reason=shutdown",
		"terminated shop/payments/ledger cause=escalation trigger=shop/counter reason=shutdown",
		"terminated shop/payments cause=escalation trigger=shop/counter reason=shutdown",
		"terminated shop/pool/w2 cause=escalation trigger=shop/counter reason=shutdown",
		"terminated shop/pool/w1 cause=escalation trigger=shop/counter reason=shutdown",
		"terminated shop/pool cause=escalation trigger=shop/counter reason=shutdown",
		"exited shop reason=shutdown")
	if !tree.Running().GaveUp() {
		t.Error("GaveUp is false")
	}
}

// Killing a supervisor kills its workers through their links, while its
// nested supervisors, orphaned, stop their own children on their
// goroutines at the same time as r restarts s. Here the orphan r/s/t waits
// on the fake clock for mule, which ignores the request to stop: the tree
// has not settled until the clock passes mule's shutdown time, and an
// assertion before that fails rather than missing t's events.
func TestKilledSupervisorSettles(t *testing.T) {
	const yaml = `
version: 1
name: r
supervisor:
  children:
    - name: s
      supervisor:
        children:
          - {name: x, kind: echo}
          - name: t
            supervisor:
              children:
                - {name: y, kind: echo}
                - {name: mule, kind: stubborn, shutdown: 5s}
`
	restarted := []string{
		"terminated r/s/x cause=escalation trigger=r/s reason=killed",
		"exited r/s reason=killed",
		"started r/s/x cause=escalation trigger=r/s",
		"started r/s/t/y cause=escalation trigger=r/s",
		"started r/s/t/mule cause=escalation trigger=r/s",
		"started r/s/t cause=escalation trigger=r/s",
		"started r/s cause=crash trigger=r/s",
	}
	f := runFake(func(tb testing.TB) {
		tree := otptest.StartYAML(tb, yaml, otptest.WithRegistry(stubbornKinds()), otptest.WithFakeClock(), otptest.WithTimeout(50*time.Millisecond))
		m := tree.Mark()
		tree.Kill("r/s", "killed")
		tree.AssertEvents(m, restarted...)
	})
	if !strings.Contains(f.failed(), "otptest: the events (in any order) after #6 are as expected, but the tree did not settle: r/s/t") {
		t.Errorf("message:\n%s", f.failed())
	}

	tree := otptest.StartYAML(t, yaml, otptest.WithRegistry(stubbornKinds()), otptest.WithFakeClock())
	m := tree.Mark()
	tree.Kill("r/s", "killed")
	// Once s is back (its workers' init timeouts are on the fake clock
	// too), the only timer is t's wait for mule.
	tree.Await(otptest.Started("r/s"))
	if !tree.Clock().AwaitTimers(1, otptest.DefaultTimeout) {
		t.Fatal("r/s/t is not waiting for mule")
	}
	tree.Advance(5 * time.Second)
	tree.AssertEvents(m, append(restarted,
		"terminated r/s/t/mule cause=escalation trigger=r/s reason=killed",
		"terminated r/s/t/y cause=escalation trigger=r/s reason=shutdown",
		"terminated r/s/t cause=escalation trigger=r/s reason=killed")...)
	tree.AssertQuiet(m)
}

func TestSteering(t *testing.T) {
	tree := otptest.Start(t, "testdata/shop.yaml", otptest.WithFakeClock())
	m := tree.Mark()
	tree.Stop("shop/pool/w1")
	if got := tree.Snapshot().Children("shop/pool"); got != "w1:stopped w2:running" {
		t.Errorf("pool after stop: %s", got)
	}
	if got := tree.Start("shop/pool/w1"); got != "shop/pool/w1" {
		t.Errorf("Start returned %q", got)
	}
	tree.Restart("shop/pool/w1")
	j1 := tree.Start("shop/jobs")
	j2 := tree.StartChild("shop/jobs", "night", `{}`)
	if j1 != "shop/jobs/echo-1" || j2 != "shop/jobs/night" {
		t.Errorf("dynamic children %q %q", j1, j2)
	}
	if got := string(tree.Call(j2, json.RawMessage(`[1,2]`))); got != `[1,2]` {
		t.Errorf("echo replied %s", got)
	}
	m = tree.AssertTrace(m,
		"terminated shop/pool/w1 cause=operator reason=shutdown",
		"started shop/pool/w1 cause=operator",
		"terminated shop/pool/w1 cause=operator reason=shutdown",
		"started shop/pool/w1 cause=operator",
		"started shop/jobs/echo-1 cause=operator",
		"started shop/jobs/night cause=operator")
	snap := tree.Snapshot()
	if snap.Restarts("shop/pool/w1") != 2 || snap.Budget("shop/pool").Used != 0 {
		t.Errorf("operator restarts counted:\n%s", snap)
	}
	var re *workers.ReplyError
	if _, err := tree.TryCall("shop/counter", `{"op":"fly"}`); !errors.As(err, &re) {
		t.Errorf("TryCall with a bad op: %v", err)
	}
	tree.AssertQuiet(m)

	f := runFake(func(tb testing.TB) {
		tree := otptest.StartYAML(tb, pair)
		tree.Stop("r")
	})
	if want := "otptest: stop r: the root is stopped with shutdown"; f.failed() != want {
		t.Errorf("message %q, want %q", f.failed(), want)
	}
}

// Shutdown stops the tree in reverse order; its trace can be asserted.
func TestShutdownTrace(t *testing.T) {
	tree := otptest.StartYAML(t, pair)
	m := tree.Mark()
	tree.Shutdown()
	tree.AssertTrace(m,
		"terminated r/b cause=shutdown reason=shutdown",
		"terminated r/a cause=shutdown reason=shutdown",
		"terminated r cause=shutdown reason=shutdown")
	tree.AssertQuiet(m)
}

// The stop at the end of the test waits on the fake clock for a child that
// takes its shutdown time, and fails the test when a process of the tree
// is left alive: here one that traps exits and ignores them, orphaned when
// its supervisor was killed.
func TestCleanup(t *testing.T) {
	reg := stubbornKinds()
	f := runFake(func(tb testing.TB) {
		tree := otptest.StartYAML(tb, `
version: 1
name: r
supervisor:
  children:
    - {name: mule, kind: stubborn, shutdown: 30s}
`, otptest.WithRegistry(reg), otptest.WithFakeClock())
		tree.Mark()
	})
	if f.failed() != "" {
		t.Errorf("a child stopped by its shutdown timeout on the fake clock: %s", f.failed())
	}

	var mule runtime.Pid
	f = runFake(func(tb testing.TB) {
		tree := otptest.StartYAML(tb, `
version: 1
name: r
supervisor:
  children:
    - name: s
      supervisor:
        children:
          - {name: mule, kind: stubborn, shutdown: brutal_kill}
`, otptest.WithRegistry(reg), otptest.WithTimeout(20*time.Millisecond))
		mule = tree.Snapshot().Pid("r/s/mule")
		m := tree.Mark()
		tree.Kill("r/s", "killed")
		tree.AssertQuiet(m)
	})
	defer runtime.Exit(mule, runtime.Killed)
	want := fmt.Sprintf(`otptest: at the end of the test: still alive after the tree stopped: r/s/mule %v
otptest: AssertQuiet: the tree did not settle: r/s/mule %v is alive outside the tree (still stopping)
events after #3:`, mule, mule)
	if got := f.failed(); !strings.HasPrefix(got, want) {
		t.Errorf("message:\n%s\nwant it to start with:\n%s", got, want)
	}
}

// An exec worker's OS process is gone when the test ends.
func TestExecWorkerIsGoneAfterTheTest(t *testing.T) {
	var osPid int
	f := runFake(func(tb testing.TB) {
		tree := otptest.StartYAML(tb, `
version: 1
name: r
supervisor:
  children:
    - {name: sleeper, kind: exec, args: {command: [sleep, "60"]}}
`)
		osPid = tree.Snapshot().Node("r/sleeper").OSPid
	})
	if f.failed() != "" || osPid == 0 {
		t.Fatalf("OS pid %d; %s", osPid, f.failed())
	}
	if err := syscall.Kill(osPid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("OS process %d after the test: %v", osPid, err)
	}
}

func TestAdvanceNeedsTheFakeClock(t *testing.T) {
	f := runFake(func(tb testing.TB) {
		otptest.StartYAML(tb, pair).Advance(time.Second)
	})
	if want := "otptest: Advance(1s): the tree runs on the real clock; start it WithFakeClock"; f.failed() != want {
		t.Errorf("message %q", f.failed())
	}
}

func TestLineAndMatcher(t *testing.T) {
	cases := []struct {
		e    live.Event
		want string
	}{
		{live.Event{Type: runtime.EventStarted, Path: "shop/db", Cause: runtime.CauseCrash, Trigger: "shop/db"}, "started shop/db cause=crash trigger=shop/db"},
		{live.Event{Type: runtime.EventExited, Path: "shop/web", Reason: "exit status 2"}, "exited shop/web reason=exit status 2"},
		{live.Event{Type: runtime.EventGiveUp, Path: "shop", Trigger: "shop/web", Reason: "reached_max_restart_intensity"}, "give_up shop trigger=shop/web reason=reached_max_restart_intensity"},
		{live.Event{Type: loader.EventReload, Path: "shop", Added: []string{"shop/a", "shop/b"}, Updated: []string{"shop"}, Failed: []string{"shop/b"}}, "reload shop added=shop/a,shop/b updated=shop failed=shop/b"},
		{live.Event{Type: loader.EventReloadFailed, Path: "shop", Errors: []string{"x", "y"}}, "reload_failed shop errors=2"},
	}
	for _, c := range cases {
		if got := otptest.Line(c.e); got != c.want {
			t.Errorf("Line = %q, want %q", got, c.want)
		}
	}
	m := otptest.Terminated("shop/db").Cause(runtime.CauseSibling).Trigger("shop/web").Reason("shutdown")
	if got, want := m.String(), "terminated shop/db cause=sibling trigger=shop/web reason=shutdown"; got != want {
		t.Errorf("String = %q", got)
	}
	e := live.Event{Type: runtime.EventTerminated, Path: "shop/db", Cause: runtime.CauseSibling, Trigger: "shop/web", Reason: "shutdown"}
	if !m.Match(e) || !otptest.Terminated("").Match(e) || otptest.Exited("shop/db").Match(e) || m.Reason("killed").Match(e) {
		t.Error("Match")
	}
}
