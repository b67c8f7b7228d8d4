package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Restart backoff: a delay before a restart's start, on top of OTP's
// intensity. The restart is counted when it is decided, as OTP's
// add_restart does; only the start waits. The wait is a timer that sends
// the supervisor a message to itself (as OTP's try_again_restart), so the
// supervisor keeps answering meanwhile, and a shutdown cancels it.

// Backoff delays a child's restarts. The zero value (Initial zero) is no
// backoff: OTP's behaviour, restarts start at once.
//
// The n-th consecutive restart of a child waits min(Max,
// Initial·Factor^(n-1)), times a random factor in [1-Jitter, 1+Jitter].
// The count goes back to zero when the child exits after running at least
// ResetAfter. While it waits the child is StateRestarting and its
// snapshot's RestartDue says when it starts; an operator's RestartChild
// starts it at once; TerminateChild and a shutdown cancel the wait.
//
// Under one_for_all and rest_for_one the siblings the restart touches are
// stopped at once and the whole group starts after the delay of the child
// whose exit set the restart off.
type Backoff struct {
	// Initial is the first delay (must be > 0 for a backoff).
	Initial time.Duration
	// Max caps the delay. Zero: Initial (a fixed delay).
	Max time.Duration
	// Factor multiplies the delay at each consecutive restart. Zero: 1.
	Factor float64
	// Jitter spreads each delay by up to ±Jitter of it, in [0,1).
	Jitter float64
	// ResetAfter is how long a child must run without exiting for its next
	// restart to wait Initial again. Zero: any run resets it.
	ResetAfter time.Duration
}

// IsZero reports whether b is no backoff.
func (b Backoff) IsZero() bool { return b.Initial <= 0 }

// Delay returns the delay of the n-th consecutive restart (n from 1),
// before jitter: min(Max, Initial·Factor^(n-1)).
func (b Backoff) Delay(n int) time.Duration {
	if b.IsZero() {
		return 0
	}
	ceiling := max(b.Max, b.Initial)
	f := max(b.Factor, 1)
	d := float64(b.Initial) * math.Pow(f, float64(max(n, 1)-1))
	if d >= float64(ceiling) || math.IsInf(d, 0) || math.IsNaN(d) {
		return ceiling
	}
	return time.Duration(d)
}

// jittered spreads d by ±j of it, with u in [0,1).
func jittered(d time.Duration, j, u float64) time.Duration {
	if j <= 0 {
		return d
	}
	return time.Duration(float64(d) * (1 + j*(2*u-1)))
}

func checkBackoff(path, id string, b Backoff) error {
	if b == (Backoff{}) {
		return nil
	}
	bad := func(what string) error {
		return fmt.Errorf("supervisor %s: child %q: invalid_backoff: %s: %w", path, id, what, ErrInvalidSpec)
	}
	switch {
	case b.Initial <= 0:
		return bad("initial must be > 0")
	case b.Max != 0 && b.Max < b.Initial:
		return bad("max must be >= initial")
	case b.Factor != 0 && (b.Factor < 1 || math.IsInf(b.Factor, 0) || math.IsNaN(b.Factor)):
		return bad("factor must be >= 1")
	case b.Jitter < 0 || b.Jitter >= 1 || math.IsNaN(b.Jitter):
		return bad("jitter must be in [0,1)")
	case b.ResetAfter < 0:
		return bad("reset_after must be >= 0")
	}
	return nil
}

// backoffOf is the backoff of c: its own, or the supervisor's default.
func (st *sup) backoffOf(c *child) Backoff {
	if !c.spec.Backoff.IsZero() {
		return c.spec.Backoff
	}
	return st.flags.Backoff
}

// random is a number in [0,1) for jitter.
func (st *sup) random() float64 {
	if st.rand == nil {
		st.rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())).Float64
	}
	return st.rand()
}

// noteExit counts c's exit for its backoff: a run of ResetAfter or more
// resets the count of consecutive restarts.
func (st *sup) noteExit(c *child, now time.Time) {
	if b := st.backoffOf(c); !b.IsZero() && now.Sub(c.started) >= b.ResetAfter {
		c.streak = 0
	}
}

// delayOf is how long the restart of c now decided waits: zero without
// backoff. It counts the restart in c's streak.
func (st *sup) delayOf(c *child) time.Duration {
	b := st.backoffOf(c)
	if b.IsZero() {
		return 0
	}
	c.streak++
	return jittered(b.Delay(c.streak), b.Jitter, st.random())
}

// wait marks c restarting and arms the timer of its delayed restart.
func (st *sup) wait(c *child, d time.Duration, cause Cause, trigger string) {
	c.state = StateRestarting
	c.waitSeq++
	c.due = st.self.p.clock.Now().Add(d)
	c.waitTrigger = trigger
	c.timer = SendAfter(st.retry, retryMsg{c: c, cause: cause, trigger: trigger, seq: c.waitSeq, delayed: true}, d)
}

// cancelWait stops c's pending delayed restart, if any. Its message, if
// already queued, finds the sequence number changed and does nothing.
func (st *sup) cancelWait(c *child) bool {
	if c.timer == nil {
		return false
	}
	c.timer.Stop()
	c.timer, c.due = nil, time.Time{}
	c.waitSeq++
	return true
}

// startScope starts the children a restart of c touches that are not
// running, in start order (the second half of OTP's restart/2): cause for
// c, CauseSibling for the others. A start that fails marks that child
// restarting and retries it through the mailbox; the ones after it stay
// stopped until then. It returns c's process, or the failure.
func (st *sup) startScope(c *child, cause Cause, trigger string) (Pid, error) {
	scope := st.scope(c)
	defer clear(scope)
	var cpid Pid
	var cerr error
	for _, o := range scope {
		if st.byID[o.spec.ID] != o || (!o.pid.IsZero() && o != c) {
			continue // a temporary sibling, removed; or one started meanwhile
		}
		oc, ot := CauseSibling, trigger
		if o == c {
			oc = cause
			if cause == CauseOperator {
				ot = "" // an operator's start has no trigger
			}
		}
		pid, err := st.start(o, oc, ot)
		if err != nil {
			o.state = StateRestarting
			st.retry.Send(retryMsg{c: o, cause: oc, trigger: ot})
			if cerr == nil && cpid.IsZero() {
				cerr = &StartError{Path: o.path, Reason: err}
			}
			break
		}
		if o == c {
			cpid = pid
		}
	}
	return cpid, cerr
}

// skipWait starts now the delayed restart pending for c (an operator's
// start or restart), with its group: the siblings' starts say cause
// sibling and the crash that stopped them as trigger.
func (st *sup) skipWait(c *child) (Pid, error) {
	st.cancelWait(c)
	return st.startScope(c, CauseOperator, c.waitTrigger)
}

// cancelWaits stops every pending delayed restart, as the supervisor
// exits.
func (st *sup) cancelWaits() {
	for _, c := range st.children {
		st.cancelWait(c)
	}
}
