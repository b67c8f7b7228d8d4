package runtime_test

import (
	"context"
	"testing"
	"time"

	"github.com/otpctl/otpctl/bench/workload"
	"github.com/otpctl/otpctl/runtime"
)

// The benchmarks run the workloads of shared/bench/WORKLOADS.md (package
// bench/workload) with b.N as their size, each beside its plain-Go twin
// (the /floor sub-benchmark), so that the ratio to Go's floor shows in one
// run:
//
//	go test -run '^$' -bench . -benchmem ./runtime/
//	go test -run '^$' -bench . -benchtime 1x ./runtime/   # smoke
//
// ns/op is the workload's own figure (per spawn, per round trip, per
// message, per call, per restart, per tree), not the benchmark loop's,
// which would count set-up and the GCs of the memory readings. `go run
// ./bench` runs the same code at full size, one process per run.

type workloadFn = func(workload.Sizes) (workload.Result, error)

type twin struct {
	name string
	fn   workloadFn
}

func runWorkload(b *testing.B, fn workloadFn, sz workload.Sizes) workload.Result {
	b.Helper()
	r, err := fn(sz)
	if err != nil {
		b.Fatal(err)
	}
	return r
}

func benchSpawn(b *testing.B, twins []twin) {
	for _, tw := range twins {
		b.Run(tw.name, func(b *testing.B) {
			r := runWorkload(b, tw.fn, workload.Sizes{N: b.N})
			n := float64(b.N)
			b.ReportMetric(r["spawn_s"]*1e9/n, "ns/op")
			b.ReportMetric(r["rss_per_n"], "rss-B/op")
			b.ReportMetric(r["mem_per_n"], "heap+stack-B/op")
			b.ReportMetric(r["stop_s"]*1e9/n, "stop-ns/op")
		})
	}
}

// BenchmarkSpawnIdleActors is W1 for actors: spawn b.N idle actors
// (runtime.Start) and stop them; bytes per actor are live memory after a GC.
func BenchmarkSpawnIdleActors(b *testing.B) {
	benchSpawn(b, []twin{{"runtime", workload.W1Actors}, {"floor", workload.W1Floor}})
}

// BenchmarkSpawnIdleProcesses is W1 for processes: b.N runtime.Spawn
// processes blocked in Receive.
func BenchmarkSpawnIdleProcesses(b *testing.B) {
	benchSpawn(b, []twin{{"runtime", workload.W1Processes}, {"floor", workload.W1Floor}})
}

// BenchmarkStopIdle is W1's stop alone: one op is one stop message to one
// of b.N idle actors (which wakes it onto a goroutine of its own), idle
// processes (parked in Receive) or, for the floor, goroutines parked on a
// channel. cpu-ns/op is the OS process's CPU time per stop, all threads:
// it says more than the wall time on a shared machine.
func BenchmarkStopIdle(b *testing.B) {
	for _, tw := range []twin{{"actors", workload.W1Actors}, {"processes", workload.W1Processes}, {"floor", workload.W1Floor}} {
		b.Run(tw.name, func(b *testing.B) {
			r := runWorkload(b, tw.fn, workload.Sizes{N: b.N})
			n := float64(b.N)
			b.ReportMetric(r["stop_s"]*1e9/n, "ns/op")
			if c, ok := r["stop_cpu_s"]; ok {
				b.ReportMetric(c*1e9/n, "cpu-ns/op")
			}
		})
	}
}

// BenchmarkPingPong is W2: one op is one round trip between two actors (or
// two processes in blocking Receive loops).
func BenchmarkPingPong(b *testing.B) {
	twins := []twin{
		{"actors", workload.W2Actors},
		{"processes", workload.W2Processes},
		{"floor", func(s workload.Sizes) (workload.Result, error) { return workload.W2Floor(s, 0) }},
		{"floor-cap1", func(s workload.Sizes) (workload.Result, error) { return workload.W2Floor(s, 1) }},
	}
	for _, tw := range twins {
		b.Run(tw.name, func(b *testing.B) {
			r := runWorkload(b, tw.fn, workload.Sizes{M: b.N})
			b.ReportMetric(r["ns_per_rt"], "ns/op")
		})
	}
}

// BenchmarkFanIn is W3: one op is one message of 8 senders to one receiver.
func BenchmarkFanIn(b *testing.B) {
	twins := []twin{{"actor", workload.W3Actor}, {"process", workload.W3Process}, {"floor", workload.W3Floor}}
	for _, tw := range twins {
		b.Run(tw.name, func(b *testing.B) {
			const senders = 8
			r := runWorkload(b, tw.fn, workload.Sizes{S: senders, K: (b.N + senders - 1) / senders})
			b.ReportMetric(1e9/r["msgs_per_s"], "ns/op")
			b.ReportMetric(r["msgs_per_s"], "msgs/s")
		})
	}
}

func reportLatency(b *testing.B, r workload.Result, rate string) {
	b.ReportMetric(1e9/r[rate], "ns/op")
	b.ReportMetric(r["p50_ns"], "p50-ns")
	b.ReportMetric(r["p99_ns"], "p99-ns")
}

// BenchmarkCall is W4: one op is one runtime.Call round trip from an
// attached process to an actor server, with gen_server's 5 s timeout (and
// without one, to show the timer's cost).
func BenchmarkCall(b *testing.B) {
	twins := []twin{
		{"runtime", func(s workload.Sizes) (workload.Result, error) { return workload.W4Call(s, workload.CallTimeout) }},
		{"runtime-notimeout", func(s workload.Sizes) (workload.Result, error) { return workload.W4Call(s, runtime.Forever) }},
		{"floor", workload.W4Floor},
	}
	for _, tw := range twins {
		b.Run(tw.name, func(b *testing.B) {
			reportLatency(b, runWorkload(b, tw.fn, workload.Sizes{C: b.N}), "calls_per_s")
		})
	}
}

// BenchmarkRestart is W5: one op is one crash of a one_for_one
// supervisor's permanent child until its replacement is up, the child
// crashing by a panic (as the Go peers) or by Stop(error); the floor is a
// recover-and-loop restarter.
func BenchmarkRestart(b *testing.B) {
	twins := []twin{
		{"runtime", func(s workload.Sizes) (workload.Result, error) { return workload.W5Restart(s, workload.CrashPanic) }},
		{"runtime-stop", func(s workload.Sizes) (workload.Result, error) { return workload.W5Restart(s, workload.CrashStop) }},
		{"floor", workload.W5Floor},
	}
	for _, tw := range twins {
		b.Run(tw.name, func(b *testing.B) {
			reportLatency(b, runWorkload(b, tw.fn, workload.Sizes{R: b.N}), "restarts_per_s")
		})
	}
}

// BenchmarkTree100k is W6: one op starts a tree of 100 supervisors of
// 1,000 workers each and stops it (in OTP's order).
func BenchmarkTree100k(b *testing.B) {
	for _, tw := range []twin{{"runtime", workload.W6Tree}, {"floor", workload.W6Floor}} {
		b.Run(tw.name, func(b *testing.B) {
			var start, stop, stopCPU float64
			for range b.N {
				r := runWorkload(b, tw.fn, workload.Sizes{Sups: 100, Workers: 1000})
				start += r["start_s"]
				stop += r["tree_stop_s"]
				stopCPU += r["tree_stop_cpu_s"]
			}
			n := float64(b.N)
			b.ReportMetric((start+stop)*1e9/n, "ns/op")
			b.ReportMetric(start*1e3/n, "start-ms")
			b.ReportMetric(stop*1e3/n, "stop-ms")
			b.ReportMetric(stopCPU*1e3/n, "stop-cpu-ms")
		})
	}
}

// The benchmarks' workloads must not leave a run's processes behind for the
// next (goleak checks goroutines; this checks the W5 child's name).
func TestBenchWorkloadsCleanUp(t *testing.T) {
	if _, err := workload.W5Restart(workload.Sizes{R: 10, Timeout: 10 * time.Second}, workload.CrashPanic); err != nil {
		t.Fatal(err)
	}
	if pid, ok := runtime.WhereIs(workload.W5Name); ok {
		t.Fatalf("%s still registered to %v after the run", workload.W5Name, pid)
	}
}

// BenchmarkPoolDispatch is the cost of a pool's dispatch: one op is one
// call from one caller, through runtime.CallPool to a round-robin pool of
// 8 (pool) or runtime.Call to one actor (actor, W4's call); the floor
// picks one of 8 channel servers with an atomic counter.
func BenchmarkPoolDispatch(b *testing.B) {
	benchPool(b, 1, []twin{
		{"pool", func(s workload.Sizes) (workload.Result, error) { return workload.PoolCalls(s, 8, 1) }},
		{"actor", func(s workload.Sizes) (workload.Result, error) { return workload.PoolCalls(s, 0, 1) }},
		{"floor", func(s workload.Sizes) (workload.Result, error) { return workload.PoolFloor(s, 8, 1) }},
	})
}

// BenchmarkPoolThroughput is 8 callers at once over a pool of 8 members
// (pool) and over one actor (actor), beside their plain-Go twins: one op is
// one call, ns/op the wall time over all calls.
func BenchmarkPoolThroughput(b *testing.B) {
	benchPool(b, 8, []twin{
		{"pool", func(s workload.Sizes) (workload.Result, error) { return workload.PoolCalls(s, 8, 8) }},
		{"actor", func(s workload.Sizes) (workload.Result, error) { return workload.PoolCalls(s, 0, 8) }},
		{"floor-pool", func(s workload.Sizes) (workload.Result, error) { return workload.PoolFloor(s, 8, 8) }},
		{"floor-actor", func(s workload.Sizes) (workload.Result, error) { return workload.PoolFloor(s, 0, 8) }},
	})
}

func benchPool(b *testing.B, callers int, twins []twin) {
	for _, tw := range twins {
		b.Run(tw.name, func(b *testing.B) {
			r := runWorkload(b, tw.fn, workload.Sizes{C: max(b.N, callers)})
			b.ReportMetric(r["ns_per_call"], "ns/op")
		})
	}
}

// BenchmarkPoolPick is the dispatch's own cost: one op is one Pool.Pick
// over 8 idle members, by each dispatch.
func BenchmarkPoolPick(b *testing.B) {
	for _, d := range []runtime.Dispatch{runtime.RoundRobin, runtime.Random, runtime.LeastBusy} {
		b.Run(d.String(), func(b *testing.B) {
			pool, err := runtime.StartPool(nil, runtime.PoolSpec[int]{
				Path: "pool", Size: 8, Dispatch: d,
				Start: func(parent *runtime.Process, _ int) (runtime.Member[int], error) {
					s, err := runtime.StartLink(parent, runtime.Spec[struct{}, int]{})
					return runtime.Member[int]{Pid: s.Owner(), Subject: s}, err
				},
			})
			if err != nil {
				b.Fatal(err)
			}
			defer pool.Shutdown(context.Background())
			b.ResetTimer()
			for range b.N {
				if _, err := pool.Pick(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
