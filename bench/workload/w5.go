package workload

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// W5 — restart latency: a one_for_one supervisor with one permanent child
// and an intensity that never trips. R times: read the clock, send crash to
// the current instance, wait until the new instance reports up, read the
// clock. The new instance reports up by sending its handle from its init,
// where its registered name already points at it. Afterwards the name must
// resolve to the newest instance.

var errBoom = errors.New("boom")

// W5Name is the name the W5 child registers under.
const W5Name = "bench-w5-child"

// Crash is how a W5 child dies on a crash message.
type Crash int

const (
	// CrashPanic panics in the child's Loop, as the Go peers crash (the
	// runtime turns it into a *PanicError with the stack).
	CrashPanic Crash = iota
	// CrashStop returns Stop(error) from the Loop: an abnormal exit
	// without a panic, to show what the panic costs.
	CrashStop
)

// W5Restart runs W5 on the runtime's supervisor: one_for_one, one permanent
// actor child (runtime.StartLink), MaxFrequency 1e9 per second. The test
// side is an attached process that receives the new instances' subjects.
func W5Restart(sz Sizes, crash Crash) (Result, error) {
	me, detach := runtime.Attach()
	defer detach()
	watchdog := time.AfterFunc(sz.RunTimeout(), func() { runtime.Exit(me.Self(), runtime.Killed) })
	defer watchdog.Stop()

	up := runtime.NewSubject[runtime.Subject[*token]](me)
	child := runtime.Spec[struct{}, *token]{
		Init: func(p *runtime.Process, self runtime.Subject[*token], _ *runtime.Selector[*token]) (struct{}, error) {
			if err := runtime.Register(W5Name, p.Self()); err != nil {
				return struct{}{}, err
			}
			up.Send(self)
			return struct{}{}, nil
		},
		Loop: func(_ *runtime.Process, msg *token, s struct{}) runtime.Next[struct{}] {
			if msg == tokCrash {
				if crash == CrashPanic {
					panic(errBoom)
				}
				return runtime.Stop[struct{}](errBoom)
			}
			return runtime.Stop[struct{}](nil)
		},
	}
	sup, err := runtime.StartSupervisor(nil, runtime.SupervisorSpec{
		Flags: runtime.Flags{Strategy: runtime.OneForOne, MaxFrequency: 1_000_000_000, Period: time.Second},
		Path:  "w5",
		Children: []runtime.ChildSpec{{
			ID:    "child",
			Start: startLinked(child),
		}},
	})
	if err != nil {
		return nil, err
	}
	defer shutdownWithin(sup, sz.RunTimeout())

	cur, err := runtime.Receive(me, up, runtime.Forever)
	if err != nil {
		return nil, fmt.Errorf("W5 first instance: %w", err)
	}
	samples := make([]time.Duration, sz.R)
	start := time.Now()
	for i := range samples {
		t0 := time.Now()
		cur.Send(tokCrash)
		cur, err = runtime.Receive(me, up, runtime.Forever)
		samples[i] = time.Since(t0)
		if err != nil {
			return nil, fmt.Errorf("W5 restart %d: %w", i, err)
		}
	}
	total := time.Since(start)
	if pid, ok := runtime.WhereIs(W5Name); !ok || pid != cur.Owner() {
		return nil, fmt.Errorf("W5: %s resolves to %v, the newest instance is %v", W5Name, pid, cur.Owner())
	}
	r := Result{}
	restartFigures(r, samples, total)
	return r, nil
}

// W5Floor is the plain-Go restarter: a supervisor goroutine starts the
// child goroutine, whose deferred recover sends the exit reason to the
// supervisor, which starts a fresh child. The child makes a new mailbox,
// stores it in an atomic.Pointer registry and sends it on up. Crash is a
// panic; a stop message ends the child normally and the supervisor with it.
func W5Floor(sz Sizes) (Result, error) {
	deadline := time.Now().Add(sz.RunTimeout())
	var registry atomic.Pointer[chan any]
	exits := make(chan any)
	up := make(chan chan any)
	child := func() {
		defer func() { exits <- recover() }()
		mb := make(chan any, 1)
		registry.Store(&mb)
		up <- mb
		for m := range mb {
			if m == tokCrash {
				panic(errBoom)
			}
			return
		}
	}
	supDone := make(chan struct{})
	go func() {
		defer close(supDone)
		go child()
		for reason := range exits {
			if reason == nil {
				return // a normal exit: stop
			}
			go child()
		}
	}()
	wait := time.NewTimer(time.Until(deadline))
	defer wait.Stop()
	recvUp := func() (chan any, error) {
		select {
		case mb := <-up:
			return mb, nil
		case <-wait.C:
			return nil, errors.New("W5 floor: timed out")
		}
	}
	// stopTree stops the newest child normally, and the supervisor with it.
	// After a timeout the child being started is still to report up.
	stopTree := func(cur chan any) error {
		if cur == nil {
			cur = <-up
		}
		cur <- tokStop
		return waitChan(deadline, supDone, "W5 floor supervisor")
	}
	cur, err := recvUp()
	if err != nil {
		return nil, errors.Join(err, stopTree(nil))
	}
	samples := make([]time.Duration, sz.R)
	start := time.Now()
	for i := range samples {
		t0 := time.Now()
		cur <- tokCrash
		cur, err = recvUp()
		samples[i] = time.Since(t0)
		if err != nil {
			return nil, errors.Join(err, stopTree(nil))
		}
	}
	total := time.Since(start)
	if p := registry.Load(); p == nil || *p != cur {
		return nil, errors.Join(errors.New("W5 floor: the registry does not hold the newest mailbox"), stopTree(cur))
	}
	if err := stopTree(cur); err != nil {
		return nil, err
	}
	r := Result{}
	restartFigures(r, samples, total)
	return r, nil
}
