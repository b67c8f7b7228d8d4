package runtime

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// The supervisor's goroutine: its state (sup, OTP's #state{}), its start,
// its receive loop, what it does when a child exits (restart by strategy,
// against the intensity of intensity.go), and the operations its API
// (supervisor.go) requests, as OTP's handle_call clauses.

// child is a supervisor's record of one child (OTP's #child{}).
type child struct {
	spec        ChildSpec
	path        string
	pid         Pid // zero: not running (OTP's undefined, or {restarting, _})
	state       ChildState
	everStarted bool
	restarts    int
	lastRestart time.Time
	started     time.Time
	// Backoff (backoff.go): the consecutive restarts counted for the
	// delay; and, while a delayed restart is pending, its timer, when it
	// is due, its trigger, and the sequence number its message carries.
	streak      int
	timer       Timer
	due         time.Time
	waitTrigger string
	waitSeq     uint64
	// crashRestarts counts the restarts the intensity counts (cause
	// crash, sibling or escalation); lastExit and lastExitAt are the
	// reason and time of its process's latest end (an exit or a
	// termination). Counters and one interface value: a restart
	// allocates nothing for them.
	crashRestarts int
	lastExit      error
	lastExitAt    time.Time
}

// ended records that c's process ended with reason, now.
func (st *sup) ended(c *child, reason error) {
	c.lastExit, c.lastExitAt = reason, st.self.p.clock.Now()
}

// sup is a supervisor's state, owned by its goroutine (OTP's #state{}).
type sup struct {
	self      *Process
	h         *Supervisor
	path      string
	flags     Flags
	events    func(Event)
	parent    *proc
	parentSup *Supervisor // the parent's handle, when the parent is a supervisor
	children  []*child    // start order
	byID      map[string]*child
	byPid     map[*proc]*child
	restarts  restartRing
	dyn       *DynamicSpec
	dynSeq    int
	retry     Subject[retryMsg]
	scratch   []*child         // the children a restart touches, reused
	downSel   Selector[Down]   // awaitDown's, reused
	downSrc   downSource[Down] // its one source
	rand      func() float64   // jitter's numbers (SupervisorSpec.Rand)
	stop      bool
	exited    bool // it ended by itself (exit), not by a kill that unwound it
	// A child's start (see supervisor_start.go): the child being started,
	// its process once known, why the supervisor stops meanwhile, and the
	// process stopped during its start with its reason.
	startingChild *child
	pending       Pid
	halt          *startStop
	stoppedPid    Pid
	stoppedReason error
}

// retryMsg is OTP's try_again_restart: a failed restart of c, sent to the
// supervisor itself so that what is already queued (a shutdown, an operator
// request) comes first.
//
// A delayed restart (backoff.go) is the same message, sent by a timer:
// delayed is set and seq is the child's waitSeq when it was armed.
type retryMsg struct {
	c       *child
	cause   Cause // the cause of c's failed start
	trigger string
	seq     uint64
	delayed bool
}

// supMsg is whatever the supervisor's loop receives. It is a struct, not an
// interface, so that receiving a child's exit allocates nothing.
type supMsg struct {
	req   supRequest
	retry retryMsg
	exit  ExitMessage
	kind  uint8
}

const (
	msgRequest uint8 = iota
	msgRetry
	msgExit
)

// StartSupervisor starts a supervisor linked to parent (nil: unlinked, for
// a root) and returns once every child has started, in order, each start
// complete before the next (OTP's start_link and init).
//
// It fails, starting nothing, with an error wrapping ErrInvalidSpec when
// the spec is one OTP would reject: bad flags, a child without ID or Start,
// a duplicate ID, significant on a permanent child or under AutoShutdown
// Never. If a child fails to start, the ones already started are terminated
// in reverse order (terminated events with cause shutdown and the failed
// child as trigger), the supervisor exits, and the error is a *StartError
// naming the child and its reason; parent gets no exit signal for it.
//
// The supervisor inherits parent's clock unless WithClock says otherwise,
// and its children inherit its clock. It runs until Shutdown, until
// its parent exits or stops it, until it gives up (MaxFrequency) or shuts
// itself down (AutoShutdown), or until it is killed.
//
// If parent is a supervisor that is asked to stop (or whose parent stops
// it) while this one starts its children, this one stops the child it is
// starting and the started ones in reverse order, and StartSupervisor
// returns a *StartError with the reason (see supervisor_start.go).
func StartSupervisor(parent *Process, spec SupervisorSpec, opts ...Option) (*Supervisor, error) {
	h, err := spawnSupervisor(parent, spec, opts)
	if err != nil {
		return nil, err
	}
	if parent == nil {
		<-h.started
	} else if parent.p.awaitStart(h.pid.p, h.started, nil) == startStopped {
		<-h.done
		if err := h.StartErr(); err != nil {
			return nil, err
		}
		return nil, &StartError{Path: spec.Path, Reason: h.Reason()}
	}
	if h.startErr != nil {
		<-h.done
		return nil, h.startErr
	}
	return h, nil
}

// SpawnSupervisor starts a root supervisor (linked to no process) as
// StartSupervisor does, but returns as soon as its process runs, while it
// starts its children: it can be snapshotted meanwhile (the child being
// started is StateStarting) and stopped (Shutdown stops the child being
// started, as any child, then the started ones in reverse order). Started
// is closed when the start is over; StartErr then says how it went. Only
// an invalid spec makes SpawnSupervisor itself fail.
func SpawnSupervisor(spec SupervisorSpec, opts ...Option) (*Supervisor, error) {
	return spawnSupervisor(nil, spec, opts)
}

func spawnSupervisor(parent *Process, spec SupervisorSpec, opts []Option) (*Supervisor, error) {
	if err := checkSpec(&spec); err != nil {
		return nil, err
	}
	if spec.Dynamic != nil {
		d := *spec.Dynamic
		spec.Dynamic = &d
	}
	var clock Clock
	cause, trigger := CauseBoot, ""
	var parentSup *Supervisor
	if parent != nil {
		clock = parent.p.clock
		if ps, ok := SupervisorOf(parent.Self()); ok {
			parentSup = ps
			cause, trigger = inheritedCause(ps.activity())
		}
	}
	p := newProc(clock, opts)
	p.trap = true
	if parent != nil && !linkNew(parent.p, p) {
		return nil, fmt.Errorf("supervisor %s: %w", spec.Path, NoProc)
	}
	h := &Supervisor{pid: Pid{p}, done: make(chan struct{}), started: make(chan struct{}), path: spec.Path,
		parentReported: make(chan struct{})}
	h.ctl = Subject[supRequest]{&subject[supRequest]{owner: p}}
	h.query = Subject[supRequest]{&subject[supRequest]{owner: p}}
	supervisors.Store(p, h)
	acked := false
	ack := func(err error) {
		acked = true
		h.startErr = err
		close(h.started)
	}
	p.spawnGoroutine(func(self *Process) {
		var st *sup
		defer func() {
			if !acked {
				ack(Killed)
			}
			h.mu.Lock()
			h.reason = (Pid{p}).Reason()
			if h.reason == nil { // still alive: the deferred goroutineDone will end it
				h.reason = Killed
			}
			reason := h.reason
			h.mu.Unlock()
			if st != nil && !st.exited {
				st.awaitParentReport()
				st.reportOrphans(reason)
			}
			supervisors.Delete(p)
			close(h.done)
		}()
		st = &sup{
			self: self, h: h, path: spec.Path, flags: spec.Flags, events: spec.Events,
			byID: make(map[string]*child, len(spec.Children)), byPid: make(map[*proc]*child, len(spec.Children)),
			dyn: spec.Dynamic, retry: NewSubject[retryMsg](self), parentSup: parentSup, rand: spec.Rand,
		}
		if parent != nil {
			st.parent = parent.p
		}
		st.restarts.resize(spec.MaxFrequency + 1)
		self.p.setStartWatcher(st)
		h.setActivity(cause, trigger)
		for _, cs := range spec.Children {
			c := st.add(len(st.children), cs)
			if _, err := st.start(c, cause, trigger); err != nil {
				st.remove(c)
				if parent != nil {
					self.Unlink(parent.Self())
				}
				if hs := st.halt; hs != nil {
					// Stopped while it started c (reported
					// terminated): stop the started ones, as the
					// stop would have once the start was done.
					st.terminateAll(hs.cause, hs.trigger)
					ack(&StartError{Path: st.path, Reason: fmt.Errorf("stopped while %s was starting: %w", c.path, hs.reason)})
					st.exit(hs.reason)
					return
				}
				// OTP's init_children: stop the started ones in
				// reverse, and fail.
				st.terminateAll(CauseShutdown, c.path)
				serr := &StartError{Path: c.path, Reason: err}
				ack(serr)
				st.exit(serr)
				return
			}
		}
		ack(nil)
		st.exit(st.loop())
	})
	return h, nil
}

// inheritedCause maps what a parent supervisor is doing to the cause of a
// nested supervisor's own starts and terminations.
func inheritedCause(c Cause, trigger string) (Cause, string) {
	switch c {
	case CauseCrash, CauseSibling:
		return CauseEscalation, trigger
	}
	return c, trigger
}

func (st *sup) exit(reason error) {
	st.cancelWaits()
	st.exited = true
	h := st.h
	h.mu.Lock()
	h.reason = reason
	h.mu.Unlock()
	st.self.p.goroutineDone(reason)
}

// loop is the supervisor's receive loop (OTP's gen_server loop with
// handle_call, handle_cast(try_again_restart) and handle_info('EXIT')). It
// returns the reason to exit with.
func (st *sup) loop() error {
	sel := NewSelector[supMsg]()
	Selecting(sel, st.h.ctl, func(r supRequest) supMsg { return supMsg{req: r, kind: msgRequest} })
	Selecting(sel, st.h.query, func(r supRequest) supMsg { return supMsg{req: r, kind: msgRequest} })
	Selecting(sel, st.retry, func(r retryMsg) supMsg { return supMsg{retry: r, kind: msgRetry} })
	sel.SelectingTrappedExits(func(m ExitMessage) supMsg { return supMsg{exit: m, kind: msgExit} })
	for {
		msg, err := sel.Select(st.self, Forever)
		if err != nil {
			return err
		}
		switch msg.kind {
		case msgRequest:
			st.answer(msg.req)
			if st.stop {
				st.terminateAll(CauseShutdown, "")
				return Shutdown
			}
		case msgRetry:
			m := msg.retry
			if m.delayed {
				// A backoff's timer: start the group, unless the
				// wait was cancelled or skipped meanwhile.
				if c := st.byID[m.c.spec.ID]; c == m.c && c.state == StateRestarting && c.waitSeq == m.seq {
					c.timer, c.due = nil, time.Time{}
					st.startScope(c, m.cause, m.trigger)
				}
				break
			}
			// Only if it is still waiting for that retry: an operator
			// may have terminated or removed it, or a sibling's restart
			// restarted it, meanwhile.
			if c := st.byID[m.c.spec.ID]; c == m.c && c.state == StateRestarting {
				if reason := st.restart(c, m.cause, m.trigger); reason != nil {
					return reason
				}
			}
		case msgExit:
			if reason := st.handleExit(msg.exit); reason != nil {
				return reason
			}
		}
		if hs := st.halt; hs != nil {
			// Asked to stop during a child's start (that child is
			// stopped): stop as that request would have.
			st.terminateAll(hs.cause, hs.trigger)
			return hs.reason
		}
	}
}

// handleExit handles a trapped exit signal: from the parent, it stops the
// supervisor (children first) and exits with the parent's reason; from a
// child, it applies OTP's do_restart; from anyone else it is ignored, as in
// OTP.
func (st *sup) handleExit(m ExitMessage) error {
	if st.parent != nil && m.From.p == st.parent {
		cause, trigger := st.parentCause()
		// A parent that is gone (killed) takes us with it: say so.
		orphan := st.parentSup != nil && !m.From.Alive()
		st.terminateAll(cause, trigger)
		if orphan {
			st.reportSelf(m.Reason, trigger)
		}
		return m.Reason
	}
	c := st.byPid[m.From.p]
	if c == nil {
		return nil
	}
	delete(st.byPid, m.From.p)
	c.pid, c.state = Pid{}, StateStopped
	st.noteExit(c, st.self.p.clock.Now())
	st.ended(c, m.Reason)
	st.emit(Event{Type: EventExited, Path: c.path, Kind: c.spec.Kind, Pid: m.From, Reason: m.Reason})
	st.reported(c, m.From)
	if c.spec.Restart == Permanent || (c.spec.Restart == Transient && IsAbnormal(m.Reason)) {
		return st.restart(c, CauseCrash, c.path)
	}
	st.delChild(c)
	return st.autoShutdown(c)
}

// delChild forgets a child that exited and is not restarted (OTP's
// del_child): a temporary or dynamic child is removed; any other keeps its
// spec, not running.
func (st *sup) delChild(c *child) {
	c.state = StateStopped
	if c.spec.Restart == Temporary || st.dyn != nil {
		st.remove(c)
	}
}

// autoShutdown is OTP's do_auto_shutdown, for a child that exited by itself
// and is not restarted.
func (st *sup) autoShutdown(c *child) error {
	if st.flags.AutoShutdown == Never || !c.spec.Significant {
		return nil
	}
	if st.flags.AutoShutdown == AllSignificant {
		for _, o := range st.children {
			// OTP counts a child being restarted as having a process.
			if o.spec.Significant && (!o.pid.IsZero() || o.state == StateRestarting) {
				return nil
			}
		}
	}
	st.terminateAll(CauseShutdown, c.path)
	return Shutdown
}

// restart is OTP's restart/2: count the restart against the intensity, then
// restart by strategy. c is the child that exited (or whose restart failed);
// cause is the cause of its own start. A start that fails marks that child
// restarting and tries again through the mailbox, so that other requests (a
// shutdown) can come in between (OTP's try_again_restart); the children
// after it in the scope stay stopped until then. It returns the reason to
// exit with when the supervisor gives up.
func (st *sup) restart(c *child, cause Cause, trigger string) error {
	now := st.self.p.clock.Now()
	if !st.restarts.add(now, st.flags.period(), st.flags.MaxFrequency) {
		st.emit(Event{Type: EventGiveUp, Path: st.path, Kind: st.flags.Strategy.String(), Reason: ReachedMaxRestartIntensity, Trigger: trigger})
		st.delChild(c)
		st.terminateAll(CauseEscalation, trigger)
		return Shutdown
	}
	scope := st.scope(c)
	for i := len(scope) - 1; i >= 0; i-- {
		if o := scope[i]; o != c {
			st.terminate(o, CauseSibling, trigger)
			if o.spec.Restart == Temporary {
				st.remove(o)
			}
		}
	}
	clear(scope)
	if d := st.delayOf(c); d > 0 {
		st.wait(c, d, cause, trigger)
		return nil
	}
	st.startScope(c, cause, trigger)
	return nil
}

// scope returns the children a restart of c touches, in start order: c
// alone (one_for_one, dynamic), every child (one_for_all), or c and those
// after it (rest_for_one). It reuses st.scratch.
func (st *sup) scope(c *child) []*child {
	s := st.scratch[:0]
	switch {
	case st.dyn != nil || st.flags.Strategy == OneForOne:
		s = append(s, c)
	case st.flags.Strategy == OneForAll:
		s = append(s, st.children...)
	default:
		s = append(s, st.children[slices.Index(st.children, c):]...)
	}
	st.scratch = s
	return s
}

// add records a child at position pos.
func (st *sup) add(pos int, spec ChildSpec) *child {
	c := &child{spec: spec, path: st.path + "/" + spec.ID, state: StateStopped}
	pos = min(max(pos, 0), len(st.children))
	st.children = slices.Insert(st.children, pos, c)
	st.byID[spec.ID] = c
	return c
}

func (st *sup) remove(c *child) {
	if i := slices.Index(st.children, c); i >= 0 {
		st.children = slices.Delete(st.children, i, i+1)
	}
	delete(st.byID, c.spec.ID)
	st.cancelWait(c)
	if !c.pid.IsZero() {
		delete(st.byPid, c.pid.p)
	}
}

// start starts a child and reports started or start_failed. A start that
// returns Ignore leaves it stopped (and removes it when it is temporary or
// dynamic, as OTP) and returns the zero Pid and no error.
//
// While it runs, c is StateStarting; if the supervisor is asked to stop
// meanwhile, the child is stopped (see supervisor_start.go), reported
// terminated, and the start fails with st.halt set.
func (st *sup) start(c *child, cause Cause, trigger string) (Pid, error) {
	st.h.setActivity(cause, trigger)
	st.h.setInStart(true)
	st.startingChild, c.state = c, StateStarting
	var began time.Time // read only for the events' StartedIn: no cost without a hook
	if st.events != nil {
		began = st.self.p.clock.Now()
	}
	pid, err := callStart(c.spec.Start, st.self)
	st.h.setInStart(false)
	st.startingChild, st.pending = nil, Pid{}
	c.state = StateStopped
	now := st.self.p.clock.Now()
	if sp := st.stoppedPid; !sp.IsZero() {
		st.stoppedPid = Pid{}
		st.emit(Event{Type: EventTerminated, Path: c.path, Kind: c.spec.Kind, Pid: sp, Reason: st.stoppedReason, Cause: st.halt.cause, Trigger: st.halt.trigger, NotStopped: sp.p.isStray()})
		st.reported(c, sp)
		st.stoppedReason = nil
		if err != nil {
			return Pid{}, err
		}
		// The start function returned a process all the same: it is a
		// child, stopped with the others.
	}
	if err != nil {
		if errors.Is(err, Ignore) {
			c.pid, c.state = Pid{}, StateStopped
			if c.spec.Restart == Temporary || st.dyn != nil {
				st.remove(c)
			}
			return Pid{}, nil
		}
		st.emit(Event{Type: EventStartFailed, Path: c.path, Kind: c.spec.Kind, Reason: err, Cause: cause, Trigger: trigger})
		return Pid{}, err
	}
	restart := c.everStarted
	if restart {
		c.restarts++
		c.lastRestart = now
		if cause.counted() {
			c.crashRestarts++
		}
	}
	c.everStarted = true
	st.cancelWait(c)
	c.pid, c.state, c.started = pid, StateRunning, now
	st.byPid[pid.p] = c
	noteKind(c)
	if st.events != nil {
		st.emit(Event{Type: EventStarted, Path: c.path, Kind: c.spec.Kind, Pid: pid, Cause: cause, Trigger: trigger,
			Restart: restart, StartedIn: now.Sub(began)})
	}
	return pid, nil
}

// pidOf is c's process, or the process being started for it.
func (st *sup) pidOf(c *child) Pid {
	if c == st.startingChild {
		return st.pending
	}
	return c.pid
}

// startFailing starts a child whose failure leaves it in place, failed.
func (st *sup) startFailing(c *child, cause Cause, trigger string) (Pid, error) {
	pid, err := st.start(c, cause, trigger)
	if err != nil {
		c.state = StateFailed
		return Pid{}, &StartError{Path: c.path, Reason: err}
	}
	return pid, nil
}

var (
	errNoStart = errors.New("no start function")
	errNoPid   = errors.New("start function returned no process")
)

func callStart(start func(*Process) (Pid, error), parent *Process) (pid Pid, err error) {
	if start == nil {
		return Pid{}, errNoStart
	}
	defer func() {
		if r := recover(); r != nil {
			err = newPanicError(r)
		}
	}()
	pid, err = start(parent)
	if err == nil && pid.IsZero() {
		err = errNoPid
	}
	return pid, err
}

// terminate stops a running child as OTP's shutdown/1 does: monitor it, ask
// it to stop (or kill it at once for brutal_kill), wait for its Down up to
// the shutdown time, then kill it; then unlink it and drop its queued exit
// signal (OTP's unlink_flush), whose reason, if any, is the one reported.
func (st *sup) terminate(c *child, cause Cause, trigger string) {
	if c.pid.IsZero() {
		return
	}
	pid := c.pid
	st.h.setActivity(cause, trigger)
	m := st.self.Monitor(pid)
	var d Down
	switch pol := c.spec.shutdown(); pol {
	case BrutalKill:
		st.self.SendExit(pid, Killed)
		d, _ = st.awaitDown(m, Forever)
	default:
		st.self.SendExit(pid, Shutdown)
		var err error
		d, err = st.awaitDown(m, time.Duration(pol))
		if err != nil {
			st.self.SendExit(pid, Killed)
			d, _ = st.awaitDown(m, Forever)
		}
	}
	reason := d.Reason
	st.self.Unlink(pid)
	if r, ok := st.self.p.flushExits(pid.p); ok {
		reason = r
	}
	delete(st.byPid, pid.p)
	c.pid, c.state = Pid{}, StateStopped
	st.ended(c, reason)
	st.emit(Event{Type: EventTerminated, Path: c.path, Kind: c.spec.Kind, Pid: pid, Reason: reason, Cause: cause, Trigger: trigger, NotStopped: pid.p.isStray()})
	st.reported(c, pid)
}

// awaitDown waits up to timeout for the Down of m, with a selector the
// supervisor keeps for this, so that stopping a child does not allocate one.
func (st *sup) awaitDown(m Monitor, timeout time.Duration) (Down, error) {
	if st.downSel.sources == nil {
		st.downSrc.f = identity[Down]
		st.downSel.sources = []source[Down]{&st.downSrc}
	}
	st.downSrc.m = m.m
	return st.downSel.Select(st.self, timeout)
}

// terminateAll stops every child in reverse start order, removing the
// temporary ones (OTP's terminate_children); a dynamic supervisor's
// children are asked to stop all at once.
func (st *sup) terminateAll(cause Cause, trigger string) {
	st.cancelWaits()
	if st.dyn != nil {
		st.terminateDynamic(cause, trigger)
		return
	}
	for i := len(st.children) - 1; i >= 0; i-- {
		c := st.children[i]
		st.terminate(c, cause, trigger)
		if c.spec.Restart == Temporary {
			st.remove(c)
		}
	}
}

// terminateDynamic stops a dynamic supervisor's children in parallel, as
// OTP's terminate_dynamic_children: one signal each, one shared timer, then
// a kill for those still alive. Children waiting for a restart are dropped.
func (st *sup) terminateDynamic(cause Cause, trigger string) {
	st.h.setActivity(cause, trigger)
	pol := st.dyn.Template.shutdown()
	mons := map[*monitor]*child{}
	sel := NewSelector[Down]()
	for _, c := range st.children {
		if c.pid.IsZero() {
			continue
		}
		m := st.self.Monitor(c.pid)
		mons[m.m] = c
		sel.SelectingProcessDown(m, identity[Down])
		if pol == BrutalKill {
			st.self.SendExit(c.pid, Killed)
		} else {
			st.self.SendExit(c.pid, Shutdown)
		}
	}
	if pol != BrutalKill && pol != Infinity && len(mons) > 0 {
		// The shared timer arrives as a Down with no monitor.
		expired := NewSubject[Down](st.self)
		Selecting(sel, expired, identity[Down])
		t := SendAfter(expired, Down{}, time.Duration(pol))
		defer t.Stop()
	}
	for len(mons) > 0 {
		d, _ := sel.Select(st.self, Forever)
		if d.Monitor.m == nil { // the timer: kill the rest
			for _, c := range mons {
				st.self.SendExit(c.pid, Killed)
			}
			continue
		}
		c := mons[d.Monitor.m]
		delete(mons, d.Monitor.m)
		pid := c.pid
		reason := d.Reason
		st.self.Unlink(pid)
		if r, ok := st.self.p.flushExits(pid.p); ok {
			reason = r
		}
		delete(st.byPid, pid.p)
		c.pid, c.state = Pid{}, StateStopped
		st.ended(c, reason)
		st.emit(Event{Type: EventTerminated, Path: c.path, Kind: c.spec.Kind, Pid: pid, Reason: reason, Cause: cause, Trigger: trigger, NotStopped: pid.p.isStray()})
		st.reported(c, pid)
	}
	clear(st.children)
	st.children = st.children[:0]
	clear(st.byID)
}

func (st *sup) emit(e Event) {
	if st.events == nil {
		return
	}
	e.Time = st.self.p.clock.Now()
	st.events(e)
}

// The operations: what the supervisor does on each request of its API
// (supervisor.go), on its own goroutine, as OTP's handle_call clauses. Each
// answers a value and an error.

// whichChildren is OTP's which_children: last started first.
func (st *sup) whichChildren() ([]ChildInfo, error) {
	out := make([]ChildInfo, 0, len(st.children))
	for i := len(st.children) - 1; i >= 0; i-- {
		c := st.children[i]
		out = append(out, ChildInfo{c.spec.ID, c.pid, c.state, c.spec.Type})
	}
	return out, nil
}

// countChildren is OTP's count_children.
func (st *sup) countChildren() (Counts, error) {
	var n Counts
	for _, c := range st.children {
		n.Specs++
		if c.pid.Alive() {
			n.Active++
		}
		if c.spec.Type == SupervisorChild {
			n.Supervisors++
		} else {
			n.Workers++
		}
	}
	if st.dyn != nil {
		n.Specs = 1
	}
	return n, nil
}

// snapshot is the supervisor's own part of a Snapshot (its nested
// supervisors' parts are taken after, by the caller).
func (st *sup) snapshot() (SupervisorSnapshot, error) {
	now := st.self.p.clock.Now()
	out := SupervisorSnapshot{
		Path: st.path, Pid: st.self.Self(), Flags: st.flags, Dynamic: st.dyn != nil, Taken: now,
		Budget:   Budget{Used: st.restarts.count(now, st.flags.period()), Max: st.flags.MaxFrequency, Period: st.flags.period()},
		Children: make([]ChildSnapshot, 0, len(st.children)),
	}
	if st.dyn != nil {
		out.MaxChildren = st.dyn.MaxChildren
	}
	for _, c := range st.children {
		out.Children = append(out.Children, ChildSnapshot{
			ID: c.spec.ID, Path: c.path, Kind: c.spec.Kind, Type: c.spec.Type, State: c.state, Pid: st.pidOf(c),
			Restart: c.spec.Restart, Shutdown: c.spec.shutdown(), Significant: c.spec.Significant,
			Restarts: c.restarts, LastRestart: c.lastRestart, Started: c.started, Mailbox: st.pidOf(c).MailboxLen(),
			RestartDue: c.due, Backoff: st.backoffOf(c),
			CrashRestarts: c.crashRestarts, LastExit: c.lastExit, LastExitAt: c.lastExitAt,
		})
	}
	return out, nil
}

// askStop is Shutdown's request: the loop stops once it has run.
type askStop struct{}

func (askStop) run(st *sup) { st.stop = true }

// answer carries out a request and signals whoever waits for it.
func (st *sup) answer(r supRequest) {
	r.op.run(st)
	if r.done != nil {
		r.done <- struct{}{}
	}
}

// checkFree fails when a child has the ID: ErrStarted if it runs,
// ErrPresent if not (OTP's already_started, already_present).
func (st *sup) checkFree(id string) error {
	if c := st.byID[id]; c != nil {
		if !c.pid.IsZero() {
			return ErrStarted
		}
		return ErrPresent
	}
	return nil
}

// startChild is OTP's start_child (with a dynamic supervisor's template).
func (st *sup) startChild(spec ChildSpec) (Pid, error) {
	if d := st.dyn; d != nil {
		if d.MaxChildren > 0 && len(st.children) >= d.MaxChildren {
			return Pid{}, ErrMaxChildren
		}
		t := d.Template
		if spec.ID == "" {
			for {
				st.dynSeq++
				spec.ID = d.prefix() + "-" + strconv.Itoa(st.dynSeq)
				if st.byID[spec.ID] == nil {
					break
				}
			}
		}
		if spec.Start == nil {
			spec.Start = t.Start
		}
		spec.Restart, spec.Shutdown, spec.Type, spec.Kind, spec.Significant = t.Restart, t.Shutdown, t.Type, t.Kind, t.Significant
		spec.Backoff = t.Backoff
	}
	if err := checkChild(st.path, &spec, st.flags.AutoShutdown, false); err != nil {
		return Pid{}, err
	}
	if err := st.checkFree(spec.ID); err != nil {
		return Pid{}, err
	}
	c := st.add(len(st.children), spec)
	pid, err := st.start(c, CauseOperator, "")
	if err != nil {
		st.remove(c)
		return Pid{}, &StartError{Path: c.path, Reason: err}
	}
	return pid, nil
}

// terminateChild is OTP's terminate_child: do_terminate, then del_child.
func (st *sup) terminateChild(id string) error {
	c := st.byID[id]
	if c == nil {
		return ErrNotFound
	}
	st.terminate(c, CauseOperator, "")
	if c.spec.Restart == Temporary || st.dyn != nil {
		st.remove(c)
	} else if c.state == StateRestarting {
		c.state = StateStopped // its queued retry will find it so and do nothing
		st.cancelWait(c)
	}
	return nil
}

// restartChild is OTP's restart_child.
func (st *sup) restartChild(id string) (Pid, error) {
	if st.dyn != nil {
		return Pid{}, ErrDynamic
	}
	c := st.byID[id]
	switch {
	case c == nil:
		return Pid{}, ErrNotFound
	case c.state == StateRestarting && c.timer != nil:
		return st.skipWait(c) // a backoff's wait: start it now
	case c.state == StateRestarting:
		return Pid{}, ErrRestarting
	case !c.pid.IsZero():
		return Pid{}, ErrRunning
	}
	return st.startFailing(c, CauseOperator, "")
}

// deleteChild is OTP's delete_child.
func (st *sup) deleteChild(id string) error {
	if st.dyn != nil {
		return ErrDynamic
	}
	c := st.byID[id]
	switch {
	case c == nil:
		return ErrNotFound
	case c.state == StateRestarting:
		return ErrRestarting
	case !c.pid.IsZero():
		return ErrRunning
	}
	st.remove(c)
	return nil
}

// The reload's changes (see Change).

func (ch InsertChild) apply(st *sup) (Pid, error) {
	if st.dyn != nil {
		return Pid{}, ErrDynamic
	}
	if err := checkChild(st.path, &ch.Spec, st.flags.AutoShutdown, false); err != nil {
		return Pid{}, err
	}
	if err := st.checkFree(ch.Spec.ID); err != nil {
		return Pid{}, err
	}
	return st.startFailing(st.add(ch.Pos, ch.Spec), causeOr(ch.Cause), "")
}

// causeOr is a Change's cause: c, or CauseReload when it is not set.
func causeOr(c Cause) Cause {
	if c == "" {
		return CauseReload
	}
	return c
}

func (ch RemoveChild) apply(st *sup) (Pid, error) {
	c := st.byID[ch.ID]
	if c == nil {
		return Pid{}, ErrNotFound
	}
	st.terminate(c, causeOr(ch.Cause), "")
	st.remove(c)
	return Pid{}, nil
}

func (ch ReplaceChild) apply(st *sup) (Pid, error) {
	if st.dyn != nil {
		return Pid{}, ErrDynamic
	}
	c := st.byID[ch.Spec.ID]
	if c == nil {
		return Pid{}, ErrNotFound
	}
	if err := checkChild(st.path, &ch.Spec, st.flags.AutoShutdown, false); err != nil {
		return Pid{}, err
	}
	if c.state == StateRestarting {
		// Its restart is pending: the retry starts the new spec, with
		// the siblings its strategy stopped, as the restart would have.
		// Starting it here would leave those stopped.
		c.spec = ch.Spec
		return Pid{}, nil
	}
	st.terminate(c, CauseReload, "")
	c.spec = ch.Spec
	return st.startFailing(c, CauseReload, "")
}

func (ch UpdateChild) apply(st *sup) (Pid, error) {
	if st.dyn != nil {
		return Pid{}, ErrDynamic
	}
	c := st.byID[ch.ID]
	if c == nil {
		return Pid{}, ErrNotFound
	}
	spec := c.spec
	spec.Restart, spec.Shutdown, spec.Significant, spec.Backoff = ch.Restart, ch.Shutdown, ch.Significant, ch.Backoff
	if err := checkChild(st.path, &spec, st.flags.AutoShutdown, false); err != nil {
		return Pid{}, err
	}
	c.spec = spec
	return Pid{}, nil
}

func (ch ReorderChildren) apply(st *sup) (Pid, error) {
	if st.dyn != nil {
		return Pid{}, ErrDynamic
	}
	if len(ch.IDs) != len(st.children) {
		return Pid{}, fmt.Errorf("reorder: %d ids for %d children: %w", len(ch.IDs), len(st.children), ErrInvalidSpec)
	}
	out := make([]*child, 0, len(ch.IDs))
	seen := make(map[string]bool, len(ch.IDs))
	for _, id := range ch.IDs {
		c := st.byID[id]
		if c == nil || seen[id] {
			return Pid{}, fmt.Errorf("reorder: %q: %w", id, ErrNotFound)
		}
		seen[id] = true
		out = append(out, c)
	}
	st.children = out
	return Pid{}, nil
}

func (ch SetFlags) apply(st *sup) (Pid, error) {
	if err := checkFlags(st.path, ch.Flags, st.dyn != nil); err != nil {
		return Pid{}, err
	}
	if ch.Flags.AutoShutdown == Never {
		if err := st.checkNotSignificant(); err != nil {
			return Pid{}, err
		}
	}
	st.flags = ch.Flags
	st.restarts.resize(ch.Flags.MaxFrequency + 1)
	return Pid{}, nil
}

func (ch SetTemplate) apply(st *sup) (Pid, error) {
	if st.dyn == nil {
		return Pid{}, ErrDynamic
	}
	d := ch.Dynamic
	if err := checkDynamic(st.path, &d, st.flags.AutoShutdown); err != nil {
		return Pid{}, err
	}
	st.dyn = &d
	for _, c := range st.children {
		c.spec.Restart, c.spec.Shutdown, c.spec.Significant = d.Template.Restart, d.Template.Shutdown, d.Template.Significant
		c.spec.Backoff = d.Template.Backoff
	}
	return Pid{}, nil
}
