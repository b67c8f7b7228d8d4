package runtime_test

import (
	"errors"
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// A snapshot counts the restarts the intensity counts (crash, sibling)
// apart from an operator's, and keeps each child's last exit: its reason
// and when, on the supervisor's clock.
func TestSnapshotCountsCrashRestartsApartAndKeepsTheLastExit(t *testing.T) {
	tt := newTree(t)
	root := tt.start(flags(runtime.OneForAll, 10), tt.worker("a"), tt.worker("b"))
	tt.rec.expect(t, "started r/a boot", "started r/b boot")
	boom := errors.New("boom")
	tt.clock.Advance(time.Second)
	crashedAt := tt.clock.Now()
	tt.exit("r/a", boom)
	tt.rec.expect(t, "exited r/a (boom)", "terminated r/b sibling <-r/a (shutdown)",
		"started r/a crash <-r/a", "started r/b sibling <-r/a")
	tt.clock.Advance(time.Second)
	mustf(t, root.TerminateChild("b"), "terminate b")
	_, err := root.RestartChild("b")
	mustf(t, err, "restart b")
	tt.rec.expect(t, "terminated r/b operator (shutdown)", "started r/b operator")

	snap, err := root.Snapshot()
	mustf(t, err, "snapshot")
	a, b := snap.Children[0], snap.Children[1]
	if a.Restarts != 1 || a.CrashRestarts != 1 {
		t.Errorf("a: restarts %d, crash %d; want 1 and 1", a.Restarts, a.CrashRestarts)
	}
	if !errors.Is(a.LastExit, boom) || !a.LastExitAt.Equal(crashedAt) {
		t.Errorf("a's last exit: %v at %v, want boom at %v", a.LastExit, a.LastExitAt, crashedAt)
	}
	if b.Restarts != 2 || b.CrashRestarts != 1 {
		t.Errorf("b: restarts %d, crash %d; want 2 (a sibling's and an operator's) and 1", b.Restarts, b.CrashRestarts)
	}
	if !errors.Is(b.LastExit, runtime.Shutdown) || !b.LastExitAt.Equal(crashedAt.Add(time.Second)) {
		t.Errorf("b's last exit: %v at %v, want shutdown a second after a's crash", b.LastExit, b.LastExitAt)
	}
}
