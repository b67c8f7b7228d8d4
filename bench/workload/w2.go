package workload

import (
	"fmt"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// W2 — ping-pong: A sends a ping to B, B replies to the sender, A sends the
// next ping only once the reply is in. M round trips, timed from the
// driver's start signal to A's M-th reply.

func w2Figures(m int, d time.Duration) Result {
	return Result{"rt_per_s": float64(m) / d.Seconds(), "ns_per_rt": float64(d.Nanoseconds()) / float64(m)}
}

// w2Ping is B's message: a ping that carries the reply address. A sends
// the same preallocated one every time.
type w2Ping struct{ from runtime.Subject[*token] }

// W2Actors plays ping-pong between two actors: A's Loop sends a ping on the
// kick and on every pong until the M-th; B's Loop answers each ping.
func W2Actors(sz Sizes) (Result, error) {
	m := sz.M
	deadline := time.Now().Add(sz.RunTimeout())
	b, err := runtime.Start(runtime.Spec[struct{}, *w2Ping]{
		Loop: func(_ *runtime.Process, ping *w2Ping, s struct{}) runtime.Next[struct{}] {
			ping.from.Send(tokPong)
			return runtime.Continue(s)
		},
	})
	if err != nil {
		return nil, err
	}
	defer runtime.Exit(b.Owner(), runtime.Shutdown)
	done := make(chan struct{})
	var ping w2Ping // ping.from is set before the kick, which publishes it
	a, err := runtime.Start(runtime.Spec[int, *token]{
		Loop: func(_ *runtime.Process, msg *token, n int) runtime.Next[int] {
			if msg == tokPong {
				n++
				if n == m {
					close(done)
					return runtime.Continue(n)
				}
			}
			b.Send(&ping)
			return runtime.Continue(n)
		},
	})
	if err != nil {
		return nil, err
	}
	defer runtime.Exit(a.Owner(), runtime.Shutdown)
	ping.from = a

	start := time.Now()
	a.Send(tokKick)
	if err := waitChan(deadline, done, "W2 replies"); err != nil {
		return nil, err
	}
	return w2Figures(m, time.Since(start)), nil
}

// W2Processes plays ping-pong between two spawned processes, each in a
// blocking Receive loop.
func W2Processes(sz Sizes) (Result, error) {
	m := sz.M
	deadline := time.Now().Add(sz.RunTimeout())
	bSubj := make(chan runtime.Subject[*w2Ping], 1)
	runtime.Spawn(func(p *runtime.Process) {
		in := runtime.NewSubject[*w2Ping](p)
		bSubj <- in
		for {
			ping, err := runtime.Receive(p, in, runtime.Forever)
			if err != nil || ping == nil {
				return
			}
			ping.from.Send(tokPong)
		}
	})
	b := <-bSubj
	defer b.Send(nil) // B stops on a nil ping

	aSubj := make(chan runtime.Subject[*token], 1)
	done := make(chan error, 1)
	aPid := runtime.Spawn(func(p *runtime.Process) {
		in := runtime.NewSubject[*token](p)
		aSubj <- in
		if _, err := runtime.Receive(p, in, runtime.Forever); err != nil { // the kick
			done <- err
			return
		}
		ping := &w2Ping{from: in}
		for range m {
			b.Send(ping)
			if _, err := runtime.Receive(p, in, runtime.Forever); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	})
	a := <-aSubj

	start := time.Now()
	a.Send(tokKick)
	if err := waitProcess(deadline, done, aPid, "W2 replies"); err != nil {
		return nil, err
	}
	return w2Figures(m, time.Since(start)), nil
}

// W2Floor plays ping-pong between two goroutines over two channels, one
// per direction, of capacity 0 (unbuffered) or 1.
func W2Floor(sz Sizes, capacity int) (Result, error) {
	if capacity < 0 || capacity > 1 {
		return nil, fmt.Errorf("W2 floor: capacity %d (0 or 1)", capacity)
	}
	m := sz.M
	deadline := time.Now().Add(sz.RunTimeout())
	ab, ba := make(chan any, capacity), make(chan any, capacity)
	kick, done := make(chan struct{}), make(chan struct{})
	go func() { // B
		for v := range ab {
			ba <- v
		}
	}()
	defer close(ab)
	go func() { // A
		<-kick
		for range m {
			ab <- tokPing
			<-ba
		}
		close(done)
	}()
	start := time.Now()
	close(kick)
	if err := waitChan(deadline, done, "W2 replies"); err != nil {
		return nil, err
	}
	return w2Figures(m, time.Since(start)), nil
}
