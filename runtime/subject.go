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

// subject is one typed queue of its owner's mailbox. The queue is a ring
// buffer, so a steady flow of messages does not allocate. Its fields are
// guarded by owner.mu, except front, which only the owner's goroutine
// touches.
//
// front is the owner's batch: the oldest messages, taken out of the ring in
// one go under the lock (see reserveLocked) and then received one by one
// without it, so that a receiver behind many senders does not fight them
// for the lock for every message. They are still queued (p.queued counts
// them, less owner.taken) and still come first for every way of receiving. While the owner
// reads them, their slots, the resv slots just before head, are not reused.
type subject[T any] struct {
	owner  *proc
	buf    []entry[T]
	head   int
	n      int
	resv   int
	front  []entry[T]
	closed bool
}

// frontBatch is how many messages a receiver takes out of the ring at once.
const frontBatch = 64

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
	if s.n+s.resv == len(s.buf) {
		size := max(2*len(s.buf), 4)
		// Growing the ring is the one allocation of a send; it is
		// amortised over the queue's life. The reserved slots stay in
		// the old ring, which the owner's front still reads.
		buf := make([]entry[T], size)
		for i := 0; i < s.n; i++ {
			buf[i] = s.buf[(s.head+i)%len(s.buf)]
		}
		s.buf, s.head, s.resv = buf, 0, 0
	}
	s.buf[(s.head+s.n)%len(s.buf)] = entry[T]{seq, v}
	s.n++
}

// has reports whether a message is queued, front included. owner.mu held.
func (s *subject[T]) has() bool { return len(s.front) > 0 || s.n > 0 }

// headSeq is the sequence number of the oldest message. has() must hold.
func (s *subject[T]) headSeq() uint64 {
	if len(s.front) > 0 {
		return s.front[0].seq
	}
	return s.buf[s.head].seq
}

// popFront takes the oldest message of the front, which must not be
// empty, without owner.mu; settleLocked takes it off owner.queued later.
// The owner's goroutine only.
func (s *subject[T]) popFront() T {
	v := s.front[0].v
	s.front[0] = entry[T]{} // let it be collected; no sender writes a reserved slot
	s.front = s.front[1:]
	s.owner.taken.Add(1)
	return v
}

// pop takes the oldest message, front first; has() must hold. The owner's
// goroutine only, with owner.mu held; the caller takes the message off
// owner.queued.
func (s *subject[T]) pop() T {
	if len(s.front) > 0 {
		v := s.front[0].v
		s.front[0] = entry[T]{}
		s.front = s.front[1:]
		return v
	}
	s.settleLocked()
	e := s.buf[s.head]
	s.buf[s.head] = entry[T]{}
	s.head = (s.head + 1) % len(s.buf)
	s.n--
	if s.n == 0 && s.resv == 0 {
		s.head = 0
	}
	return e.v
}

// settleLocked takes the messages read from fronts off owner.queued and
// frees the reserved slots once the front is read. The owner's
// goroutine, with owner.mu held.
func (s *subject[T]) settleLocked() {
	if n := s.owner.taken.Load(); n > 0 {
		s.owner.queued -= s.owner.taken.Swap(0)
	}
	if len(s.front) == 0 && s.resv > 0 {
		s.resv = 0
		if s.n == 0 {
			s.head = 0
		}
	}
}

// reserveLocked moves up to frontBatch of the oldest ring messages to an
// empty front (not across the ring's end). The owner's goroutine, with
// owner.mu held.
func (s *subject[T]) reserveLocked() {
	if len(s.front) > 0 || s.n == 0 {
		return
	}
	s.settleLocked()
	k := min(s.n, frontBatch, len(s.buf)-s.head)
	s.front = s.buf[s.head : s.head+k : s.head+k]
	s.head = (s.head + k) % len(s.buf)
	s.n -= k
	s.resv = k
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
		if len(s.s.front) > 0 && !pr.gone.Load() {
			return s.s.popFront(), nil // no lock
		}
		pr.mu.Lock()
		if pr.dead {
			return zero, pr.unwindLocked()
		}
		s.s.settleLocked()
		if s.s.has() {
			v := s.s.pop()
			pr.queued--
			s.s.reserveLocked()
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
			t = pr.timerLocked(timeout)
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
