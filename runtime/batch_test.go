package runtime_test

import (
	"sync"
	"testing"

	"github.com/otpctl/otpctl/runtime"
)

// A receiver behind many messages takes a batch of them out of its queue at
// once (and reads them without the lock); these tests check that nothing
// about the order or the count of messages shows it.

type seqMsg struct{ from, n int }

// Many senders to one process, received with Receive and by an actor: each
// sender's messages arrive in the order it sent them, all of them.
func TestManySendersKeepTheirOrder(t *testing.T) {
	const senders, each = 4, 20_000
	check := func(t *testing.T, got <-chan seqMsg) {
		t.Helper()
		next := make([]int, senders)
		for range senders * each {
			m := <-got
			if m.n != next[m.from] {
				t.Fatalf("sender %d: got message %d, want %d", m.from, m.n, next[m.from])
			}
			next[m.from]++
		}
	}
	send := func(s runtime.Subject[seqMsg]) {
		var wg sync.WaitGroup
		for f := range senders {
			wg.Go(func() {
				for n := range each {
					s.Send(seqMsg{f, n})
				}
			})
		}
		wg.Wait()
	}
	t.Run("process", func(t *testing.T) {
		got := make(chan seqMsg, senders*each)
		subj := make(chan runtime.Subject[seqMsg], 1)
		runtime.Spawn(func(p *runtime.Process) {
			in := runtime.NewSubject[seqMsg](p)
			subj <- in
			for range senders * each {
				m, err := runtime.Receive(p, in, patience)
				if err != nil {
					return
				}
				got <- m
			}
		})
		send(<-subj)
		check(t, got)
	})
	t.Run("actor", func(t *testing.T) {
		got := make(chan seqMsg, senders*each)
		s, err := runtime.Start(runtime.Spec[struct{}, seqMsg]{
			Loop: func(_ *runtime.Process, m seqMsg, st struct{}) runtime.Next[struct{}] {
				got <- m
				return runtime.Continue(st)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer runtime.Exit(s.Owner(), runtime.Killed)
		send(s)
		check(t, got)
	})
}

// Messages taken out of the queue in a batch still come first: for a
// Receive inside the actor's Loop, for a selector over two subjects, and in
// MailboxLen.
func TestBatchedMessagesStayFirst(t *testing.T) {
	t.Run("receive in loop", func(t *testing.T) {
		me := attach(t)
		out := runtime.NewSubject[int](me)
		type state struct{ self runtime.Subject[int] }
		s, err := runtime.Start(runtime.Spec[state, int]{
			Init: func(_ *runtime.Process, self runtime.Subject[int], _ *runtime.Selector[int]) (state, error) {
				for i := range 100 { // queued before the first Loop: one batch
					self.Send(i)
				}
				return state{self}, nil
			},
			Loop: func(p *runtime.Process, m int, st state) runtime.Next[state] {
				out.Send(m)
				if m%10 == 0 { // the next message, received by hand
					n, err := runtime.Receive(p, st.self, 0)
					if err != nil {
						n = -1
					}
					out.Send(n)
				}
				return runtime.Continue(st)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer runtime.Exit(s.Owner(), runtime.Killed)
		for i := range 100 {
			if m := recv(t, me, out); m != i {
				t.Fatalf("message %d came as %d", i, m)
			}
		}
	})
	t.Run("select after receive", func(t *testing.T) {
		me := attach(t)
		a := runtime.NewSubject[int](me)
		b := runtime.NewSubject[int](me)
		for i := range 10 { // a: 0, 2, 4, …; b: 1, 3, 5, …
			a.Send(2 * i)
			b.Send(2*i + 1)
		}
		if m := recv(t, me, a); m != 0 { // takes a batch of a
			t.Fatalf("first of a: %d", m)
		}
		a.Send(20) // behind the batch
		b.Send(21)
		if n := me.Self().MailboxLen(); n != 21 {
			t.Errorf("MailboxLen = %d, want 21", n)
		}
		sel := runtime.NewSelector[int]()
		runtime.Selecting(sel, a, func(v int) int { return v })
		runtime.Selecting(sel, b, func(v int) int { return v })
		for want := 1; want <= 21; want++ {
			m, err := sel.Select(me, patience)
			if err != nil || m != want {
				t.Fatalf("select got %d, %v; want %d", m, err, want)
			}
		}
		if n := me.Self().MailboxLen(); n != 0 {
			t.Errorf("MailboxLen = %d, want 0", n)
		}
	})
}
