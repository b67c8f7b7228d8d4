package runtime

import "time"

// A supervisor waits for each child's start as OTP's does: the start runs
// on the supervisor's goroutine, and the next child starts only once it has
// returned. Unlike OTP, the wait itself is interruptible and observable:
// while the supervisor waits for a child's init ack (StartLink's, or a
// nested StartSupervisor's), its goroutine is parked in the runtime as in a
// receive, and each message that arrives wakes it. It then
//   - answers Snapshot (the requests sent to its query subject), which
//     sees the child as StateStarting (WhichChildren and CountChildren
//     wait for the start, as in OTP);
//   - and, on a stop request (Shutdown) or an exit signal from its parent,
//     stops the child being started as it stops any child (the exit signal
//     Shutdown, its shutdown time, then Killed), reports it terminated, and
//     then stops the children already started in reverse order and exits,
//     as it would have on that request once the start returned.
//
// Every other message (child exits, operator requests, retries) stays
// queued until the start returns, so starts still happen one after the
// other in OTP's order.

// startWatcher is what a process that waits for a child's start is told by
// its owner (a supervisor) through procExt.watch. Its methods run on the
// waiting process's own goroutine.
type startWatcher interface {
	// starting records the process being started (zero: none any more).
	starting(child Pid)
	// queriesLocked, with p.mu held, reports whether a read-only request
	// is queued; stopLocked whether something asks the start to stop.
	queriesLocked() bool
	stopLocked() bool
	// poll, without the lock, answers the queued read-only requests and
	// reports whether the start must be stopped, with the child's
	// shutdown policy.
	poll() (stop bool, pol ShutdownPolicy)
	// stopped records that the child was stopped during its start, with
	// its exit reason.
	stopped(child Pid, reason error)
}

// startWait is how a wait for a child's start ended.
type startWait uint8

const (
	startAcked   startWait = iota // the child acked (its init returned, well or not)
	startExpired                  // the init timeout passed
	startStopped                  // the start was stopped: the child has exited
)

// awaitStart waits, on p's own goroutine, for the start of child: for ack
// (received from or closed) or expired. If p is a supervisor (it has a
// watcher) the wait answers its read-only requests meanwhile and stops the
// child when the supervisor is asked to stop; otherwise it is a plain wait.
func (p *proc) awaitStart(child *proc, ack <-chan struct{}, expired <-chan time.Time) startWait {
	p.mu.Lock()
	var w startWatcher
	if p.x != nil && !p.dead {
		w = p.x.watch
	}
	p.mu.Unlock()
	if w == nil {
		return plainStartWait(ack, expired)
	}
	w.starting(Pid{child})
	defer w.starting(Pid{})
	for {
		p.mu.Lock()
		p.yield = false
		if p.dead {
			// Killed: the child, linked to p, gets the signal too.
			p.mu.Unlock()
			return plainStartWait(ack, expired)
		}
		if w.queriesLocked() || w.stopLocked() {
			p.mu.Unlock()
			if stop, pol := w.poll(); stop {
				return p.stopStart(w, child, pol, ack, expired)
			}
			continue
		}
		wake := p.parking()
		select {
		case <-ack:
			p.unpark()
			return startAcked
		case <-expired:
			p.unpark()
			return startExpired
		case <-wake:
		}
	}
}

func plainStartWait(ack <-chan struct{}, expired <-chan time.Time) startWait {
	select {
	case <-ack:
		return startAcked
	case <-expired:
		return startExpired
	}
}

// unpark ends a park that something other than a wake ended.
func (p *proc) unpark() {
	p.mu.Lock()
	p.wait = false
	p.mu.Unlock()
}

// stopStart stops child, whose start p was waiting for, as a supervisor
// stops a child (see sup.terminate): it monitors it, sends it Shutdown (or
// Killed for BrutalKill), waits for its Down up to pol and then kills it.
// The init timeout still applies. It goes on answering read-only requests
// meanwhile. The child is then unlinked and its queued exit signal
// dropped; w.stopped gets its reason.
func (p *proc) stopStart(w startWatcher, child *proc, pol ShutdownPolicy, ack <-chan struct{}, expired <-chan time.Time) startWait {
	self := &Process{p}
	m := self.Monitor(Pid{child})
	var kill <-chan time.Time
	switch pol {
	case BrutalKill:
		self.SendExit(Pid{child}, Killed)
	case Infinity:
		self.SendExit(Pid{child}, Shutdown)
	default:
		self.SendExit(Pid{child}, Shutdown)
		t := p.clock.NewTimer(time.Duration(pol))
		defer t.Stop()
		kill = t.C()
	}
	for {
		p.mu.Lock()
		p.yield = false
		if p.dead {
			p.mu.Unlock()
			child.exit(Killed)
			break
		}
		if p.downQueuedLocked(m.m) {
			p.mu.Unlock()
			break
		}
		if w.queriesLocked() {
			p.mu.Unlock()
			w.poll()
			continue
		}
		wake := p.parking()
		select {
		case <-ack:
			// Its init returned; its exit is what is waited for.
			p.unpark()
			ack = nil
		case <-kill:
			p.unpark()
			kill, expired = nil, nil
			self.SendExit(Pid{child}, Killed)
		case <-expired:
			p.unpark()
			kill, expired = nil, nil
			self.SendExit(Pid{child}, Killed)
		case <-wake:
		}
	}
	p.demonitor(m.m)
	reason := Pid{child}.Reason()
	self.Unlink(Pid{child})
	if r, ok := p.flushExits(child); ok {
		reason = r
	}
	w.stopped(Pid{child}, reason)
	return startStopped
}

// downQueuedLocked reports whether the Down of m is queued. p.mu held.
func (p *proc) downQueuedLocked(m *monitor) bool {
	if p.x == nil {
		return false
	}
	for _, e := range p.x.downs {
		if e.d.Monitor.m == m {
			return true
		}
	}
	return false
}

// setStartWatcher makes w watch p's waits for its children's starts.
func (p *proc) setStartWatcher(w startWatcher) {
	p.mu.Lock()
	if !p.dead {
		p.ext().watch = w
	}
	p.mu.Unlock()
}

// startStop is why a supervisor stops during a child's start: the reason
// it will exit with, and the cause and trigger of the terminations.
type startStop struct {
	reason  error
	cause   Cause
	trigger string
}

// starting, queriesLocked, stopLocked, poll and stopped make the
// supervisor its own process's startWatcher.

func (st *sup) starting(child Pid) { st.pending = child }

func (st *sup) queriesLocked() bool {
	q := st.h.query.s
	q.settleLocked()
	return q.has()
}

func (st *sup) stopLocked() bool {
	if st.halt != nil || st.h.stopAsked.Load() {
		return true
	}
	_, ok := st.parentExitLocked()
	return ok
}

// parentExitLocked returns the reason of a queued exit signal from the
// parent. p.mu held.
func (st *sup) parentExitLocked() (error, bool) {
	x := st.self.p.x
	if st.parent == nil || x == nil {
		return nil, false
	}
	for _, e := range x.exits {
		if e.m.From.p == st.parent {
			return e.m.Reason, true
		}
	}
	return nil, false
}

func (st *sup) poll() (bool, ShutdownPolicy) {
	for {
		r, err := Receive(st.self, st.h.query, 0)
		if err != nil {
			break
		}
		st.answer(r)
	}
	if st.halt == nil {
		if st.h.stopAsked.Load() {
			st.halt = &startStop{Shutdown, CauseShutdown, ""}
		} else {
			st.self.p.mu.Lock()
			reason, ok := st.parentExitLocked()
			st.self.p.mu.Unlock()
			if ok {
				cause, trigger := st.parentCause()
				st.halt = &startStop{reason, cause, trigger}
			}
		}
	}
	if st.halt == nil {
		return false, 0
	}
	st.h.setActivity(st.halt.cause, st.halt.trigger)
	if st.startingChild == nil {
		return true, DefaultWorkerShutdown
	}
	return true, st.startingChild.spec.shutdown()
}

func (st *sup) stopped(child Pid, reason error) {
	st.stoppedPid, st.stoppedReason = child, reason
}

// parentCause is the cause and trigger of the terminations an exit signal
// from the parent makes (see handleExit).
func (st *sup) parentCause() (Cause, string) {
	ps := st.parentSup
	if ps == nil {
		return CauseShutdown, ""
	}
	if (Pid{st.parent}).Alive() {
		// It is terminating us: say why it is.
		return inheritedCause(ps.activity())
	}
	// It died (killed): we go with it.
	return CauseEscalation, ps.path
}
