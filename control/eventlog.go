package control

import (
	"strings"
	"sync"

	"github.com/otpctl/otpctl/live"
)

// EventLog keeps the last events in a ring for the events endpoint, which
// reads it by sequence number, and wakes the followers and the waiters of
// the wait endpoint when events come. It is safe for concurrent use.
// Append never blocks and never allocates for a reader: a follower keeps
// only its cursor, and one that falls behind the ring is told so by Read.
type EventLog struct {
	mu     sync.Mutex
	buf    []live.Event
	start  int // index of the oldest
	n      int
	seq    uint64
	subs   map[chan struct{}]struct{}
	at     map[string]map[chan struct{}]struct{} // waiters by their path
	under  map[string]map[chan struct{}]struct{} // waiters by each of their path's ancestors
	closed bool
	counts eventCounts // what GET /metrics counts of the events
}

// NewEventLog returns a log that keeps the last size events.
func NewEventLog(size int) *EventLog {
	if size < 1 {
		size = 1
	}
	return &EventLog{
		buf:   make([]live.Event, size),
		subs:  map[chan struct{}]struct{}{},
		at:    map[string]map[chan struct{}]struct{}{},
		under: map[string]map[chan struct{}]struct{}{},
	}
}

// Append numbers e, keeps it, counts it for the metrics, and wakes the
// followers and the waiters it concerns (see Watch). It returns e as
// numbered.
func (l *EventLog) Append(e live.Event) live.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts.observe(&e)
	l.seq++
	e.Seq = l.seq
	if l.n < len(l.buf) {
		l.buf[(l.start+l.n)%len(l.buf)] = e
		l.n++
	} else {
		l.buf[l.start] = e
		l.start = (l.start + 1) % len(l.buf)
	}
	for ch := range l.subs {
		wake(ch)
	}
	if e.Path == "" {
		// An event of no node (a reload, say) may change any of them.
		for _, set := range l.at {
			for ch := range set {
				wake(ch)
			}
		}
		return e
	}
	for ch := range l.at[e.Path] {
		wake(ch)
	}
	for ch := range l.under[e.Path] {
		wake(ch)
	}
	return e
}

// wake signals ch without blocking; a signal already pending stands for
// this one too.
func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Bounds returns the sequence numbers of the oldest kept event and of the
// last one appended; first is last+1 when none is kept.
func (l *EventLog) Bounds() (first, last uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seq - uint64(l.n) + 1, l.seq
}

// Read copies into dst the kept events after sequence number since, oldest
// first, as many as fit, and returns how many it copied. behind reports
// that events after since are no longer kept (the ring has moved past
// them): a reader at since has lost them, and nothing is copied.
func (l *EventLog) Read(since uint64, dst []live.Event) (n int, behind bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	first := l.seq - uint64(l.n) + 1
	if since+1 < first {
		return 0, true
	}
	if since >= l.seq {
		return 0, false
	}
	skip := int(since + 1 - first)
	for n < len(dst) && skip+n < l.n {
		dst[n] = l.buf[(l.start+skip+n)%len(l.buf)]
		n++
	}
	return n, false
}

// Follow registers a follower: ready receives a value whenever events have
// been appended since it last did, and is closed when the log is (at once
// if it already is). stop unregisters it; call it when done.
func (l *EventLog) Follow() (ready <-chan struct{}, stop func()) {
	ch := make(chan struct{}, 1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		close(ch)
		return ch, func() {}
	}
	l.subs[ch] = struct{}{}
	return ch, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if _, ok := l.subs[ch]; ok {
			delete(l.subs, ch)
			close(ch)
		}
	}
}

// Watch registers a waiter for the node at path: changed receives a value
// whenever an event that may change that node's state has been appended
// since it last did: an event of path itself, of one of its ancestors
// (whose stop or restart takes path with it) or of no path (a reload).
// Events of other nodes do not wake it, so a thousand waiters cost an
// event nothing but a map look-up. changed is closed when the log is (at
// once if it already is). stop unregisters it; call it when done.
func (l *EventLog) Watch(path string) (changed <-chan struct{}, stop func()) {
	ch := make(chan struct{}, 1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		close(ch)
		return ch, func() {}
	}
	add(l.at, path, ch)
	for a := range ancestors(path) {
		add(l.under, a, ch)
	}
	return ch, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if _, ok := l.at[path][ch]; !ok {
			return // the log has closed it
		}
		remove(l.at, path, ch)
		for a := range ancestors(path) {
			remove(l.under, a, ch)
		}
		close(ch)
	}
}

// ancestors yields the proper ancestors of path: "a/b/c" yields "a/b",
// then "a".
func ancestors(path string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for i := strings.LastIndexByte(path, '/'); i > 0; i = strings.LastIndexByte(path[:i], '/') {
			if !yield(path[:i]) {
				return
			}
		}
	}
}

func add(m map[string]map[chan struct{}]struct{}, key string, ch chan struct{}) {
	set := m[key]
	if set == nil {
		set = map[chan struct{}]struct{}{}
		m[key] = set
	}
	set[ch] = struct{}{}
}

func remove(m map[string]map[chan struct{}]struct{}, key string, ch chan struct{}) {
	delete(m[key], ch)
	if len(m[key]) == 0 {
		delete(m, key)
	}
}

// countsCopy returns a copy of the counts of the events appended so far.
func (l *EventLog) countsCopy() countsCopy {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts.copy()
}

// Close closes every follower's and waiter's channel; later ones get a
// closed one. The kept events can still be read.
func (l *EventLog) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for ch := range l.subs {
		delete(l.subs, ch)
		close(ch)
	}
	for _, set := range l.at {
		for ch := range set {
			close(ch)
		}
	}
	clear(l.at)
	clear(l.under)
}
