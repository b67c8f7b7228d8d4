package testrec

import (
	"errors"
	"sync"
	"time"
)

// ErrTimeout is returned by a wait that reached its timeout without what it
// waited for.
var ErrTimeout = errors.New("testrec: timed out")

// ErrEnded is returned by a wait on a log whose source ended (EndWith)
// without what it waited for: nothing more will come.
var ErrEnded = errors.New("testrec: the stream ended")

// Log is an append-only list of what other goroutines report, which a test
// reads by index and waits on. Its zero value is an empty log, ready to
// use; it must not be copied after first use. All its methods are safe for
// concurrent use.
type Log[T any] struct {
	mu      sync.Mutex
	items   []T
	changed chan struct{} // closed and replaced by every Add
	end     <-chan struct{}
}

// Add appends v and wakes every wait. It does not block beyond the log's
// own lock, so it may be called from an event hook or a logger.
func (l *Log[T]) Add(v T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items = append(l.items, v)
	if l.changed != nil {
		close(l.changed)
		l.changed = nil
	}
}

// EndWith tells the log that its source ends when end is closed: the
// source has added its last item before closing it (a process's output
// once it has exited and its pipe is read, loader.Running.Done for a
// tree's events). A wait then stops at once instead of at its timeout,
// with ErrEnded if what it waited for is not in. Without EndWith a log
// never ends.
func (l *Log[T]) EndWith(end <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.end = end
}

// Len returns the number of items added so far.
func (l *Log[T]) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.items)
}

// At returns the item at index i, which must be below Len.
func (l *Log[T]) At(i int) T {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.items[i]
}

// All returns a copy of every item added so far.
func (l *Log[T]) All() []T { return l.Since(0) }

// Since returns a copy of the items from index from on (none if from is
// Len or past it).
func (l *Log[T]) Since(from int) []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]T(nil), l.items[min(max(from, 0), len(l.items)):]...)
}

// Wait waits up to timeout for an item at index from or later that match
// accepts, and returns the index of the first one. Items already in count:
// a wait for something that came before the call returns at once. If none
// comes it returns -1 and ErrTimeout, or ErrEnded once the source has ended
// (EndWith) and every item is looked at. match is called without the log's
// lock held, so it may read the log.
func (l *Log[T]) Wait(from int, timeout time.Duration, match func(T) bool) (int, error) {
	from = max(from, 0)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		items, changed, end := l.watch(from)
		for i, v := range items {
			if match(v) {
				return from + i, nil
			}
		}
		from += len(items)
		if err := wake(changed, end, deadline.C); err != nil {
			// The source may have added its last items just before it
			// ended: look at them before giving up.
			for i, v := range l.Since(from) {
				if match(v) {
					return from + i, nil
				}
			}
			return -1, err
		}
	}
}

// WaitLen waits up to timeout until the log holds at least n items. It
// returns ErrTimeout, or ErrEnded once the source has ended with fewer.
func (l *Log[T]) WaitLen(n int, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		have := len(l.items)
		changed, end := l.changedLocked(), l.end
		l.mu.Unlock()
		if have >= n {
			return nil
		}
		if err := wake(changed, end, deadline.C); err != nil {
			if l.Len() >= n {
				return nil
			}
			return err
		}
	}
}

// watch returns the items from index from on, and the channels that say
// something has changed since: the next Add, and the end of the source.
func (l *Log[T]) watch(from int) (items []T, changed, end <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]T(nil), l.items[min(from, len(l.items)):]...), l.changedLocked(), l.end
}

// changedLocked returns the channel the next Add closes; l.mu is held.
func (l *Log[T]) changedLocked() <-chan struct{} {
	if l.changed == nil {
		l.changed = make(chan struct{})
	}
	return l.changed
}

// wake waits for changed, and returns ErrEnded or ErrTimeout if end or
// the deadline comes first.
func wake(changed, end <-chan struct{}, deadline <-chan time.Time) error {
	select {
	case <-changed:
		return nil
	case <-end:
		return ErrEnded
	case <-deadline:
		return ErrTimeout
	}
}
