package runtime

import "time"

// Selector receives from several sources at once — subjects, Down messages,
// trapped exits — each mapped to one result type R, taking whichever message
// arrived first (the seed's new_selector, selecting, selecting_process_down,
// selecting_trapped_exits and select). A selector is used by one process.
type Selector[R any] struct {
	sources []source[R]
}

type source[R any] interface {
	// peek, with p.mu held, returns the sequence number of the oldest
	// message this source would take.
	peek(p *proc) (seq uint64, ok bool)
	// take, with p.mu held, removes that message and keeps it.
	take(p *proc)
	// result, without the lock, maps the kept message.
	result() R
	owner() *proc
}

// NewSelector returns an empty selector.
func NewSelector[R any]() *Selector[R] { return &Selector[R]{} }

// Selecting adds subject s to sel, mapping its messages with f. It returns
// sel.
func Selecting[T, R any](sel *Selector[R], s Subject[T], f func(T) R) *Selector[R] {
	sel.sources = append(sel.sources, &subjectSource[T, R]{s: s.s, f: f})
	return sel
}

// SelectingProcessDown adds the Down message of monitor m, mapped with f.
func (sel *Selector[R]) SelectingProcessDown(m Monitor, f func(Down) R) *Selector[R] {
	sel.sources = append(sel.sources, &downSource[R]{m: m.m, f: f})
	return sel
}

// SelectingAnyProcessDown adds the Down messages of every monitor, mapped
// with f.
func (sel *Selector[R]) SelectingAnyProcessDown(f func(Down) R) *Selector[R] {
	sel.sources = append(sel.sources, &downSource[R]{f: f})
	return sel
}

// SelectingTrappedExits adds the exit messages of a process that traps exits,
// mapped with f.
func (sel *Selector[R]) SelectingTrappedExits(f func(ExitMessage) R) *Selector[R] {
	sel.sources = append(sel.sources, &exitSource[R]{f: f})
	return sel
}

// Select takes the oldest message of any of sel's sources, waiting up to
// timeout (Forever waits without limit; 0 only looks). It returns
// ErrTimeout when nothing came and ErrNotOwner when a subject of sel is not
// p's. A process killed while it waits unwinds.
func (sel *Selector[R]) Select(p *Process, timeout time.Duration) (R, error) {
	var zero R
	pr := p.p
	if !sel.ownedBy(pr) {
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
		pr.yield = false
		if pr.dead {
			return zero, pr.unwindLocked()
		}
		if s := sel.takeLocked(pr); s != nil {
			pr.mu.Unlock()
			return s.result(), nil
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
			timeout, t = 0, nil
		}
	}
}

// ownedBy reports whether every subject of sel is owned by p.
func (sel *Selector[R]) ownedBy(p *proc) bool {
	for _, s := range sel.sources {
		if o := s.owner(); o != nil && o != p {
			return false
		}
	}
	return true
}

// takeLocked takes the oldest message among the sources, with p.mu held, and
// returns the source that holds it (nil when there is none).
func (sel *Selector[R]) takeLocked(p *proc) source[R] {
	var best source[R]
	var bestSeq uint64
	for _, s := range sel.sources {
		if seq, ok := s.peek(p); ok && (best == nil || seq < bestSeq) {
			best, bestSeq = s, seq
		}
	}
	if best != nil {
		best.take(p)
		p.queued--
	}
	return best
}

type subjectSource[T, R any] struct {
	s     *subject[T]
	f     func(T) R
	stash T
}

func (s *subjectSource[T, R]) owner() *proc {
	if s.s == nil {
		return nobody // the zero Subject: no process owns it
	}
	return s.s.owner
}

// nobody is the owner reported for the zero Subject: never the caller.
var nobody = &proc{}

func (s *subjectSource[T, R]) peek(*proc) (uint64, bool) {
	s.s.settleLocked()
	if !s.s.has() {
		return 0, false
	}
	return s.s.headSeq(), true
}
func (s *subjectSource[T, R]) take(*proc) { s.stash = s.s.pop() }
func (s *subjectSource[T, R]) result() R {
	v := s.stash
	var zero T
	s.stash = zero
	return s.f(v)
}

type downSource[R any] struct {
	m     *monitor // nil: any monitor
	f     func(Down) R
	at    int
	stash Down
}

func (s *downSource[R]) owner() *proc { return nil }
func (s *downSource[R]) peek(p *proc) (uint64, bool) {
	if p.x == nil {
		return 0, false
	}
	for i, e := range p.x.downs {
		if s.m == nil || e.d.Monitor.m == s.m {
			s.at = i
			return e.seq, true
		}
	}
	return 0, false
}
func (s *downSource[R]) take(p *proc) {
	x := p.x
	s.stash = x.downs[s.at].d
	x.downs = append(x.downs[:s.at], x.downs[s.at+1:]...)
}
func (s *downSource[R]) result() R {
	d := s.stash
	s.stash = Down{}
	return s.f(d)
}

type exitSource[R any] struct {
	f     func(ExitMessage) R
	stash ExitMessage
}

func (s *exitSource[R]) owner() *proc { return nil }
func (s *exitSource[R]) peek(p *proc) (uint64, bool) {
	if p.x == nil || len(p.x.exits) == 0 {
		return 0, false
	}
	return p.x.exits[0].seq, true
}
func (s *exitSource[R]) take(p *proc) {
	x := p.x
	s.stash = x.exits[0].m
	x.exits[0] = exitEntry{} // let the reason be collected
	if len(x.exits) == 1 {
		x.exits = x.exits[:0] // keep the capacity: the next exit need not allocate
	} else {
		x.exits = x.exits[1:]
	}
}
func (s *exitSource[R]) result() R {
	m := s.stash
	s.stash = ExitMessage{}
	return s.f(m)
}
