package runtime_test

import (
	"context"
	"testing"

	"github.com/otpctl/otpctl/runtime"
)

// BenchmarkSupervisorRequest is one round trip of a supervisor API request
// (CountChildren, answered by the supervisor's goroutine): what the typed
// request helper costs per call.
func BenchmarkSupervisorRequest(b *testing.B) {
	start := func(p *runtime.Process) (runtime.Pid, error) {
		return runtime.SpawnLink(p, func(p *runtime.Process) { runtime.Receive(p, runtime.NewSubject[int](p), runtime.Forever) }), nil
	}
	root, err := runtime.StartSupervisor(nil, runtime.SupervisorSpec{Path: "r",
		Children: []runtime.ChildSpec{{ID: "a", Start: start}}})
	if err != nil {
		b.Fatal(err)
	}
	defer root.Shutdown(context.Background())
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := root.CountChildren(); err != nil {
			b.Fatal(err)
		}
	}
}
