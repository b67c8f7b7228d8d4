package workload

import (
	"errors"
	"sync"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// W3 — fan-in: S senders each send K messages, fire and forget, to one
// receiver that counts to S·K. Timed from the start signal to all senders
// until the receiver has counted the last message.

func w3Figures(total int, d time.Duration) Result {
	return Result{"msgs_per_s": float64(total) / d.Seconds()}
}

// w3Senders starts sz.S goroutines that each call send K times once start is
// closed, and returns a wait for them.
func w3Senders(sz Sizes, start <-chan struct{}, send func()) (wait func()) {
	var wg sync.WaitGroup
	for range sz.S {
		wg.Go(func() {
			<-start
			for range sz.K {
				send()
			}
		})
	}
	return wg.Wait
}

// W3Actor fans in to an actor: S goroutines call Send on its subject (safe
// from any goroutine; mailboxes are unbounded).
func W3Actor(sz Sizes) (Result, error) {
	total := sz.S * sz.K
	deadline := time.Now().Add(sz.timeout())
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
	startSig := make(chan struct{})
	wait := w3Senders(sz, startSig, func() { r.Send(tokMsg) })
	defer wait()
	start := time.Now()
	close(startSig)
	if err := waitChan(deadline, done, "W3 messages"); err != nil {
		return nil, err
	}
	return w3Figures(total, time.Since(start)), nil
}

// W3Process fans in to a spawned process in a blocking Receive loop.
func W3Process(sz Sizes) (Result, error) {
	total := sz.S * sz.K
	deadline := time.Now().Add(sz.timeout())
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
	startSig := make(chan struct{})
	wait := w3Senders(sz, startSig, func() { r.Send(tokMsg) })
	defer wait()
	start := time.Now()
	close(startSig)
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return nil, err
		}
	case <-t.C:
		runtime.Exit(pid, runtime.Killed)
		return nil, errors.New("timed out waiting for W3 messages")
	}
	return w3Figures(total, time.Since(start)), nil
}

// W3Floor fans in over one buffered channel of capacity 1024.
func W3Floor(sz Sizes) (Result, error) {
	total := sz.S * sz.K
	deadline := time.Now().Add(sz.timeout())
	ch := make(chan any, 1024)
	done := make(chan struct{})
	go func() {
		for range total {
			<-ch
		}
		close(done)
	}()
	startSig := make(chan struct{})
	wait := w3Senders(sz, startSig, func() { ch <- tokMsg })
	defer wait()
	start := time.Now()
	close(startSig)
	if err := waitChan(deadline, done, "W3 messages"); err != nil {
		return nil, err
	}
	return w3Figures(total, time.Since(start)), nil
}
