package builtin_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/workers/builtin"
)

// steps runs requests against a worker and checks each reply.
func steps(t *testing.T, tr *tree, steps [][2]string) {
	t.Helper()
	for _, s := range steps {
		if got := tr.call(s[0]); got != s[1] {
			t.Errorf("%s: got %s, want %s", s[0], got, s[1])
		}
	}
}

func TestCounter(t *testing.T) {
	tr := mustStartTree(t, builtin.Counter(), `{"initial":5}`, treeOpt{})
	steps(t, tr, [][2]string{
		{`{"op":"get"}`, `{"value":5}`},
		{`{"op":"increment"}`, `{"value":6}`},
		{`{"op":"increment"}`, `{"value":7}`},
		{`{"op":"decrement"}`, `{"value":6}`},
		{`{"op":"reset"}`, `{"value":5}`},
		{`{"op":"decrement"}`, `{"value":4}`},
		{`{"op":"increment","by":2}`, `error: request: json: unknown field "by"`},
		{`{"op":"add"}`, `error: unknown op "add" (ops: decrement, get, increment, reset)`},
		{`{"op":"get"}`, `{"value":4}`},
	})
	tr2 := mustStartTree(t, builtin.Counter(), ``, treeOpt{})
	steps(t, tr2, [][2]string{{`{"op":"increment"}`, `{"value":1}`}})
}

func TestCache(t *testing.T) {
	tr := mustStartTree(t, builtin.Cache(), `{"max_size":2}`, treeOpt{})
	steps(t, tr, [][2]string{
		{`{"op":"size"}`, `{"size":0}`},
		{`{"op":"get","key":"a"}`, `{"found":false}`},
		{`{"op":"put","key":"a","value":"1"}`, `{"size":1}`},
		{`{"op":"put","key":"b","value":{"n":[1,2]}}`, `{"size":2}`},
		{`{"op":"put","key":"c","value":3}`, `error: cache is full`},
		{`{"op":"put","key":"a","value":"one"}`, `{"size":2}`}, // replacing a key is not growing
		{`{"op":"get","key":"a"}`, `{"found":true,"value":"one"}`},
		{`{"op":"get","key":"b"}`, `{"found":true,"value":{"n":[1,2]}}`},
		{`{"op":"get","key":"c"}`, `{"found":false}`},
		{`{"op":"delete","key":"a"}`, `{"deleted":true}`},
		{`{"op":"delete","key":"a"}`, `{"deleted":false}`},
		{`{"op":"put","key":"c","value":null}`, `{"size":2}`},
		{`{"op":"get","key":"c"}`, `{"found":true,"value":null}`},
		{`{"op":"size"}`, `{"size":2}`},
		{`{"op":"get"}`, `error: request: "key" is required`},
		{`{"op":"put","key":"d"}`, `error: request: "key" and "value" are required`},
		{`{"op":"clear"}`, `error: unknown op "clear" (ops: delete, get, put, size)`},
	})
	if _, err := startTree(t, builtin.Cache(), `{"max_size":0}`, treeOpt{}); err == nil || !strings.Contains(err.Error(), "args.max_size: must be at least 1") {
		t.Errorf("max_size 0: %v", err)
	}
}

func TestEcho(t *testing.T) {
	tr := mustStartTree(t, builtin.Echo(), ``, treeOpt{})
	steps(t, tr, [][2]string{
		{`{"op":"ping","n":1}`, `{"op":"ping","n":1}`},
		{`{"hello":"world"}`, `{"hello":"world"}`},
		{`[1,"two"]`, `[1,"two"]`},
		{`"text"`, `"text"`},
	})
	if _, err := startTree(t, builtin.Echo(), `{"x":1}`, treeOpt{}); err == nil || !strings.Contains(err.Error(), `unknown field "x"`) {
		t.Errorf("echo with args: %v", err)
	}
}

func TestTicker(t *testing.T) {
	clock := runtime.NewFakeClock(time.Unix(0, 0))
	tr := mustStartTree(t, builtin.Ticker(), `{"interval":"2s"}`, treeOpt{clock: clock})
	steps(t, tr, [][2]string{{`{"op":"get"}`, `{"ticks":0}`}})
	for i := 1; i <= 3; i++ {
		if !clock.AwaitTimers(1, 10*time.Second) {
			t.Fatal("the ticker set no timer")
		}
		clock.Advance(time.Second)
		clock.Advance(time.Second)
		want := fmt.Sprint(i)
		r := tr.logs.await(t, "heartbeat "+want, func(r record) bool { return r.Msg == "heartbeat" && r.Attrs["tick"] == want })
		if r.Attrs["path"] != "t/w" {
			t.Errorf("heartbeat without the path: %v", r.Attrs)
		}
	}
	steps(t, tr, [][2]string{{`{"op":"get"}`, `{"ticks":3}`}})
	if _, err := startTree(t, builtin.Ticker(), `{"interval":0}`, treeOpt{clock: clock}); err == nil || !strings.Contains(err.Error(), "args.interval: must be more than 0") {
		t.Errorf("interval 0: %v", err)
	}
}

// crash exits with its reason after `after`, by the supervisor's clock.
func TestCrashAfter(t *testing.T) {
	for _, tc := range []struct {
		args     string
		after    time.Duration
		want     string
		abnormal bool
	}{
		{``, time.Second, "crash", true},
		{`{"after":"5s","reason":"disk full"}`, 5 * time.Second, "disk full", true},
		{`{"after":3,"reason":"normal"}`, 3 * time.Second, "normal", false},
		{`{"after":"1s","reason":"shutdown"}`, time.Second, "shutdown", false},
		{`{"after":"1s","reason":"killed"}`, time.Second, "killed", true},
		{`{"after":"1s","reason":"shutdown:done"}`, time.Second, "shutdown:done", false},
	} {
		t.Run(tc.args, func(t *testing.T) {
			clock := runtime.NewFakeClock(time.Unix(0, 0))
			tr := mustStartTree(t, builtin.Crash(), tc.args, treeOpt{clock: clock, restart: runtime.Temporary})
			if !clock.AwaitTimers(1, 10*time.Second) {
				t.Fatal("no timer")
			}
			clock.Advance(tc.after - time.Millisecond)
			if n := clock.Timers(); n != 1 {
				t.Fatalf("%d timers left just before %v, want the deadline", n, tc.after)
			}
			clock.Advance(time.Millisecond)
			e := tr.event(runtime.EventExited)
			if e.Reason.Error() != tc.want || runtime.IsAbnormal(e.Reason) != tc.abnormal {
				t.Fatalf("exited %v (abnormal %v), want %s (abnormal %v)", e.Reason, runtime.IsAbnormal(e.Reason), tc.want, tc.abnormal)
			}
			if atom, _, _ := strings.Cut(tc.want, ":"); !tc.abnormal && !errors.Is(e.Reason, builtin.Reason(atom)) {
				t.Fatalf("%v is not the runtime's atom %s", e.Reason, atom)
			}
		})
	}
}

// With probability 1 it exits at the first tick; with 0 never.
func TestCrashProbability(t *testing.T) {
	clock := runtime.NewFakeClock(time.Unix(0, 0))
	sure := mustStartTree(t, builtin.Crash(), `{"probability":1,"interval":"500ms","reason":"chaos"}`, treeOpt{clock: clock, restart: runtime.Temporary})
	if !clock.AwaitTimers(1, 10*time.Second) {
		t.Fatal("no timer")
	}
	clock.Advance(500 * time.Millisecond)
	if e := sure.event(runtime.EventExited); e.Reason.Error() != "chaos" {
		t.Fatalf("exited %v, want chaos", e.Reason)
	}

	clock = runtime.NewFakeClock(time.Unix(0, 0))
	never := mustStartTree(t, builtin.Crash(), `{"probability":0,"interval":"1s"}`, treeOpt{clock: clock, restart: runtime.Temporary})
	for range 20 {
		// Each tick sets the next: no deadline is set without `after`.
		if !clock.AwaitTimers(1, 10*time.Second) || clock.Timers() != 1 {
			t.Fatalf("%d timers, want the next tick only", clock.Timers())
		}
		clock.Advance(time.Second)
	}
	if !clock.AwaitTimers(1, 10*time.Second) || !never.instance().Pid.Alive() {
		t.Fatal("probability 0 exited")
	}

	// A seed makes the draws reproducible: the same seed exits at the
	// same tick.
	at := func() int {
		clock := runtime.NewFakeClock(time.Unix(0, 0))
		tr := mustStartTree(t, builtin.Crash(), `{"probability":0.3,"interval":"1s","seed":7}`, treeOpt{clock: clock, restart: runtime.Temporary})
		for tick := 1; tick <= 200; tick++ {
			if !clock.AwaitTimers(1, 10*time.Second) {
				t.Fatal("no tick timer")
			}
			clock.Advance(time.Second)
			// The actor handles the tick: it exits, or sets the next one.
			if tickExits(t, tr, clock) {
				return tick
			}
		}
		t.Fatal("p=0.3 survived 200 ticks")
		return 0
	}
	if a, b := at(), at(); a != b {
		t.Fatalf("seed 7 exited at tick %d, then %d", a, b)
	}
}

// tickExits waits until the crash worker has handled a tick: it reports true
// on an exited event, false once the next tick's timer is set.
func tickExits(t *testing.T, tr *tree, clock *runtime.FakeClock) bool {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case e := <-tr.events:
			if e.Type == runtime.EventExited {
				return true
			}
		default:
		}
		if clock.AwaitTimers(1, 10*time.Millisecond) {
			return false
		}
	}
	t.Fatal("the tick was not handled")
	return false
}
