package workload

import (
	"sync"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// W3 — fan-in: S senders each send K messages, fire and forget, to one
// receiver that counts to S·K. Timed from the start signal to all senders
// until the receiver has counted the last message.

// w3 starts S goroutines that each call send K times once the start signal
// is given, gives it, and times until received returns (nil once the
// receiver has counted S·K messages).
func w3(sz Sizes, send func(), received func(deadline time.Time) error) (Result, error) {
	deadline := time.Now().Add(sz.RunTimeout())
	startSig := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	for range sz.S {
		wg.Go(func() {
			<-startSig
			for range sz.K {
				send()
			}
		})
	}
	start := time.Now()
	close(startSig)
	if err := received(deadline); err != nil {
		return nil, err
	}
	return Result{"msgs_per_s": float64(sz.S*sz.K) / time.Since(start).Seconds()}, nil
}

// W3Actor fans in to an actor: S goroutines call Send on its subject (safe
// from any goroutine; mailboxes are unbounded).
func W3Actor(sz Sizes) (Result, error) {
	total := sz.S * sz.K
	done := make(chan struct{})
	r, err := runtime.Start(runtime.Spec[int, *token]{
		Loop: func(_ *runtime.Process, _ *token, n int) runtime.Next[int] {
			n++
			if n == total {
				close(done)
			}
			return runtime.Continue(n)
		},
	})
	if err != nil {
		return nil, err
	}
	defer runtime.Exit(r.Owner(), runtime.Shutdown)
	return w3(sz, func() { r.Send(tokMsg) }, func(deadline time.Time) error {
		return waitChan(deadline, done, "W3 messages")
	})
}

// W3Process fans in to a spawned process in a blocking Receive loop.
func W3Process(sz Sizes) (Result, error) {
	total := sz.S * sz.K
	subj := make(chan runtime.Subject[*token], 1)
	done := make(chan error, 1)
	pid := runtime.Spawn(func(p *runtime.Process) {
		in := runtime.NewSubject[*token](p)
		subj <- in
		for range total {
			if _, err := runtime.Receive(p, in, runtime.Forever); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	})
	r := <-subj
	return w3(sz, func() { r.Send(tokMsg) }, func(deadline time.Time) error {
		return waitProcess(deadline, done, pid, "W3 messages")
	})
}

// W3Floor fans in over one buffered channel of capacity 1024.
func W3Floor(sz Sizes) (Result, error) {
	total := sz.S * sz.K
	ch := make(chan any, 1024)
	done := make(chan struct{})
	go func() {
		for range total {
			<-ch
		}
		close(done)
	}()
	return w3(sz, func() { ch <- tokMsg }, func(deadline time.Time) error {
		return waitChan(deadline, done, "W3 messages")
	})
}
