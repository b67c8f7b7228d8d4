//go:build !race

package runtime_test

import (
	"context"
	"testing"

	"github.com/otpctl/otpctl/runtime"
)

func blockForever(p *runtime.Process) {
	runtime.Receive(p, runtime.NewSubject[int](p), runtime.Forever)
}

// A one_for_one restart allocates only what starting the child allocates:
// the supervisor's exit handling, intensity ring, events and bookkeeping
// allocate nothing once warm.
func TestSupervisorRestartAllocatesOnlyTheChild(t *testing.T) {
	restarted := make(chan struct{}, 1)
	var pid runtime.Pid
	start := func(p *runtime.Process) (runtime.Pid, error) {
		pid = runtime.SpawnLink(p, blockForever)
		return pid, nil
	}
	hook := func(e runtime.Event) {
		if e.Type == runtime.EventStarted {
			restarted <- struct{}{}
		}
	}
	root, err := runtime.StartSupervisor(nil, runtime.SupervisorSpec{Flags: runtime.Flags{MaxFrequency: 1 << 30}, Path: "r", Events: hook,
		Children: []runtime.ChildSpec{{ID: "a", Start: start}}})
	mustf(t, err, "start")
	defer root.Shutdown(context.Background())
	<-restarted
	for i := 0; i < 1000; i++ { // warm up the ring, the maps and the queues
		runtime.Exit(pid, runtime.Killed)
		<-restarted
	}
	restart := testing.AllocsPerRun(1000, func() {
		runtime.Exit(pid, runtime.Killed)
		<-restarted
	})

	me, done := runtime.Attach()
	defer done()
	spawn := testing.AllocsPerRun(1000, func() {
		q := runtime.SpawnLink(me, blockForever)
		me.Unlink(q)
		runtime.Exit(q, runtime.Killed)
	})
	t.Logf("allocations: restart %.1f, the child's spawn alone %.1f", restart, spawn)
	if restart > spawn+0.5 {
		t.Fatalf("a restart allocates %.1f times, the child's spawn %.1f: the supervisor allocates", restart, spawn)
	}
}
