package runtime_test

import (
	goruntime "runtime"
	"sync"
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// The wake protocol between senders and a receiver that parks (a process
// in Receive or Select) or goes idle (an actor) must neither lose a wakeup
// (the receiver would sleep on a queued message: a hang, caught here by a
// timeout) nor start an actor's drain twice (two goroutines in its Loop at
// once: caught by the race detector and by TryLock in Loop). Senders send
// in short bursts, each once the last is received, so that the receiver
// empties its queue and parks again and again while others are sending.
// Run with -race and -count=N to hammer it.

const (
	hammerSenders = 8
	hammerEach    = 2000
)

// burst is how many messages sender f sends before it waits for the last
// of them to be received: after each burst the receiver has to be woken by
// that burst, and between bursts it parks.
func burst(f int) int { return 1 + f%4 }

// lastOfBurst reports whether message n of sender f ends a burst.
func lastOfBurst(f, n int) bool { return (n+1)%burst(f) == 0 || n == hammerEach-1 }

// hammer makes hammerSenders goroutines send hammerEach messages each to
// the subjects that to returns, in bursts, each burst once the previous
// one has been received (acked on acks[f]), and waits for them.
func hammer(to func(from, n int) runtime.Subject[seqMsg], acks []chan struct{}) {
	var wg sync.WaitGroup
	for f := range hammerSenders {
		wg.Go(func() {
			for n := range hammerEach {
				to(f, n).Send(seqMsg{f, n})
				if !lastOfBurst(f, n) {
					continue
				}
				select {
				case <-acks[f]:
				case <-time.After(patience):
					return // checkOrder reports it
				}
				if n%3 == 0 {
					goruntime.Gosched()
				}
			}
		})
	}
	wg.Wait()
}

// checkOrder takes hammerSenders·hammerEach messages from next, each
// within patience, acks the last of each burst, and fails unless each
// sender's messages come in order.
func checkOrder(t *testing.T, next func() (seqMsg, bool), acks []chan struct{}) {
	t.Helper()
	want := make([]int, hammerSenders)
	for i := range hammerSenders * hammerEach {
		m, ok := next()
		if !ok {
			t.Fatalf("message %d of %d never came: a lost wakeup", i, hammerSenders*hammerEach)
		}
		if m.n != want[m.from] {
			t.Fatalf("sender %d: got message %d, want %d", m.from, m.n, want[m.from])
		}
		want[m.from]++
		if lastOfBurst(m.from, m.n) {
			acks[m.from] <- struct{}{}
		}
	}
}

func newAcks() []chan struct{} {
	acks := make([]chan struct{}, hammerSenders)
	for i := range acks {
		acks[i] = make(chan struct{}, 1)
	}
	return acks
}

func TestWakeHammerReceive(t *testing.T) {
	got := make(chan seqMsg, 64)
	subj := make(chan runtime.Subject[seqMsg], 1)
	pid := runtime.Spawn(func(p *runtime.Process) {
		in := runtime.NewSubject[seqMsg](p)
		subj <- in
		for i := 0; ; i++ {
			// Now and then a timed wait, whose timer may fire as a
			// message comes.
			timeout := runtime.Forever
			if i%5 == 0 {
				timeout = time.Microsecond
			}
			m, err := runtime.Receive(p, in, timeout)
			if err == nil {
				got <- m
			}
		}
	})
	defer stop(t, pid)
	in := <-subj
	acks := newAcks()
	go hammer(func(int, int) runtime.Subject[seqMsg] { return in }, acks)
	checkOrder(t, func() (seqMsg, bool) { return within(got) }, acks)
}

func TestWakeHammerActor(t *testing.T) {
	got := make(chan seqMsg, 64)
	var inLoop sync.Mutex // two drains at once would make TryLock fail
	s, err := runtime.Start(runtime.Spec[struct{}, seqMsg]{
		Loop: func(_ *runtime.Process, m seqMsg, st struct{}) runtime.Next[struct{}] {
			if !inLoop.TryLock() {
				panic("two goroutines in one actor's Loop")
			}
			got <- m
			inLoop.Unlock()
			return runtime.Continue(st)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop(t, s.Owner())
	acks := newAcks()
	go hammer(func(int, int) runtime.Subject[seqMsg] { return s }, acks)
	checkOrder(t, func() (seqMsg, bool) { return within(got) }, acks)
	if !s.Owner().Alive() {
		t.Fatalf("the actor died: %v", s.Owner().Reason())
	}
}

// A selector over two subjects, each sender alternating between them:
// the selector must give each sender's messages in the order sent across
// the subjects, and wake for either.
func TestWakeHammerSelect(t *testing.T) {
	got := make(chan seqMsg, 64)
	subjs := make(chan [2]runtime.Subject[seqMsg], 1)
	pid := runtime.Spawn(func(p *runtime.Process) {
		a, b := runtime.NewSubject[seqMsg](p), runtime.NewSubject[seqMsg](p)
		sel := runtime.NewSelector[seqMsg]()
		runtime.Selecting(sel, a, func(m seqMsg) seqMsg { return m })
		runtime.Selecting(sel, b, func(m seqMsg) seqMsg { return m })
		subjs <- [2]runtime.Subject[seqMsg]{a, b}
		for {
			if m, err := sel.Select(p, runtime.Forever); err == nil {
				got <- m
			}
		}
	})
	defer stop(t, pid)
	ab := <-subjs
	acks := newAcks()
	go hammer(func(from, n int) runtime.Subject[seqMsg] { return ab[(from+n/3)%2] }, acks)
	checkOrder(t, func() (seqMsg, bool) { return within(got) }, acks)
}

func within(c <-chan seqMsg) (seqMsg, bool) {
	select {
	case m := <-c:
		return m, true
	case <-time.After(patience):
		return seqMsg{}, false
	}
}
