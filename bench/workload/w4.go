package workload

import (
	"errors"
	"fmt"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// W4 — synchronous call latency: C calls one after the other from a single
// caller, each timed on its own into a preallocated slice.

// CallTimeout is the timeout of each W4 call: gen_server:call's default,
// and what the Go peers pass.
const CallTimeout = 5 * time.Second

func w4Figures(samples []time.Duration, total time.Duration) Result {
	r := Result{"calls_per_s": float64(len(samples)) / total.Seconds()}
	latencies(r, samples)
	return r
}

// w4Req is the server's message: it carries the fresh reply subject.
type w4Req struct{ reply runtime.Subject[*token] }

func w4Make(reply runtime.Subject[*token]) w4Req { return w4Req{reply} }

// W4Call times runtime.Call from an attached process to an actor server
// whose Loop replies on the request's subject. timeout is each call's
// (CallTimeout in the workload; runtime.Forever shows what the timer costs).
func W4Call(sz Sizes, timeout time.Duration) (Result, error) {
	srv, err := runtime.Start(runtime.Spec[struct{}, w4Req]{
		Loop: func(_ *runtime.Process, req w4Req, s struct{}) runtime.Next[struct{}] {
			req.reply.Send(tokPong)
			return runtime.Continue(s)
		},
	})
	if err != nil {
		return nil, err
	}
	defer runtime.Exit(srv.Owner(), runtime.Shutdown)
	me, detach := runtime.Attach()
	defer detach()
	// The watchdog ends the caller if the run passes its deadline: its
	// blocking calls then return ErrExited instead of hanging.
	watchdog := time.AfterFunc(sz.RunTimeout(), func() { runtime.Exit(me.Self(), runtime.Killed) })
	defer watchdog.Stop()

	samples := make([]time.Duration, sz.C)
	start := time.Now()
	for i := range samples {
		t0 := time.Now()
		rep, err := runtime.Call(me, srv, w4Make, timeout)
		samples[i] = time.Since(t0)
		if err != nil {
			return nil, fmt.Errorf("W4 call %d: %w", i, err)
		}
		if rep != tokPong {
			return nil, fmt.Errorf("W4 call %d: reply %v", i, rep)
		}
	}
	return w4Figures(samples, time.Since(start)), nil
}

// w4FloorReq is the floor's request: an argument and a reply channel.
type w4FloorReq struct {
	arg   any
	reply chan any
}

// W4Floor is the plain-Go call: the server reads requests from a channel of
// capacity 1 and answers on the request's reply channel, which the caller
// makes fresh (capacity 1) for every call, the analogue of a fresh reference.
func W4Floor(sz Sizes) (Result, error) {
	reqs := make(chan w4FloorReq, 1)
	go func() {
		for r := range reqs {
			r.reply <- tokPong
		}
	}()
	defer close(reqs)
	samples := make([]time.Duration, sz.C)
	start := time.Now()
	for i := range samples {
		t0 := time.Now()
		reply := make(chan any, 1)
		reqs <- w4FloorReq{tokPing, reply}
		rep := <-reply
		samples[i] = time.Since(t0)
		if rep != tokPong {
			return nil, errors.New("W4 floor: wrong reply")
		}
	}
	return w4Figures(samples, time.Since(start)), nil
}
