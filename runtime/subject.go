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
// guarded by owner.mu, but for fx's, which only the owner's goroutine
// touches (see front). Counts are int32 to keep a subject in 64 bytes.
type subject[T any] struct {
	owner  *proc
	buf    []entry[T]
	head   int32
	n      int32
	resv   int32     // slots just before head that the owner's front still reads
	fx     *front[T] // made the first time the owner finds more than one message queued
	closed bool
}

// front is a subject's batch: the oldest messages, taken out of the ring in
// one go under the lock (see reserveLocked) and then received one by one by
// the owner without it, so that a receiver behind many senders does not
// fight them for the lock for every message. They are still queued
// (owner.queued counts them, less owner.taken) and still come first for
// every way of receiving. While the owner reads them their slots are not
// reused (subject.resv), and senders touch nothing the owner writes here.
type front[T any] struct {
	e []entry[T]
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

// frontLen is the number of messages in the owner's batch; the owner's
// goroutine only.
func (s *subject[T]) frontLen() int {
	if s.fx == nil {
		return 0
	}
	return len(s.fx.e)
}

func (s *subject[T]) push(seq uint64, v T) {
	size := len(s.buf)
	if int(s.n+s.resv) == size {
		size = max(2*size, 4)
		// Growing the ring is the one allocation of a send; it is
		// amortised over the queue's life. The reserved slots stay in
		// the old ring, which the owner's front still reads.
		buf := make([]entry[T], size)
		for i := 0; i < int(s.n); i++ {
			buf[i] = s.buf[(int(s.head)+i)%len(s.buf)]
		}
		s.buf, s.head, s.resv = buf, 0, 0
	}
	s.buf[(int(s.head)+int(s.n))%size] = entry[T]{seq, v}
	s.n++
}

// has reports whether a message is queued, front included. owner.mu held.
func (s *subject[T]) has() bool { return s.n > 0 || s.frontLen() > 0 }

// headSeq is the sequence number of the oldest message. has() must hold.
func (s *subject[T]) headSeq() uint64 {
	if s.frontLen() > 0 {
		return s.fx.e[0].seq
	}
	return s.buf[s.head].seq
}

// popFront takes the oldest message of the front, which must not be
// empty, without owner.mu; settleLocked takes it off owner.queued later.
// The owner's goroutine only.
func (s *subject[T]) popFront() T {
	f := s.fx
	v := f.e[0].v
	f.e[0] = entry[T]{} // let it be collected; no sender writes a reserved slot
	f.e = f.e[1:]
	s.owner.taken.Add(1)
	return v
}

// pop takes the oldest message, front first; has() must hold. The owner's
// goroutine only, with owner.mu held; the caller takes the message off
// owner.queued.
func (s *subject[T]) pop() T {
	if s.frontLen() > 0 {
		f := s.fx
		v := f.e[0].v
		f.e[0] = entry[T]{}
		f.e = f.e[1:]
		return v
	}
	s.settleLocked()
	e := s.buf[s.head]
	s.buf[s.head] = entry[T]{}
	s.head = int32((int(s.head) + 1) % len(s.buf))
	s.n--
	if s.n == 0 && s.resv == 0 {
		s.head = 0
	}
	return e.v
}

// settleLocked takes the messages read from fronts off owner.queued and
// frees the reserved slots once the front is read. The owner's goroutine,
// with owner.mu held.
func (s *subject[T]) settleLocked() {
	if s.owner.taken.Load() > 0 {
		s.owner.queued -= s.owner.taken.Swap(0)
	}
	if s.resv > 0 && s.frontLen() == 0 {
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
	if s.n <= 1 || s.frontLen() > 0 {
		return // one message is taken with the lock held anyway
	}
	s.settleLocked()
	if s.fx == nil {
		s.fx = &front[T]{} // once in the subject's life
	}
	head := int(s.head)
	k := min(int(s.n), frontBatch, len(s.buf)-head)
	s.fx.e = s.buf[head : head+k : head+k]
	s.head = int32((head + k) % len(s.buf))
	s.n -= int32(k)
	s.resv = int32(k)
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
		if s.s.frontLen() > 0 && !pr.gone.Load() {
			return s.s.popFront(), nil // no lock
		}
		// A wake leaves the front empty (only this goroutine fills it,
		// and it parked with nothing queued), so a woken receiver comes
		// here and clears yield before it returns to its own code.
		pr.mu.Lock()
		pr.yield = false
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
