package workload

import (
	"fmt"
	goruntime "runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// W6 — a large tree: a top supervisor with Sups child supervisors of Workers
// workers each (100 × 1,000). start_s runs until StartSupervisor of the top
// returns, which is once every worker has run its init; tree_stop_s from
// asking the top to stop until every worker has terminated, and
// tree_stop_cpu_s is the CPU time the OS process used meanwhile (see W1's
// stop_cpu_s). Between the two, untimed, both systems collect the start's
// garbage (see settleHeap).

// settleHeap runs a full GC before a stop is timed, for every system alike
// (W1 does the same in its memory reading). Without it, whether the
// collection that the start's allocations set off was still marking when
// the stop began was a matter of a few milliseconds either way: it then
// ran through the stop, on one of the two processors, with its write
// barrier on. Measured on W6 (100k workers, 2 cores, loaded machine,
// GODEBUG=gctrace=1): otpctl's stop 0.069–0.076 s in the runs no cycle
// overlapped, 0.11–0.51 s in those one did (a cycle of 50–270 ms that
// began within 10 ms of the stop's start), so the ratio to the floor
// went from 0.9× to over 4× between runs. The stop's own garbage still
// counts, and any collection it sets off.
func settleHeap() { goruntime.GC() }

func w6Figures(start, stop, stopCPU time.Duration) Result {
	return Result{"start_s": start.Seconds(), "tree_stop_s": stop.Seconds(), "tree_stop_cpu_s": stopCPU.Seconds()}
}

// W6Tree builds the tree on the runtime's supervisors (OTP's defaults:
// one_for_one, intensity 1 in 5 s; workers with the default 5 s shutdown,
// supervisors with infinity). Workers are actors (runtime.StartLink) that
// count their init and, with an OnExit hook, their exit. The specs are built
// before the clock starts. Stop is Supervisor.Stop on the top, which
// terminates the children in reverse start order, depth first.
func W6Tree(sz Sizes) (Result, error) {
	deadline := time.Now().Add(sz.RunTimeout())
	want := sz.Sups * sz.Workers
	var started, exited atomic.Int64
	onExit := func(error) { exited.Add(1) }
	worker := runtime.Spec[struct{}, *token]{
		Init: func(p *runtime.Process, _ runtime.Subject[*token], _ *runtime.Selector[*token]) (struct{}, error) {
			p.OnExit(onExit)
			started.Add(1)
			return struct{}{}, nil
		},
		Loop: func(_ *runtime.Process, _ *token, s struct{}) runtime.Next[struct{}] {
			return runtime.Continue(s)
		},
	}
	startWorker := startLinked(worker)
	// One list of worker specs serves every supervisor: a supervisor keeps
	// its own copy of each spec.
	workers := make([]runtime.ChildSpec, sz.Workers)
	for i := range workers {
		workers[i] = runtime.ChildSpec{ID: "w" + strconv.Itoa(i), Start: startWorker, Kind: "bench"}
	}
	sups := make([]runtime.ChildSpec, sz.Sups)
	for i := range sups {
		spec := runtime.SupervisorSpec{Flags: runtime.DefaultFlags(), Path: "top/s" + strconv.Itoa(i), Children: workers}
		sups[i] = runtime.ChildSpec{
			ID:   "s" + strconv.Itoa(i),
			Type: runtime.SupervisorChild,
			Kind: "one_for_one",
			Start: func(parent *runtime.Process) (runtime.Pid, error) {
				h, err := runtime.StartSupervisor(parent, spec)
				if err != nil {
					return runtime.Pid{}, err
				}
				return h.Pid(), nil
			},
		}
	}
	base := goruntime.NumGoroutine()

	t0 := time.Now()
	top, err := runtime.StartSupervisor(nil, runtime.SupervisorSpec{Flags: runtime.DefaultFlags(), Path: "top", Children: sups})
	if err != nil {
		return nil, err
	}
	start := time.Since(t0)
	if n := started.Load(); n != int64(want) {
		shutdownWithin(top, sz.RunTimeout())
		return nil, fmt.Errorf("W6: %d workers ran their init when the start returned, want %d", n, want)
	}

	settleHeap()
	c1, t1 := cpuTime(), time.Now()
	if shutdownWithin(top, time.Until(deadline)) != nil {
		return nil, fmt.Errorf("W6: the tree did not stop in time")
	}
	if err := waitCount(deadline, &exited, want, "W6 workers exited"); err != nil {
		return nil, err
	}
	stop, stopCPU := time.Since(t1), cpuTime()-c1
	if err := waitGoroutines(deadline, base); err != nil {
		return nil, err
	}
	return w6Figures(start, stop, stopCPU), nil
}

// W6Floor is the hand-written plain-Go tree: the top starts the
// supervisors one after another, each supervisor starts its workers one
// after another and waits for each one's started ack. Shutdown goes in
// reverse start order and sequentially: each supervisor stops each worker
// and waits for it to exit before stopping the next, as OTP does.
func W6Floor(sz Sizes) (Result, error) {
	deadline := time.Now().Add(sz.RunTimeout())
	want := sz.Sups * sz.Workers
	var started atomic.Int64
	type proc struct{ stop, done chan struct{} }
	startProc := func(body func(ack chan<- struct{}, stop <-chan struct{})) proc {
		p := proc{make(chan struct{}), make(chan struct{})}
		ack := make(chan struct{})
		go func() {
			defer close(p.done)
			body(ack, p.stop)
		}()
		<-ack
		return p
	}
	stopProc := func(p proc) {
		close(p.stop)
		<-p.done
	}
	worker := func(ack chan<- struct{}, stop <-chan struct{}) {
		started.Add(1)
		ack <- struct{}{}
		<-stop
	}
	supervisor := func(ack chan<- struct{}, stop <-chan struct{}) {
		ws := make([]proc, sz.Workers)
		for i := range ws {
			ws[i] = startProc(worker)
		}
		ack <- struct{}{}
		<-stop
		for i := len(ws) - 1; i >= 0; i-- {
			stopProc(ws[i])
		}
	}
	base := goruntime.NumGoroutine()

	t0 := time.Now()
	sups := make([]proc, sz.Sups)
	for i := range sups {
		sups[i] = startProc(supervisor)
	}
	start := time.Since(t0)
	if n := started.Load(); n != int64(want) {
		return nil, fmt.Errorf("W6 floor: %d workers started, want %d", n, want)
	}

	settleHeap()
	c1, t1 := cpuTime(), time.Now()
	for i := len(sups) - 1; i >= 0; i-- {
		stopProc(sups[i])
	}
	stop, stopCPU := time.Since(t1), cpuTime()-c1
	if err := waitGoroutines(deadline, base); err != nil {
		return nil, err
	}
	return w6Figures(start, stop, stopCPU), nil
}
