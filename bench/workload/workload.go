package workload

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	goruntime "runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// Sizes are the sizes of the workloads. FullSizes are WORKLOADS.md's.
type Sizes struct {
	N       int // W1: idle actors or processes
	M       int // W2: round trips
	S       int // W3: senders
	K       int // W3: messages per sender
	C       int // W4: calls
	R       int // W5: restarts
	Sups    int // W6, W7: supervisors under the top one
	Workers int // W6, W7: workers per supervisor
	Procs   int // W8: exec children (0: the run's own, 200 or 1,000)
	Kills   int // W8: kill -9s of a child
	// Otpctl is the otpctl binary W8 runs (the harness builds it).
	Otpctl string `json:",omitempty"`
	// Timeout bounds every wait of a run (zero: 5 minutes). A run that
	// passes it fails with an error instead of hanging.
	Timeout time.Duration
}

// FullSizes are the sizes WORKLOADS.md defines.
func FullSizes() Sizes {
	return Sizes{N: 1_000_000, M: 2_000_000, S: 8, K: 1_000_000, C: 1_000_000, R: 100_000, Sups: 100, Workers: 1_000, Kills: 50}
}

// QuickSizes are small enough for a smoke run under the race detector (which
// allows at most 8,128 live goroutines).
func QuickSizes() Sizes {
	return Sizes{N: 2_000, M: 20_000, S: 8, K: 5_000, C: 20_000, R: 2_000, Sups: 10, Workers: 100, Procs: 10, Kills: 3, Timeout: time.Minute}
}

// RunTimeout is how long one run may take before it fails (Timeout, or 5
// minutes when unset).
func (s Sizes) RunTimeout() time.Duration {
	if s.Timeout <= 0 {
		return 5 * time.Minute
	}
	return s.Timeout
}

// Result is the figures of one run, by metric name (see Metrics).
type Result map[string]float64

// Better says which way a metric improves.
type Better int

const (
	// Lower is better: times, sizes, latencies.
	Lower Better = iota
	// Higher is better: rates.
	Higher
)

// Metric describes a figure: its label in tables, its unit and which way is
// better. Ratios to the floor are taken so that >1 is always worse.
type Metric struct {
	Label  string
	Unit   string
	Better Better
}

// Metrics describes every figure a workload can report, by name.
var Metrics = map[string]Metric{
	"spawn_s":        {"spawn N, wall s", "s", Lower},
	"spawn_calls_s":  {"spawn calls returned, wall s", "s", Lower},
	"spawns_per_s":   {"spawns/s", "/s", Higher},
	"rss_per_n":      {"RSS delta / N, bytes", "B", Lower},
	"mem_per_n":      {"runtime mem / N, bytes (HeapInuse+StackInuse)", "B", Lower},
	"stop_s":         {"stop all, wall s", "s", Lower},
	"rt_per_s":       {"round trips/s", "/s", Higher},
	"ns_per_rt":      {"ns / round trip", "ns", Lower},
	"msgs_per_s":     {"messages/s", "/s", Higher},
	"p50_ns":         {"p50 ns", "ns", Lower},
	"p99_ns":         {"p99 ns", "ns", Lower},
	"p999_ns":        {"p99.9 ns", "ns", Lower},
	"mean_ns":        {"mean ns", "ns", Lower},
	"calls_per_s":    {"calls/s (sequential)", "/s", Higher},
	"restarts_per_s": {"restarts/s (sequential)", "/s", Higher},
	"p50_first1k_ns": {"p50 ns, first 1,000 restarts", "ns", Lower},
	"late_vs_early":  {"rate of the last 10% of restarts / rate of the first 10%", "×", Higher},
	"start_s":        {"start tree, s", "s", Lower},
	"tree_stop_s":    {"stop tree, s", "s", Lower},
	// The stops' CPU time, all threads (W1, W6)
	"stop_cpu_s":      {"stop all, CPU s (all threads)", "s", Lower},
	"tree_stop_cpu_s": {"stop tree, CPU s (all threads)", "s", Lower},
	// Pool
	"pool_calls_per_s": {"calls/s, all callers together", "/s", Higher},
	"ns_per_call":      {"wall ns / call, all callers together", "ns", Lower},
	// W7
	"write_to_reload_s":    {"file written → reload event (watcher, debounce included), s", "s", Lower},
	"reload_no_debounce_s": {"file written → reload event, minus the debounce, s", "s", Lower},
	"reload_file_s":        {"reload alone (read, validate, diff, restart), s", "s", Lower},
	"validate_s":           {"validate the file, s", "s", Lower},
	"tree_json_s":          {"tree --json (GET /v1/tree), s", "s", Lower},
	"tree_json_bytes":      {"tree --json size, bytes", "B", Lower},
	// W8
	"launch_s":            {"launch → all children running, s", "s", Lower},
	"rss_bytes":           {"supervisor's RSS (its processes but the children), bytes", "B", Lower},
	"rss_per_child_bytes": {"supervisor's RSS beyond its RSS with 1 child, per further child, bytes", "B", Lower},
	"pss_bytes":           {"supervisor's PSS (shared pages split among their processes), bytes", "B", Lower},
	"pss_per_child_bytes": {"supervisor's PSS beyond its PSS with 1 child, per further child, bytes", "B", Lower},
	"cpu_rest_pct":        {"supervisor's CPU at rest, % of a CPU", "%", Lower},
	"kill_p50_ns":         {"kill -9 → replacement exec'd, p50 ns", "ns", Lower},
	"kill_p99_ns":         {"kill -9 → replacement exec'd, p99 ns", "ns", Lower},
}

// token is a small preallocated message: the workloads send shared pointers
// to these, so a send never allocates for its payload (WORKLOADS.md).
type token struct{ name string }

var (
	tokStop  = &token{"stop"}
	tokKick  = &token{"kick"}
	tokPing  = &token{"ping"}
	tokPong  = &token{"pong"}
	tokCrash = &token{"crash"}
	tokMsg   = &token{"msg"}
)

// percentile is the nearest rank, sorted[floor(p*(n-1))], of sorted samples.
func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return float64(sorted[int(math.Floor(p*float64(len(sorted)-1)))])
}

// latencies adds p50, p99, p99.9 and the mean of samples (which it sorts)
// to r.
func latencies(r Result, samples []time.Duration) {
	var sum time.Duration
	for _, d := range samples {
		sum += d
	}
	slices.Sort(samples)
	r["p50_ns"] = percentile(samples, 0.50)
	r["p99_ns"] = percentile(samples, 0.99)
	r["p999_ns"] = percentile(samples, 0.999)
	if len(samples) > 0 {
		r["mean_ns"] = float64(sum) / float64(len(samples))
	}
}

// restartFigures adds W5's figures for restart samples taken over total.
func restartFigures(r Result, samples []time.Duration, total time.Duration) {
	n := len(samples)
	first := slices.Clone(samples[:min(n, 1000)])
	slices.Sort(first)
	r["p50_first1k_ns"] = percentile(first, 0.5)
	if d := max(n/10, 1); n > 0 {
		var early, late time.Duration
		for _, s := range samples[:d] {
			early += s
		}
		for _, s := range samples[n-d:] {
			late += s
		}
		if late > 0 {
			r["late_vs_early"] = float64(early) / float64(late)
		}
	}
	r["restarts_per_s"] = float64(n) / total.Seconds()
	latencies(r, samples)
}

// memory is a reading of live memory: after a GC and after returning freed
// spans to the OS, so that it is live memory and not garbage.
type memory struct {
	rss   int64 // VmRSS, bytes; 0 where /proc is missing
	inuse int64 // HeapInuse + StackInuse
}

func readMemory() memory {
	goruntime.GC()
	debug.FreeOSMemory()
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	return memory{rss: vmRSS(), inuse: int64(ms.HeapInuse + ms.StackInuse)}
}

// vmRSS reads VmRSS from /proc/self/status.
func vmRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Bytes()
		if rest, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			f := bytes.Fields(rest)
			if len(f) > 0 {
				kb, err := strconv.ParseInt(string(f[0]), 10, 64)
				if err == nil {
					return kb * 1024
				}
			}
		}
	}
	return 0
}

// memFigures adds the per-item memory figures between two readings.
func memFigures(r Result, before, after memory, n int) {
	r["rss_per_n"] = float64(after.rss-before.rss) / float64(n)
	r["mem_per_n"] = float64(after.inuse-before.inuse) / float64(n)
}

// pollInterval is how often a waiter polls a counter (WORKLOADS.md: every
// 0.2–1 ms).
const pollInterval = 500 * time.Microsecond

// waitUntil polls cond until it holds or deadline passes.
func waitUntil(deadline time.Time, what string, cond func() bool) error {
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out waiting for %s", what)
		}
		time.Sleep(pollInterval)
	}
	return nil
}

// waitCount polls c until it reaches n.
func waitCount(deadline time.Time, c *atomic.Int64, n int, what string) error {
	return waitUntil(deadline, what, func() bool { return c.Load() >= int64(n) })
}

// waitGoroutines polls until the number of goroutines is back to base.
func waitGoroutines(deadline time.Time, base int) error {
	return waitUntil(deadline, fmt.Sprintf("goroutines back to %d", base), func() bool { return goruntime.NumGoroutine() <= base })
}

// startLinked is a ChildSpec's Start for an actor of spec.
func startLinked[S, M any](spec runtime.Spec[S, M]) func(*runtime.Process) (runtime.Pid, error) {
	return func(parent *runtime.Process) (runtime.Pid, error) {
		s, err := runtime.StartLink(parent, spec)
		if err != nil {
			return runtime.Pid{}, err
		}
		return s.Owner(), nil
	}
}

// waitProcess waits for a process's outcome on done until deadline; past
// it, it kills the process and fails.
func waitProcess(deadline time.Time, done <-chan error, pid runtime.Pid, what string) error {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		runtime.Exit(pid, runtime.Killed)
		return fmt.Errorf("timed out waiting for %s", what)
	}
}

// waitChan waits for ch to be closed (or to deliver) until deadline.
func waitChan(deadline time.Time, ch <-chan struct{}, what string) error {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-t.C:
		return fmt.Errorf("timed out waiting for %s", what)
	}
}

// shutdownWithin stops sup as its parent would (Shutdown), waiting up to d.
func shutdownWithin(sup *runtime.Supervisor, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return sup.Shutdown(ctx)
}
