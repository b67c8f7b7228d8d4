package control

import (
	"context"
	"sync"
)

// EventLog keeps the last events for the events endpoint and fans new ones
// out to followers. It is safe for concurrent use. A follower that does not
// keep up loses events rather than slowing the tree: Append never blocks.
type EventLog struct {
	mu     sync.Mutex
	buf    []Event
	start  int // index of the oldest
	n      int
	seq    uint64
	subs   map[chan Event]struct{}
	closed bool
}

// FollowerBuffer is how many events a follower may fall behind by before it
// loses some.
const FollowerBuffer = 1024

// NewEventLog returns a log that keeps the last size events.
func NewEventLog(size int) *EventLog {
	if size < 1 {
		size = 1
	}
	return &EventLog{buf: make([]Event, size), subs: map[chan Event]struct{}{}}
}

// Append numbers e, keeps it and sends it to the followers. It returns e as
// numbered.
func (l *EventLog) Append(e Event) Event {
	l.mu.Lock()
	defer l.mu.Unlock()
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
		select {
		case ch <- e:
		default: // a slow follower loses this event
		}
	}
	return e
}

// Events returns the kept events after since and, with follow, a channel of
// the later ones that is closed when ctx ends or the log is closed.
func (l *EventLog) Events(ctx context.Context, since uint64, follow bool) ([]Event, <-chan Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var past []Event
	for i := 0; i < l.n; i++ {
		if e := l.buf[(l.start+i)%len(l.buf)]; e.Seq > since {
			past = append(past, e)
		}
	}
	if !follow {
		return past, nil
	}
	ch := make(chan Event, FollowerBuffer)
	if l.closed {
		close(ch)
		return past, ch
	}
	l.subs[ch] = struct{}{}
	context.AfterFunc(ctx, func() {
		l.mu.Lock()
		if _, ok := l.subs[ch]; ok {
			delete(l.subs, ch)
			close(ch)
		}
		l.mu.Unlock()
	})
	return past, ch
}

// Close ends every follower's channel; later followers get a closed one.
func (l *EventLog) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for ch := range l.subs {
		delete(l.subs, ch)
		close(ch)
	}
}
