//go:build !race

package runtime_test

import (
	"testing"

	"github.com/otpctl/otpctl/runtime"
)

// Killing a process allocates nothing: what its death must still announce
// (links, monitors, name, OnExit) is kept on the killer's stack, not on the
// heap, so that stopping a million idle actors (W1) or a 100k tree (W6)
// leaves no garbage per process. An idle actor dies in the caller of Exit,
// with no goroutine of its own to add allocations of its own.
func TestExitAllocatesNothing(t *testing.T) {
	spec := runtime.Spec[struct{}, int]{
		Loop: func(_ *runtime.Process, _ int, s struct{}) runtime.Next[struct{}] { return runtime.Continue(s) },
	}
	const runs = 1000
	actors := make([]runtime.Subject[int], runs+1) // AllocsPerRun runs once more to warm up
	for i := range actors {
		s, err := runtime.Start(spec)
		mustf(t, err, "start")
		actors[i] = s
	}
	i := 0
	allocs := testing.AllocsPerRun(runs, func() {
		runtime.Exit(actors[i].Owner(), runtime.Killed)
		i++
	})
	for _, s := range actors {
		if s.Owner().Alive() {
			t.Fatalf("%v alive after Exit", s.Owner())
		}
	}
	if allocs > 0 {
		t.Fatalf("Exit of an idle actor allocates %.2f times, want 0", allocs)
	}
}
