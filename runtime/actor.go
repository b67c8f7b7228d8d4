package runtime

import (
	"fmt"
	goruntime "runtime"
	"sync"
	"time"
)

// DefaultInitTimeout is the init timeout of an actor whose Spec sets none.
const DefaultInitTimeout = 5 * time.Second

// Spec describes an actor (a GenServer): how it initialises and how it
// handles each message. S is its state, M the type of its messages.
//
// An actor does not hold a goroutine while its mailbox is empty: it is
// scheduled onto one when a message arrives and drains what is queued. Links,
// monitors, trapped exits, Call and exit signals work as for any process.
// A send that wakes an idle actor while many other woken actors still wait
// for a processor yields the sender's processor to them (runtime.Gosched)
// before it returns; it does not wait for them.
type Spec[S, M any] struct {
	// Init runs in the new actor before Start returns and gives its initial
	// state; an error fails the start (and the actor exits with it). It gets
	// the actor's own subject and its selector, which already selects that
	// subject: Init may add sources to it (subjects it makes, Down messages,
	// trapped exits mapped to M). Nil Init starts with the zero state.
	Init func(p *Process, self Subject[M], sel *Selector[M]) (S, error)
	// InitTimeout bounds Init (zero: DefaultInitTimeout; Forever: no
	// limit). When it passes the actor is killed and the start fails.
	InitTimeout time.Duration
	// Loop handles one message and says what next: Continue(state) or
	// Stop(reason). A panic in Loop ends the actor with a *PanicError.
	Loop func(p *Process, msg M, state S) Next[S]
}

// Next is what an actor's Loop returns: Continue or Stop.
type Next[S any] struct {
	state  S
	stop   bool
	reason error
}

// Continue keeps the actor running with state.
func Continue[S any](state S) Next[S] { return Next[S]{state: state} }

// Stop ends the actor with reason (nil means Normal).
func Stop[S any](reason error) Next[S] {
	if reason == nil {
		reason = Normal
	}
	return Next[S]{stop: true, reason: reason}
}

// InitError is returned by Start when the actor's init fails, panics, times
// out or the actor is killed before it is ready.
type InitError struct {
	Pid    Pid   // the actor that failed to start (dead by the time Start returns)
	Reason error // the init's error, a *PanicError, ErrTimeout or an exit reason
}

// Error says which actor failed to start and why.
func (e *InitError) Error() string {
	return fmt.Sprintf("actor %v failed to start: %v", e.Pid, e.Reason)
}

// Unwrap returns the reason.
func (e *InitError) Unwrap() error { return e.Reason }

// Start starts an actor, unlinked, and returns its subject once Init has
// returned.
func Start[S, M any](spec Spec[S, M], opts ...Option) (Subject[M], error) {
	return startActor(nil, newActor(nil, opts, spec), spec)
}

// StartLink starts an actor linked to parent (the link exists before Init
// runs) and returns its subject once Init has returned. When the start fails
// the child is unlinked first, so parent gets no exit signal for it: the
// error says it all. The actor inherits parent's clock.
func StartLink[S, M any](parent *Process, spec Spec[S, M], opts ...Option) (Subject[M], error) {
	a := newActor(parent.p.clock, opts, spec)
	p := &a.pr
	if !linkNew(parent.p, p) {
		p.dead, p.reason = true, NoProc // never started
		parent.unwindIfDead()
		return Subject[M]{}, &InitError{Pid{p}, NoProc}
	}
	return startActor(parent, a, spec)
}

func identity[M any](m M) M { return m }

// actor is an actor: its process and what it needs to receive, in one
// allocation.
type actor[S, M any] struct {
	pr    proc
	proc  Process // &pr, for Init and Loop
	self  subject[M]
	slot  [1]entry[M] // the first slot of self's ring
	sel   Selector[M]
	src   subjectSource[M, M] // self, the selector's first source
	srcs  [1]source[M]
	loop  func(*Process, M, S) Next[S]
	state S
	// err is why Init failed, set before the ack.
	err error
}

func newActor[S, M any](clock Clock, opts []Option, spec Spec[S, M]) *actor[S, M] {
	a := &actor[S, M]{loop: spec.Loop}
	p := &a.pr
	initProc(p, clock, opts)
	a.proc.p = p
	a.self.owner, a.self.buf = p, a.slot[:]
	a.src = subjectSource[M, M]{s: &a.self, f: identity[M]}
	a.srcs[0] = &a.src
	a.sel.sources = a.srcs[:]
	return a
}

// startTimers are the real-clock timers of the init timeouts of Start,
// whose caller has no process (and so no timer) of its own. Stop and Reset
// are exact since Go 1.23: a timer put back after Stop delivers nothing
// stale.
var startTimers = sync.Pool{New: func() any {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}}

func startActor[S, M any](parent *Process, a *actor[S, M], spec Spec[S, M]) (Subject[M], error) {
	p := &a.pr
	self := Subject[M]{&a.self}
	// The ack carries nothing (a.err says how Init went), so that the
	// channel is one allocation.
	ack := make(chan struct{}, 1)
	p.startGoroutine()
	// The go statement allocates its closure: inherent.
	go func() {
		if err := a.initialise(parent, spec.Init, self, ack); err != nil {
			a.fail(parent, err, ack)
			return
		}
		ack <- struct{}{}
		a.run()
	}()

	timeout := spec.InitTimeout
	if timeout == 0 {
		timeout = DefaultInitTimeout
	}
	var expired <-chan time.Time
	if timeout > 0 {
		var t Timer
		switch {
		case parent != nil && parent.p.clock == p.clock:
			parent.p.mu.Lock()
			t = parent.p.timerLocked(timeout) // this is the parent's goroutine
			parent.p.mu.Unlock()
		case p.clock == RealClock:
			rt := startTimers.Get().(*time.Timer)
			rt.Reset(timeout)
			defer startTimers.Put(rt)
			t = realTimer{rt}
		default:
			t = p.clock.NewTimer(timeout)
		}
		defer t.Stop()
		expired = t.C()
	}
	var w startWait
	if parent != nil {
		// A supervisor's wait answers its snapshots, and stops the child
		// if the supervisor is asked to stop (see supervisor_start.go).
		w = parent.p.awaitStart(p, ack, expired)
	} else {
		w = plainStartWait(ack, expired)
	}
	switch w {
	case startAcked:
		if err := a.err; err != nil {
			if reason := (Pid{p}).Reason(); reason != nil && err == Killed {
				err = reason
			}
			return Subject[M]{}, &InitError{Pid{p}, err}
		}
		return self, nil
	case startStopped:
		return Subject[M]{}, &InitError{Pid{p}, fmt.Errorf("stopped while it started: %w", (Pid{p}).Reason())}
	default:
		if parent != nil {
			parent.Unlink(Pid{p})
		}
		p.exit(Killed)
		return Subject[M]{}, &InitError{Pid{p}, fmt.Errorf("init did not return within %v: %w", timeout, ErrTimeout)}
	}
}

// idleYields is how many times an actor's drain goroutine yields the
// processor (and looks again) before it leaves an empty mailbox and ends.
// A reply to what the actor just sent usually arrives within one yield:
// the goroutine then carries on instead of ending and being started again
// (a goroutine's creation and exit cost more than the round trip itself).
// Measured on W2 (2 cores): ping-pong 600–690 ns with 0 yields, 370–420
// with 1 or 2; a pool of parked runner goroutines instead gave 680–730 ns
// and idle goroutines that outlive every actor.
const idleYields = 1

// initialise runs init in the new actor's goroutine and makes the actor
// ready for messages. It returns why the actor failed to get ready, for
// the caller to fail it: after a panic, outside the panic's frames (see run).
func (a *actor[S, M]) initialise(parent *Process, init func(*Process, Subject[M], *Selector[M]) (S, error), self Subject[M], ack chan<- struct{}) (err error) {
	p := &a.pr
	returned := false
	defer func() {
		if r := recover(); r != nil {
			err = newPanicError(r)
		} else if !returned {
			// A runtime.Goexit (the actor found dead at a runtime
			// call): it does not return to the caller.
			a.fail(parent, Killed, ack)
		}
	}()
	if init != nil {
		st, err := init(&a.proc, self, &a.sel)
		if err == nil && !a.sel.ownedBy(p) {
			err = fmt.Errorf("init added another process's subject to the selector: %w", ErrNotOwner)
		}
		if err != nil {
			returned = true
			return err
		}
		a.state = st
	}
	returned = true
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dead {
		return Killed // Start reports the exit reason
	}
	p.actor = a
	p.sched = true // this goroutine drains what came during init
	return nil
}

// fail ends the actor that did not get ready, unlinked from parent first
// so that the error says it all, and dead before Start returns.
func (a *actor[S, M]) fail(parent *Process, reason error, ack chan<- struct{}) {
	if parent != nil {
		a.proc.Unlink(Pid{parent.p})
	}
	a.pr.goroutineDone(reason)
	a.err = reason
	ack <- struct{}{}
}

// run drains the actor's mailbox on the current goroutine and returns when it
// is empty (the actor is then idle and holds no goroutine) or the actor has
// ended.
func (a *actor[S, M]) run() {
	if reason, ended := a.drain(); ended {
		// Here, after a panic, the panic's frames are gone: announcing
		// the exit (links, monitors, the supervisor's restart) does not
		// grow a stack the panic has deepened.
		a.pr.goroutineDone(reason)
	}
}

// drain handles the queued messages until the mailbox is empty (ended is
// false: the actor is idle) or the actor ends with reason.
func (a *actor[S, M]) drain() (reason error, ended bool) {
	p := &a.pr
	returned := false
	defer func() {
		if r := recover(); r != nil {
			reason, ended = newPanicError(r), true
		} else if !returned {
			// A runtime.Goexit: the actor was found dead at a
			// runtime call (or Loop called Goexit). It does not return.
			p.goroutineDone(Killed)
		}
	}()
	// No yield before the first message: an actor that has just
	// initialised, or was woken for nothing, expects no reply.
	yields := idleYields
	for {
		// While the selector has only the actor's own subject, the
		// subject's front is read without the lock (see subject.front).
		single := len(a.sel.sources) == 1
		if single && a.self.frontLen() > 0 && !p.gone.Load() {
			yields = 0
			if reason, stop := a.handle(a.self.popFront()); stop {
				returned = true
				return reason, true
			}
			continue
		}
		p.mu.Lock()
		p.yield = false
		if p.dead {
			p.mu.Unlock()
			returned = true
			return Killed, true
		}
		a.self.settleLocked()
		src := a.sel.takeLocked(p)
		if src != nil && single {
			a.self.reserveLocked()
		}
		if src == nil {
			if yields < idleYields {
				yields++
				p.yield = true
				p.mu.Unlock()
				goruntime.Gosched()
				continue
			}
			p.sched, p.hasG = false, false
			p.mu.Unlock()
			returned = true
			return nil, false
		}
		yields = 0
		p.mu.Unlock()
		if reason, stop := a.handle(src.result()); stop {
			returned = true
			return reason, true
		}
	}
}

// handle runs Loop on msg; it reports whether the actor stops, and why.
func (a *actor[S, M]) handle(msg M) (reason error, stop bool) {
	next := a.loop(&a.proc, msg, a.state)
	if next.stop {
		return next.reason, true
	}
	a.state = next.state
	return nil, false
}

// callState is what one Call allocates.
type callState[Rep any] struct {
	reply subject[Rep]
	slot  [1]entry[Rep]
	mon   monitor
}

// Call sends the request that makeRequest builds around a fresh reply subject
// to s, and waits up to timeout for the reply. It returns ErrTimeout when the
// time passes and a *CallError when the callee exits (or was dead) first. A
// reply that comes after the timeout is dropped: it never reaches p's mailbox.
func Call[Req, Rep any](p *Process, s Subject[Req], makeRequest func(reply Subject[Rep]) Req, timeout time.Duration) (Rep, error) {
	var zero Rep
	pr := p.p
	// One allocation per call, as the floor's fresh reply channel: the
	// reply subject, the slot of its one reply and the inline monitor.
	// The subject must be fresh: a late reply to an earlier call is
	// dropped because that call's subject is closed.
	c := &callState[Rep]{}
	reply := &c.reply
	reply.owner, reply.buf = pr, c.slot[:]
	var target *proc
	if s.s != nil {
		target = s.s.owner
	}
	m := &c.mon
	pr.monitorInto(m, target, true)
	if s.s != nil {
		s.Send(makeRequest(Subject[Rep]{reply}))
	}
	var t Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	yielded := false
	var start time.Time
	for {
		pr.mu.Lock()
		pr.yield = false
		switch {
		case pr.dead:
			reply.closed = true
			return zero, pr.unwindLocked()
		case reply.n > 0:
			v := reply.pop()
			pr.queued--
			reply.closed = true
			pr.mu.Unlock()
			pr.demonitor(m)
			return v, nil
		case m.fired:
			reply.closed = true
			pr.mu.Unlock()
			return zero, &CallError{Pid{target}, m.reason}
		case timeout == 0:
			reply.closed = true
			pr.mu.Unlock()
			pr.demonitor(m)
			return zero, ErrTimeout
		}
		if !yielded {
			// The callee is usually runnable now, on this processor's
			// queue: yield to it once before arming a timer and
			// parking; the reply is often in when this goroutine runs
			// again. The yield's time counts against the timeout.
			yielded = true
			if timeout > 0 {
				start = pr.clock.Now()
			}
			pr.yield = true
			pr.mu.Unlock()
			goruntime.Gosched()
			continue
		}
		if t == nil && timeout > 0 {
			if timeout -= pr.clock.Now().Sub(start); timeout <= 0 {
				timeout = 0
				pr.mu.Unlock()
				continue
			}
			t = pr.timerLocked(timeout)
		}
		if pr.park(t) {
			timeout, t = 0, nil
		}
	}
}
