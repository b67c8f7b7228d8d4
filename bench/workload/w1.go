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
// have terminated; stop_cpu_s is the CPU time the OS process used meanwhile
// (all its threads; 0 where it cannot be read): on a shared machine it
// varies less than the wall time, which depends on how many cores the
// others leave free.

// w1System is what differs between W1's systems.
type w1System[H any] struct {
	spawn func(handles []H, i int) error // start actor i; it fills handles[i] and counts ready
	stop  func(h H)                      // send it its stop message
	// exited, if set, counts the actors' terminate hooks: stopped means
	// it reached N and the goroutines are back to the baseline.
	exited *atomic.Int64
}

// w1 runs W1 for one system whose start code counts ready.
func w1[H any](sz Sizes, ready *atomic.Int64, sys w1System[H]) (Result, error) {
	n := sz.N
	deadline := time.Now().Add(sz.RunTimeout())
	base := goruntime.NumGoroutine()
	before := readMemory()

	start := time.Now()
	handles := make([]H, n)
	for i := range handles {
		if err := sys.spawn(handles, i); err != nil {
			return nil, fmt.Errorf("W1 spawn %d: %w", i, err)
		}
	}
	calls := time.Since(start)
	if err := waitCount(deadline, ready, n, "W1 all up"); err != nil {
		return nil, err
	}
	spawn := time.Since(start)

	after := readMemory()

	c0, t0 := cpuTime(), time.Now()
	for _, h := range handles {
		sys.stop(h)
	}
	if sys.exited != nil {
		if err := waitCount(deadline, sys.exited, n, "W1 terminate hooks"); err != nil {
			return nil, err
		}
	}
	if err := waitGoroutines(deadline, base); err != nil {
		return nil, err
	}
	stop, stopCPU := time.Since(t0), cpuTime()-c0
	goruntime.KeepAlive(handles)

	r := Result{
		"spawn_s":       spawn.Seconds(),
		"spawn_calls_s": calls.Seconds(),
		"spawns_per_s":  float64(n) / spawn.Seconds(),
		"stop_s":        stop.Seconds(),
		"stop_cpu_s":    stopCPU.Seconds(),
	}
	memFigures(r, before, after, n)
	return r, nil
}

func sendStop(s runtime.Subject[*token]) { s.Send(tokStop) }

// W1Actors spawns N idle actors with runtime.Start. An actor holds no
// goroutine while idle. Its Init counts it up and sets an OnExit hook that
// counts it down; stop is one stop message each, which its Loop answers
// with Stop(Normal). Stopped means every hook ran and the goroutines are
// back to the baseline.
func W1Actors(sz Sizes) (Result, error) {
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
	return w1(sz, &ready, w1System[runtime.Subject[*token]]{
		spawn: func(handles []runtime.Subject[*token], i int) (err error) {
			handles[i], err = runtime.Start(spec)
			return err
		},
		stop:   sendStop,
		exited: &exited,
	})
}

// W1Processes spawns N idle processes with runtime.Spawn, each blocked in
// Receive on its own subject (which it stores in the spawner's array before
// counting itself up). Stop is one stop message each; stopped means the
// goroutines are back to the baseline.
func W1Processes(sz Sizes) (Result, error) {
	var ready atomic.Int64
	return w1(sz, &ready, w1System[runtime.Subject[*token]]{
		spawn: func(handles []runtime.Subject[*token], i int) error {
			runtime.Spawn(func(p *runtime.Process) {
				s := runtime.NewSubject[*token](p)
				handles[i] = s
				ready.Add(1) // publishes handles[i] to the spawner's Load
				runtime.Receive(p, s, runtime.Forever)
			})
			return nil
		},
		stop: sendStop,
	})
}

// W1Floor is the plain-Go floor: one goroutine per actor, blocked on its own
// unbuffered chan any; stop is one value sent to each.
func W1Floor(sz Sizes) (Result, error) {
	var ready atomic.Int64
	return w1(sz, &ready, w1System[chan any]{
		spawn: func(handles []chan any, i int) error {
			ch := make(chan any)
			handles[i] = ch
			go func() {
				ready.Add(1)
				<-ch
			}()
			return nil
		},
		stop: func(ch chan any) { ch <- tokStop },
	})
}
