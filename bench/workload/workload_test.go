package workload_test

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/otpctl/otpctl/bench/workload"
	"github.com/otpctl/otpctl/runtime"
)

// tiny are sizes that run every workload in a blink, even with -race.
var tiny = workload.Sizes{N: 500, M: 2000, S: 4, K: 500, C: 2000, R: 300, Sups: 4, Workers: 25, Timeout: 30 * time.Second}

// Every workload runs to the end, passes its own checks (all up, all
// terminated, the registry on the newest instance, …) and reports each of
// its figures as a finite number, positive where it must be.
func TestWorkloads(t *testing.T) {
	w1 := []string{"spawn_s", "spawn_calls_s", "spawns_per_s", "rss_per_n", "mem_per_n", "stop_s", "stop_cpu_s"}
	w2 := []string{"rt_per_s", "ns_per_rt"}
	lat := []string{"p50_ns", "p99_ns", "p999_ns", "mean_ns"}
	w4 := append([]string{"calls_per_s"}, lat...)
	w5 := append([]string{"restarts_per_s", "p50_first1k_ns", "late_vs_early"}, lat...)
	w6 := []string{"start_s", "tree_stop_s", "tree_stop_cpu_s"}
	pool := []string{"pool_calls_per_s", "ns_per_call"}
	tests := []struct {
		name    string
		run     func(workload.Sizes) (workload.Result, error)
		metrics []string
	}{
		{"W1/actors", workload.W1Actors, w1},
		{"W1/processes", workload.W1Processes, w1},
		{"W1/floor", workload.W1Floor, w1},
		{"W2/actors", workload.W2Actors, w2},
		{"W2/processes", workload.W2Processes, w2},
		{"W2/floor", func(s workload.Sizes) (workload.Result, error) { return workload.W2Floor(s, 0) }, w2},
		{"W2/floor-cap1", func(s workload.Sizes) (workload.Result, error) { return workload.W2Floor(s, 1) }, w2},
		{"W3/actor", workload.W3Actor, []string{"msgs_per_s"}},
		{"W3/process", workload.W3Process, []string{"msgs_per_s"}},
		{"W3/floor", workload.W3Floor, []string{"msgs_per_s"}},
		{"W4/call", func(s workload.Sizes) (workload.Result, error) { return workload.W4Call(s, workload.CallTimeout) }, w4},
		{"W4/call-forever", func(s workload.Sizes) (workload.Result, error) { return workload.W4Call(s, runtime.Forever) }, w4},
		{"W4/floor", workload.W4Floor, w4},
		{"W5/panic", func(s workload.Sizes) (workload.Result, error) { return workload.W5Restart(s, workload.CrashPanic) }, w5},
		{"W5/stop", func(s workload.Sizes) (workload.Result, error) { return workload.W5Restart(s, workload.CrashStop) }, w5},
		{"W5/floor", workload.W5Floor, w5},
		{"W6/tree", workload.W6Tree, w6},
		{"W6/floor", workload.W6Floor, w6},
		{"pool/8x8", func(s workload.Sizes) (workload.Result, error) { return workload.PoolCalls(s, 8, 8) }, pool},
		{"pool/actor-x8", func(s workload.Sizes) (workload.Result, error) { return workload.PoolCalls(s, 0, 8) }, pool},
		{"pool/floor-8x8", func(s workload.Sizes) (workload.Result, error) { return workload.PoolFloor(s, 8, 8) }, pool},
	}
	// Memory deltas of small runs are noise; a small stop may use less CPU
	// than the OS counts.
	mayBeZero := []string{"rss_per_n", "mem_per_n", "stop_cpu_s", "tree_stop_cpu_s"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tt.run(tiny)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range tt.metrics {
				v, ok := r[m]
				switch {
				case !ok:
					t.Errorf("%s missing", m)
				case math.IsNaN(v) || math.IsInf(v, 0):
					t.Errorf("%s = %v", m, v)
				case v <= 0 && !slices.Contains(mayBeZero, m):
					t.Errorf("%s = %v, want > 0", m, v)
				}
				if _, ok := workload.Metrics[m]; !ok {
					t.Errorf("%s has no entry in Metrics", m)
				}
			}
			if len(r) != len(tt.metrics) {
				t.Errorf("got metrics %v, want exactly %v", r, tt.metrics)
			}
		})
	}
}

// The floor's capacity is 0 or 1 (only one message is ever in flight).
func TestW2FloorCapacity(t *testing.T) {
	if _, err := workload.W2Floor(tiny, 2); err == nil {
		t.Fatal("capacity 2 accepted")
	}
}

// A run that passes its timeout fails instead of hanging: W5 with a
// timeout too short for its restarts ends with an error.
func TestTimeoutFails(t *testing.T) {
	s := tiny
	s.R = 100_000_000
	s.Timeout = 50 * time.Millisecond
	if _, err := workload.W5Restart(s, workload.CrashStop); err == nil {
		t.Fatal("W5 with 1e8 restarts in 50ms did not fail")
	}
	if _, err := workload.W5Floor(s); err == nil {
		t.Fatal("W5 floor with 1e8 restarts in 50ms did not fail")
	}
}
