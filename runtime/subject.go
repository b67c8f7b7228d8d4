package runtime

import (
	goruntime "runtime"
	"time"
)

// Subject is a typed address of a process: messages of type T sent to it are
// received by the process that made it, and only by that process. Subjects
// are comparable and safe to share between goroutines.
type Subject[T any] struct{ s *subject[T] }

type entry[T any] struct {
	seq uint64
	v   T
}

// subject is one typed queue of its owner's mailbox. Its fields are guarded by
// owner.mu. The queue is a ring buffer, so a steady flow of messages does not
// allocate.
type subject[T any] struct {
	owner  *proc
	buf    []entry[T]
	head   int
	n      int
	closed bool
}

// NewSubject makes a subject owned by p.
func NewSubject[T any](p *Process) Subject[T] {
	return Subject[T]{&subject[T]{owner: p.p}}
}

// Owner returns the Pid of the process that receives from the subject (the
// zero Pid for the zero Subject).
func (s Subject[T]) Owner() Pid {
	if s.s == nil {
		return Pid{}
	}
	return Pid{s.s.owner}
}

// IsZero reports whether s is the zero Subject (no process).
func (s Subject[T]) IsZero() bool { return s.s == nil }

// Send sends msg to the subject. It never blocks (mailboxes are unbounded,
// as in Erlang) and is safe from any goroutine. A message to a dead process,
// or to the zero Subject, is dropped. Past a few thousand queued messages
// the sender yields the processor once after each send (runtime.Gosched),
// so that the receiver gets to run; it does not wait for it.
func (s Subject[T]) Send(msg T) {
	if s.s == nil {
		return
	}
	p := s.s.owner
	p.mu.Lock()
	if p.dead || s.s.closed {
		p.mu.Unlock()
		return
	}
	p.seq++
	s.s.push(p.seq, msg)
	p.queued++
	long := p.queued > sendYieldQueue
	start := p.wakeLocked()
	p.mu.Unlock()
	if start {
		p.schedule()
	}
	if long {
		goruntime.Gosched()
	}
}

// sendYieldQueue is the mailbox length past which a sender yields the
// processor after its send. BEAM charges a sender to a long queue in the
// same spirit. Without it, on few cores, senders that never block starve
// their receiver: W3 (8 senders, 1 receiver, 2 cores) queued millions of
// messages, and growing and scanning the queue cost more than the sends.
const sendYieldQueue = 4096

// Send sends msg to s; it is s.Send(msg), in the seed's spelling.
func Send[T any](s Subject[T], msg T) { s.Send(msg) }

func (s *subject[T]) push(seq uint64, v T) {
	if s.n == len(s.buf) {
		size := max(2*len(s.buf), 4)
		// Growing the ring is the one allocation of a send; it is
		// amortised over the queue's life.
		buf := make([]entry[T], size)
		for i := 0; i < s.n; i++ {
			buf[i] = s.buf[(s.head+i)%len(s.buf)]
		}
		s.buf, s.head = buf, 0
	}
	s.buf[(s.head+s.n)%len(s.buf)] = entry[T]{seq, v}
	s.n++
}

func (s *subject[T]) pop() T {
	e := s.buf[s.head]
	var zero entry[T]
	s.buf[s.head] = zero
	s.head = (s.head + 1) % len(s.buf)
	s.n--
	if s.n == 0 {
		s.head = 0
	}
	return e.v
}

// Receive takes the oldest message sent to s, waiting up to timeout
// (Forever waits without limit; 0 only looks). Messages sent to other
// subjects stay queued. It returns ErrTimeout when nothing came, and
// ErrNotOwner when p does not own s. A process killed while it waits unwinds.
func Receive[T any](p *Process, s Subject[T], timeout time.Duration) (T, error) {
	var zero T
	pr := p.p
	if s.s == nil || s.s.owner != pr {
		return zero, ErrNotOwner
	}
	var t Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for {
		pr.mu.Lock()
		if pr.dead {
			return zero, pr.unwindLocked()
		}
		if s.s.n > 0 {
			v := s.s.pop()
			pr.queued--
			pr.mu.Unlock()
			return v, nil
		}
		if timeout == 0 {
			pr.mu.Unlock()
			return zero, ErrTimeout
		}
		if timeout < 0 {
			<-pr.parking()
			continue
		}
		if t == nil {
			t = pr.timer(timeout)
		}
		if pr.park(t) {
			timeout, t = 0, nil // look once more, then give up
		}
	}
}

// SendAfter sends msg to s after d, by the clock of s's owner (Erlang's
// send_after). Stopping the returned timer cancels the send.
func SendAfter[T any](s Subject[T], msg T, d time.Duration) Timer {
	return s.s.owner.clock.AfterFunc(d, func() { s.Send(msg) })
}
