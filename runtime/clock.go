package runtime

import (
	"sort"
	"sync"
	"time"
)

// Clock is the source of time for timeouts and for supervisors' restart
// intensity. The default is the real clock; tests inject a FakeClock so that
// period logic runs without sleeping.
type Clock interface {
	// Now returns the current time. Only differences between readings are used.
	Now() time.Time
	// NewTimer returns a timer that fires once after d.
	NewTimer(d time.Duration) Timer
	// AfterFunc calls f in its own goroutine after d; the Timer's C is nil.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a one-shot timer made by a Clock.
type Timer interface {
	// C is the channel the time is delivered on.
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it stopped it.
	Stop() bool
}

// RealClock is the system's monotonic clock.
var RealClock Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) NewTimer(d time.Duration) Timer {
	return realTimer{time.NewTimer(d)}
}

func (realClock) AfterFunc(d time.Duration, f func()) Timer {
	return realTimer{time.AfterFunc(d, f)}
}

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time { return t.t.C }
func (t realTimer) Stop() bool          { return t.t.Stop() }

// FakeClock is a Clock that moves only when told to. It is safe for
// concurrent use.
type FakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	// changed is closed and replaced whenever a timer is added, so that
	// tests can wait for a process to block on the clock without sleeping.
	changed chan struct{}
}

// NewFakeClock returns a fake clock that reads start.
func NewFakeClock(start time.Time) *FakeClock {
	return &FakeClock{now: start, changed: make(chan struct{})}
}

// Now returns the fake time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer that fires when the clock has been advanced by d.
func (c *FakeClock) NewTimer(d time.Duration) Timer {
	return c.add(d, &fakeTimer{ch: make(chan time.Time, 1)})
}

// AfterFunc calls f, in its own goroutine, when the clock has been advanced
// by d.
func (c *FakeClock) AfterFunc(d time.Duration, f func()) Timer {
	return c.add(d, &fakeTimer{f: f})
}

func (c *FakeClock) add(d time.Duration, t *fakeTimer) Timer {
	c.mu.Lock()
	t.c, t.at = c, c.now.Add(d)
	if d <= 0 {
		t.fired = true
		c.mu.Unlock()
		t.fire()
		return t
	}
	c.timers = append(c.timers, t)
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	return t
}

// Advance moves the clock forward by d and fires every timer that is due, in
// the order of their deadlines.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].at.Before(c.timers[j].at) })
	var due []*fakeTimer
	kept := c.timers[:0]
	for _, t := range c.timers {
		if !t.at.After(c.now) {
			t.fired = true
			due = append(due, t)
			continue
		}
		kept = append(kept, t)
	}
	clear(c.timers[len(kept):])
	c.timers = kept
	c.mu.Unlock()
	for _, t := range due {
		t.fire()
	}
}

// Timers returns the number of timers waiting to fire.
func (c *FakeClock) Timers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// AwaitTimers blocks until at least n timers are waiting to fire or the
// real-time deadline passes, and reports whether they are. Tests use it to
// know that a process is blocked on the clock before advancing it.
func (c *FakeClock) AwaitTimers(n int, deadline time.Duration) bool {
	limit := time.NewTimer(deadline)
	defer limit.Stop()
	for {
		c.mu.Lock()
		have, changed := len(c.timers), c.changed
		c.mu.Unlock()
		if have >= n {
			return true
		}
		select {
		case <-changed:
		case <-limit.C:
			return false
		}
	}
}

type fakeTimer struct {
	c     *FakeClock
	at    time.Time
	ch    chan time.Time // NewTimer's
	f     func()         // AfterFunc's
	fired bool
}

func (t *fakeTimer) fire() {
	if t.f != nil {
		go t.f()
		return
	}
	t.ch <- t.at
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.fired {
		return false
	}
	for i, o := range t.c.timers {
		if o == t {
			t.c.timers = append(t.c.timers[:i], t.c.timers[i+1:]...)
			break
		}
	}
	t.fired = true
	return true
}
