package workload

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// Pool — W4's call, spread over a pool: C calls in all, made by callers
// processes at once, each runtime.CallPool to a pool of members actor
// servers (members 0: runtime.Call to one actor, no pool). The figure is
// the calls per second of all the callers together; with one caller,
// against W4Call, it is the cost of the dispatch.

// PoolCalls runs the pool workload on the runtime: a runtime.Pool of
// members round-robin servers (or one actor when members is 0), called by
// callers attached processes.
func PoolCalls(sz Sizes, members, callers int) (Result, error) {
	call, stop, err := poolTarget(members)
	if err != nil {
		return nil, err
	}
	defer stop()
	return spread(sz, callers, func() (func() error, func()) {
		me, detach := runtime.Attach()
		// The watchdog ends the caller if the run passes its deadline.
		watchdog := time.AfterFunc(sz.RunTimeout(), func() { runtime.Exit(me.Self(), runtime.Killed) })
		return func() error { return call(me) }, func() { watchdog.Stop(); detach() }
	})
}

// poolTarget starts what PoolCalls calls and returns one call to it.
func poolTarget(members int) (func(*runtime.Process) error, func(), error) {
	server := runtime.Spec[struct{}, w4Req]{
		Loop: func(_ *runtime.Process, req w4Req, s struct{}) runtime.Next[struct{}] {
			req.reply.Send(tokPong)
			return runtime.Continue(s)
		},
	}
	check := func(rep *token, err error) error {
		if err == nil && rep != tokPong {
			err = fmt.Errorf("reply %v", rep)
		}
		return err
	}
	if members == 0 {
		srv, err := runtime.Start(server)
		if err != nil {
			return nil, nil, err
		}
		return func(me *runtime.Process) error { return check(runtime.Call(me, srv, w4Make, CallTimeout)) },
			func() { runtime.Exit(srv.Owner(), runtime.Shutdown) }, nil
	}
	pool, err := runtime.StartPool(nil, runtime.PoolSpec[w4Req]{
		Path: "pool", Size: members,
		Start: func(parent *runtime.Process, _ int) (runtime.Member[w4Req], error) {
			s, err := runtime.StartLink(parent, server)
			return runtime.Member[w4Req]{Pid: s.Owner(), Subject: s}, err
		},
	})
	if err != nil {
		return nil, nil, err
	}
	return func(me *runtime.Process) error { return check(runtime.CallPool(me, pool, w4Make, CallTimeout)) },
		func() { pool.Shutdown(context.Background()) }, nil
}

// PoolFloor is the plain-Go twin: members goroutines serving requests from
// their own channel (capacity 1), chosen round robin by an atomic counter
// (one goroutine when members is 0), each call with a fresh reply channel
// as W4Floor.
func PoolFloor(sz Sizes, members, callers int) (Result, error) {
	n := max(members, 1)
	reqs := make([]chan w4FloorReq, n)
	for i := range reqs {
		reqs[i] = make(chan w4FloorReq, 1)
		go func(in chan w4FloorReq) {
			for r := range in {
				r.reply <- tokPong
			}
		}(reqs[i])
	}
	defer func() {
		for _, c := range reqs {
			close(c)
		}
	}()
	var next atomic.Uint64
	return spread(sz, callers, func() (func() error, func()) {
		return func() error {
			reply := make(chan any, 1)
			reqs[(next.Add(1)-1)%uint64(n)] <- w4FloorReq{tokPing, reply}
			if <-reply != tokPong {
				return errors.New("wrong reply")
			}
			return nil
		}, func() {}
	})
}

// spread makes sz.C calls from callers goroutines at once (each set up by
// caller, which returns its call and its clean-up) and returns the calls
// per second of them all.
func spread(sz Sizes, callers int, caller func() (call func() error, done func())) (Result, error) {
	callers = max(callers, 1)
	per := max(sz.C/callers, 1)
	var wg sync.WaitGroup
	errs := make([]error, callers)
	ready := make(chan struct{})
	for c := range callers {
		call, done := caller()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer done()
			<-ready
			for i := range per {
				if err := call(); err != nil {
					errs[c] = fmt.Errorf("pool call %d of caller %d: %w", i, c, err)
					return
				}
			}
		}()
	}
	start := time.Now()
	close(ready)
	wg.Wait()
	total := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	calls := per * callers
	return Result{"pool_calls_per_s": float64(calls) / total.Seconds(), "ns_per_call": float64(total.Nanoseconds()) / float64(calls)}, nil
}
