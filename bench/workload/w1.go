package workload

import (
	"fmt"
	goruntime "runtime"
	"sync/atomic"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// W1 — spawn N idle actors, measure time and memory, stop them all.
//
// spawn_s runs from before the first spawn until every actor has run its
// start code (a shared counter, polled); spawn_calls_s until the last spawn
// call returned. Memory is read before the spawns and once all are up, each
// time after a GC and FreeOSMemory; both figures include the spawner's array
// of N handles (8 B each). stop_s runs from the first stop message until all
// have terminated.

// w1Figures turns W1's timings and readings into a Result.
func w1Figures(n int, spawn, calls, stop time.Duration, before, after memory) Result {
	r := Result{
		"spawn_s":       spawn.Seconds(),
		"spawn_calls_s": calls.Seconds(),
		"spawns_per_s":  float64(n) / spawn.Seconds(),
		"stop_s":        stop.Seconds(),
	}
	memFigures(r, before, after, n)
	return r
}

// W1Actors spawns n idle actors with runtime.Start. An actor holds no
// goroutine while idle. Its Init counts it up and sets an OnExit hook that
// counts it down; stop is one stop message each, which its Loop answers
// with Stop(Normal). Stopped means every hook ran and the goroutines are
// back to the baseline.
func W1Actors(sz Sizes) (Result, error) {
	n := sz.N
	deadline := time.Now().Add(sz.timeout())
	var ready, exited atomic.Int64
	onExit := func(error) { exited.Add(1) } // one hook shared by all: no allocation per actor
	spec := runtime.Spec[struct{}, *token]{
		Init: func(p *runtime.Process, _ runtime.Subject[*token], _ *runtime.Selector[*token]) (struct{}, error) {
			p.OnExit(onExit)
			ready.Add(1)
			return struct{}{}, nil
		},
		Loop: func(_ *runtime.Process, _ *token, s struct{}) runtime.Next[struct{}] {
			return runtime.Stop[struct{}](nil)
		},
	}
	base := goruntime.NumGoroutine()
	before := readMemory()

	start := time.Now()
	handles := make([]runtime.Subject[*token], n)
	for i := range handles {
		s, err := runtime.Start(spec)
		if err != nil {
			return nil, fmt.Errorf("W1 actor %d: %w", i, err)
		}
		handles[i] = s
	}
	calls := time.Since(start)
	if err := waitCount(deadline, &ready, n, "W1 actors up"); err != nil {
		return nil, err
	}
	spawn := time.Since(start)

	after := readMemory()

	t0 := time.Now()
	for _, h := range handles {
		h.Send(tokStop)
	}
	if err := waitCount(deadline, &exited, n, "W1 actors exited"); err != nil {
		return nil, err
	}
	if err := waitGoroutines(deadline, base); err != nil {
		return nil, err
	}
	stop := time.Since(t0)
	goruntime.KeepAlive(handles)
	return w1Figures(n, spawn, calls, stop, before, after), nil
}

// W1Processes spawns n idle processes with runtime.Spawn, each blocked in
// Receive on its own subject (which it stores in the spawner's array before
// counting itself up). Stop is one stop message each; stopped means the
// goroutines are back to the baseline.
func W1Processes(sz Sizes) (Result, error) {
	n := sz.N
	deadline := time.Now().Add(sz.timeout())
	var ready atomic.Int64
	base := goruntime.NumGoroutine()
	before := readMemory()

	start := time.Now()
	handles := make([]runtime.Subject[*token], n)
	for i := range handles {
		runtime.Spawn(func(p *runtime.Process) {
			s := runtime.NewSubject[*token](p)
			handles[i] = s
			ready.Add(1) // publishes handles[i] to the spawner's Load
			runtime.Receive(p, s, runtime.Forever)
		})
	}
	calls := time.Since(start)
	if err := waitCount(deadline, &ready, n, "W1 processes up"); err != nil {
		return nil, err
	}
	spawn := time.Since(start)

	after := readMemory()

	t0 := time.Now()
	for _, h := range handles {
		h.Send(tokStop)
	}
	if err := waitGoroutines(deadline, base); err != nil {
		return nil, err
	}
	stop := time.Since(t0)
	goruntime.KeepAlive(handles)
	return w1Figures(n, spawn, calls, stop, before, after), nil
}

// W1Floor is the plain-Go floor: one goroutine per actor, blocked on its own
// unbuffered chan any; stop is one value sent to each.
func W1Floor(sz Sizes) (Result, error) {
	n := sz.N
	deadline := time.Now().Add(sz.timeout())
	var ready atomic.Int64
	base := goruntime.NumGoroutine()
	before := readMemory()

	start := time.Now()
	handles := make([]chan any, n)
	for i := range handles {
		ch := make(chan any)
		handles[i] = ch
		go func() {
			ready.Add(1)
			<-ch
		}()
	}
	calls := time.Since(start)
	if err := waitCount(deadline, &ready, n, "W1 goroutines up"); err != nil {
		return nil, err
	}
	spawn := time.Since(start)

	after := readMemory()

	t0 := time.Now()
	for _, ch := range handles {
		ch <- tokStop
	}
	if err := waitGoroutines(deadline, base); err != nil {
		return nil, err
	}
	stop := time.Since(t0)
	goruntime.KeepAlive(handles)
	return w1Figures(n, spawn, calls, stop, before, after), nil
}
