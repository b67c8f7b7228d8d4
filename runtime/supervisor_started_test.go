package runtime_test

import (
	"errors"
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// A started event says whether the child had started before (a restart, as
// the snapshot's Restarts counts it) and how long its start took on the
// supervisor's clock: the metrics' restarts and time to ready.
func TestStartedEventSaysRestartAndTimeToReady(t *testing.T) {
	tt := newTree(t)
	tt.start(flags(runtime.OneForOne, 3),
		tt.scripted("a", func(n int, _ *runtime.Process, start func() (runtime.Pid, error)) (runtime.Pid, error) {
			tt.clock.Advance(time.Duration(n) * time.Second) // the n-th start takes n seconds
			return start()
		}),
		tt.worker("b"))
	evs := tt.rec.expect(t, "started r/a boot", "started r/b boot")
	if e := evs[0]; e.Restart || e.StartedIn != time.Second {
		t.Errorf("first start of r/a: Restart %v StartedIn %v, want false 1s", e.Restart, e.StartedIn)
	}
	if e := evs[1]; e.Restart || e.StartedIn != 0 {
		t.Errorf("first start of r/b: Restart %v StartedIn %v, want false 0s", e.Restart, e.StartedIn)
	}
	tt.exit("r/a", errors.New("boom"))
	evs = tt.rec.expect(t, "exited r/a (boom)", "started r/a crash <-r/a")
	if e := evs[1]; !e.Restart || e.StartedIn != 2*time.Second {
		t.Errorf("restart of r/a: Restart %v StartedIn %v, want true 2s", e.Restart, e.StartedIn)
	}
}
