package runtime

import (
	"fmt"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Forever, as a timeout, waits without limit.
const Forever time.Duration = -1

// Pid identifies a process. The zero Pid names no process. Pids are
// comparable and stay valid (and dead) after the process exits.
type Pid struct{ p *proc }

// String reads like Erlang's: <0.42>. The zero Pid reads <none>.
func (pid Pid) String() string {
	if pid.p == nil {
		return "<none>"
	}
	return fmt.Sprintf("<0.%d>", pid.p.id)
}

// IsZero reports whether pid names no process.
func (pid Pid) IsZero() bool { return pid.p == nil }

// Alive reports whether the process is alive.
func (pid Pid) Alive() bool {
	if pid.p == nil {
		return false
	}
	pid.p.mu.Lock()
	defer pid.p.mu.Unlock()
	return !pid.p.dead
}

// MailboxLen returns the number of messages queued for the process and not
// yet received (subjects, Down and trapped exit messages together).
func (pid Pid) MailboxLen() int {
	if pid.p == nil {
		return 0
	}
	pid.p.mu.Lock()
	defer pid.p.mu.Unlock()
	if pid.p.dead {
		return 0
	}
	return int(max(pid.p.queued-pid.p.taken.Load(), 0))
}

// Reason returns the process's exit reason, or nil while it is alive.
func (pid Pid) Reason() error {
	if pid.p == nil {
		return NoProc
	}
	pid.p.mu.Lock()
	defer pid.p.mu.Unlock()
	return pid.p.reason
}

// Process is a process's handle on itself: the value its function receives.
// Its methods are to be called only from that process's own goroutine (for an
// actor, from inside its Init or Loop).
type Process struct{ p *proc }

// Self returns the process's own Pid.
func (p *Process) Self() Pid { return Pid{p.p} }

// Option configures a process started with Spawn, Attach or Start.
type Option func(*proc)

// WithClock makes the process use c for its timeouts (and, for a supervisor,
// its restart intensity). Processes started linked to it inherit it. The
// default is RealClock.
func WithClock(c Clock) Option { return func(p *proc) { p.clock = c } }

// Down is the message a monitor delivers, exactly once, when the monitored
// process exits.
type Down struct {
	Monitor Monitor // the monitor that fired
	Pid     Pid     // the process that exited
	Reason  error   // its exit reason; NoProc if it was dead when monitored
}

// ExitMessage is an exit signal delivered as a message to a process that traps
// exits.
type ExitMessage struct {
	From   Pid   // the sender: a linked process that exited, or the caller of SendExit (zero for Exit)
	Reason error // the signal's reason
}

// Monitor is a reference to a monitor set with Process.Monitor.
type Monitor struct{ m *monitor }

// Pid returns the monitored process.
func (m Monitor) Pid() Pid {
	if m.m == nil {
		return Pid{}
	}
	return Pid{m.m.target}
}

type monitor struct {
	watcher, target *proc
	// inline monitors (used by Call) do not queue a Down: they set fired and
	// reason and wake the watcher.
	inline bool
	fired  bool
	reason error
}

type downEntry struct {
	seq uint64
	d   Down
}

type exitEntry struct {
	seq uint64
	m   ExitMessage
}

var (
	lastID atomic.Uint64
	strays atomic.Int64
)

// Strays returns the number of processes that were killed while their
// goroutine was running outside the runtime and that have not unwound yet.
// Go cannot pre-empt a goroutine: such a process is marked dead at once, its
// links and monitors fire, and its goroutine is abandoned until it next calls
// the runtime (or returns). This count is how the fact is reported.
func Strays() int { return int(strays.Load()) }

// proc is the state of one process. Everything in it is guarded by mu; no
// code holds two procs' locks at once. It is kept small, because an idle
// process is mostly its goroutine and this: what few processes use (more
// than one link, monitors, queued Downs and exit messages) is in procExt.
//
// The fields a send touches come first, in the first cache line, and those
// a receiver touches for every message last, in another: the senders'
// writes to the one do not evict the other from the receiver's cache.
type proc struct {
	mu     sync.Mutex
	queued int32 // messages queued, all sources together, taken excepted
	dead   bool
	trap   bool
	hasG   bool // a goroutine runs this process now (always for a spawned process; while scheduled for an actor)
	wait   bool // that goroutine is parked in the runtime waiting for a message
	sched  bool // an actor's drain goroutine is scheduled or running
	stray  bool // killed while its goroutine ran outside the runtime
	yield  bool // its goroutine is in the runtime and looks at the process again before it runs code of its own: it yields the processor, or it was just woken from a wait
	// attached processes (Attach) return ErrExited instead of unwinding.
	attached bool
	seq      uint64
	wake     chan struct{}      // made on first wait
	actor    interface{ run() } // non-nil once an actor's Init has returned
	link     *proc              // a link, kept inline: most processes have one, to their parent
	id       uint64
	clock    Clock
	reason   error
	name     string
	onExit   func(reason error) // Process.OnExit
	x        *procExt           // made on demand (see ext)
	// The receiver's own, on another cache line than the senders' fields:
	// gone is dead, for receivers reading a subject's front without the
	// lock, and taken counts the messages they read so, not yet taken off
	// queued (see subject.front).
	gone  atomic.Bool
	taken atomic.Int32
}

// procExt is the part of a process's state that few processes use.
type procExt struct {
	rtimer      *time.Timer           // the real-clock timer of p's waits (see timerLocked)
	links       map[*proc]struct{}    // links besides proc.link
	watched     *monitor              // a monitor of p, kept inline: a supervisor's, as it stops p
	monitoredBy map[*monitor]struct{} // the monitors of p besides watched
	monitoring  map[*monitor]struct{}
	downs       []downEntry
	exits       []exitEntry
	watch       startWatcher // a supervisor's, for its children's starts (see awaitStart)
}

// ext returns p's procExt, making it if need be. p.mu must be held.
func (p *proc) ext() *procExt {
	if p.x == nil {
		p.x = &procExt{}
	}
	return p.x
}

// hasLink reports whether p is linked to q. p.mu must be held.
func (p *proc) hasLink(q *proc) bool {
	if p.link == q {
		return true
	}
	if p.x == nil {
		return false
	}
	_, ok := p.x.links[q]
	return ok
}

// addLink links p to q (p's side). p.mu must be held.
func (p *proc) addLink(q *proc) {
	switch {
	case p.hasLink(q):
	case p.link == nil:
		p.link = q
	default:
		x := p.ext()
		if x.links == nil {
			x.links = make(map[*proc]struct{})
		}
		x.links[q] = struct{}{}
	}
}

// removeLink drops p's side of its link to q. p.mu must be held.
func (p *proc) removeLink(q *proc) {
	if p.link == q {
		p.link = nil
	} else if p.x != nil {
		delete(p.x.links, q)
	}
}

// links is a process's set of links, taken out of it as it dies.
type links struct {
	one  *proc
	many map[*proc]struct{}
}

func (l links) each(f func(q *proc)) {
	if l.one != nil {
		f(l.one)
	}
	for q := range l.many {
		f(q)
	}
}

func newProc(clock Clock, opts []Option) *proc {
	p := &proc{}
	initProc(p, clock, opts)
	return p
}

// initProc sets up the zero proc p.
func initProc(p *proc, clock Clock, opts []Option) {
	p.id, p.clock = lastID.Add(1), clock
	for _, o := range opts {
		o(p)
	}
	if p.clock == nil {
		p.clock = RealClock
	}
}

// wakeLocked makes the process look at its mailbox: it wakes a parked
// goroutine, or schedules an idle actor. It returns true when the caller must
// start the actor's drain goroutine after unlocking.
func (p *proc) wakeLocked() (schedule bool) {
	if p.wait {
		// Until its goroutine takes the lock again it is still in the
		// runtime: a kill meanwhile finds it there, not a stray.
		p.wait, p.yield = false, true
		select {
		case p.wake <- struct{}{}:
		default:
		}
		return false
	}
	if p.actor != nil && !p.sched && !p.dead {
		p.sched = true
		p.hasG = true
		return true
	}
	return false
}

// schedule starts the drain goroutine of an actor that wakeLocked
// scheduled. When many such goroutines wait for a processor already (see
// waitingRunsPerP), the caller yields its processor to them.
func (p *proc) schedule() {
	// The go statement allocates its 16-byte closure: inherent, and
	// rare on a busy actor, whose goroutine yields once before it goes
	// idle (see actor.run).
	go runActor(p)
	if n := waitingRuns.Add(1); n > waitingRunsPerP && n > waitingRunsPerP*int32(goruntime.GOMAXPROCS(0)) {
		goruntime.Gosched()
	}
}

// waitingRuns counts the drain goroutines that schedule started and that
// have not begun to run yet.
var waitingRuns atomic.Int32

// waitingRunsPerP is how many started drain goroutines may wait for each
// processor before a sender that wakes one more actor yields its own
// processor to them, once per wake. A sender that never blocks (a loop
// that sends one message to each of a million idle actors, as W1's stop)
// would otherwise start tens of thousands of goroutines before any ran:
// each needs a fresh goroutine and stack, cold in the cache by the time it
// runs. Yielding keeps a few goroutines in use, hot, reused one after the
// other. Measured on W1's stop (10^6 actors, 2 cores): 1.2–1.7 s of CPU
// without it, 0.40–0.43 s with 8 to 64 per processor, against 0.70 s for
// the goroutines-and-channels floor.
const waitingRunsPerP = 8

func runActor(p *proc) {
	waitingRuns.Add(-1)
	p.actor.run()
}

// parking marks the process waiting, with p.mu held on entry and released
// on return, and returns the channel it is to be woken on. The waits
// without a timeout receive from it themselves rather than call park: a
// parked process is then one frame shallower, and the garbage collector
// scans every parked process's stack (W1's million idle processes).
func (p *proc) parking() <-chan struct{} {
	if p.wake == nil {
		p.wake = make(chan struct{}, 1)
	}
	p.wait = true
	p.mu.Unlock()
	return p.wake
}

// park waits, with p.mu held on entry and released on return, until the
// process is woken, the timer fires (timeout reports true), or it dies.
func (p *proc) park(t Timer) (timedOut bool) {
	if t == nil {
		<-p.parking()
		return false
	}
	wake := p.parking()
	select {
	case <-wake:
		return false
	case <-t.C():
		p.mu.Lock()
		p.wait = false
		p.mu.Unlock()
		return true
	}
}

// timerLocked returns a timer that fires after timeout (nil for Forever),
// for a wait of p's own goroutine, with p.mu held. With the real clock the
// process reuses one time.Timer for all its waits, so that a timed wait
// does not allocate: since Go 1.23 Stop and Reset are exact (no stale tick
// is ever received after them), and a process waits for one thing at a
// time.
func (p *proc) timerLocked(timeout time.Duration) Timer {
	if timeout < 0 {
		return nil
	}
	if p.clock != RealClock {
		return p.clock.NewTimer(timeout)
	}
	x := p.ext()
	if x.rtimer == nil {
		x.rtimer = time.NewTimer(timeout)
	} else {
		x.rtimer.Reset(timeout)
	}
	return realTimer{x.rtimer}
}

// unwindLocked is called with p.mu held when the process's goroutine finds it
// dead at a runtime call: a spawned process unwinds (its defers run); an
// attached one gets ErrExited.
func (p *proc) unwindLocked() error {
	p.mu.Unlock()
	if p.attached {
		return ErrExited
	}
	goruntime.Goexit()
	return nil
}

// obituary is what a process that has just been marked dead must still tell
// the world, outside its lock.
type obituary struct {
	p           *proc
	reason      error
	links       links
	watched     *monitor
	monitoredBy map[*monitor]struct{}
	monitoring  map[*monitor]struct{}
	name        string
	onExit      func(reason error)
}

// dieLocked marks the live process p dead with reason, with p.mu held, and
// returns what is left to announce. own is true when p's own goroutine ends
// it as it finishes; otherwise a goroutine still running p's code outside
// the runtime is counted as a stray until it unwinds.
func (p *proc) dieLocked(reason error, own bool) *obituary {
	p.dead = true
	p.reason = reason
	if !own && p.hasG && !p.wait && !p.yield && !p.attached && !p.stray {
		p.stray = true
		strays.Add(1)
	}
	o := &obituary{p: p, reason: reason, links: links{one: p.link}, name: p.name, onExit: p.onExit}
	if x := p.x; x != nil {
		o.links.many, o.monitoredBy, o.monitoring = x.links, x.monitoredBy, x.monitoring
		o.watched = x.watched
		p.x = nil
	}
	p.link, p.name, p.onExit, p.queued = nil, "", nil, 0
	p.taken.Store(0)
	p.gone.Store(true)
	if p.wait {
		p.wait = false
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	return o
}

// announce runs the process's OnExit, drops its name and monitors, sends
// its exit signal along its links and then its Downs, in that order. Linked
// processes that the signal kills are appended to work, to be announced in
// turn (a loop, not a recursion: a chain of a million links is fine).
func (o *obituary) announce(work []*obituary) []*obituary {
	if o.onExit != nil {
		runOnExit(o.onExit, o.reason)
	}
	if o.name != "" {
		unregisterProc(o.name, o.p)
	}
	for m := range o.monitoring {
		m.target.dropMonitoredBy(m)
	}
	o.links.each(func(q *proc) {
		if d := q.signal(o.p, o.reason, true); d != nil {
			work = append(work, d)
		}
	})
	if m := o.watched; m != nil {
		m.watcher.down(m, o.reason)
	}
	for m := range o.monitoredBy {
		m.watcher.down(m, o.reason)
	}
	return work
}

// propagate announces o and every death it causes.
func propagate(o *obituary) {
	if o == nil {
		return
	}
	work := []*obituary{o}
	for len(work) > 0 {
		o := work[len(work)-1]
		work = o.announce(work[:len(work)-1])
	}
}

// runOnExit runs an OnExit function. It runs on whatever goroutine ends the
// process, possibly one that is no process at all: a panic in it is
// dropped rather than allowed to take that goroutine down.
func runOnExit(f func(error), reason error) {
	defer func() { _ = recover() }()
	f(reason)
}

// exit ends the process with reason (no-op if it is already dead): it fires
// its links and monitors and drops its registered name. It may be called from
// any goroutine.
func (p *proc) exit(reason error) {
	p.mu.Lock()
	if p.dead {
		p.mu.Unlock()
		return
	}
	o := p.dieLocked(reason, false)
	p.mu.Unlock()
	propagate(o)
}

// goroutineDone is the exit of the process's own goroutine (return, panic,
// Goexit). It clears the stray mark the goroutine carried and, if the process
// is still alive, ends it with reason, in one step: no message can schedule
// an actor's goroutine between the two.
func (p *proc) goroutineDone(reason error) {
	p.mu.Lock()
	p.hasG, p.sched = false, false
	wasStray := p.stray
	p.stray = false
	var o *obituary
	if !p.dead {
		o = p.dieLocked(reason, true)
	}
	p.mu.Unlock()
	if wasStray {
		strays.Add(-1)
	}
	propagate(o)
}

// down delivers a monitor's Down to its watcher.
func (p *proc) down(m *monitor, reason error) {
	p.mu.Lock()
	if p.dead {
		p.mu.Unlock()
		return
	}
	if p.x == nil || !p.monitors(m) {
		p.mu.Unlock() // demonitored meanwhile
		return
	}
	delete(p.x.monitoring, m)
	if m.inline {
		m.fired, m.reason = true, reason
	} else {
		p.seq++
		p.x.downs = append(p.x.downs, downEntry{p.seq, Down{Monitor{m}, Pid{m.target}, reason}})
		p.queued++
	}
	start := p.wakeLocked()
	p.mu.Unlock()
	if start {
		p.schedule()
	}
}

// signal delivers an exit signal from `from` (nil: from outside any
// process). viaLink is true when it comes along a link: it is then
// delivered only while the link exists (after Unlink nothing arrives), and
// delivering it removes the link. It returns the obituary of p when the
// signal killed it; the caller must propagate it.
func (p *proc) signal(from *proc, reason error, viaLink bool) *obituary {
	if reason == nil {
		reason = Normal
	}
	p.mu.Lock()
	if p.dead {
		p.mu.Unlock()
		return nil
	}
	if viaLink {
		if !p.hasLink(from) {
			p.mu.Unlock()
			return nil
		}
		p.removeLink(from)
	}
	untrappable := !viaLink && reason == Killed
	switch {
	case p.trap && !untrappable:
		p.seq++
		x := p.ext()
		x.exits = append(x.exits, exitEntry{p.seq, ExitMessage{Pid{from}, reason}})
		p.queued++
		start := p.wakeLocked()
		p.mu.Unlock()
		if start {
			p.schedule()
		}
		return nil
	case reason == Normal && from != p:
		p.mu.Unlock()
		return nil
	}
	o := p.dieLocked(reason, false)
	p.mu.Unlock()
	return o
}

// startGoroutine records that a goroutine now runs p. A process killed
// before its goroutine started (through the link SpawnLink made) is a stray
// from the start: its function runs until its first runtime call.
func (p *proc) startGoroutine() {
	p.mu.Lock()
	p.hasG = true
	if p.dead && !p.stray {
		p.stray = true
		strays.Add(1)
	}
	p.mu.Unlock()
}

func (p *proc) spawnGoroutine(fn func(*Process)) {
	p.startGoroutine()
	go func() {
		// After a panic, the exit is announced here, once the panic's
		// frames are gone (see actor.run).
		p.goroutineDone(p.call(fn))
	}()
}

// call runs the process's function and returns its exit reason: Normal, or
// a *PanicError. After a runtime.Goexit it ends the process itself (Killed:
// our own unwind of a dead process, when exit is a no-op, or the
// function's), as the Goexit does not return.
func (p *proc) call(fn func(*Process)) (reason error) {
	returned := false
	defer func() {
		if r := recover(); r != nil {
			reason = newPanicError(r)
		} else if !returned {
			p.goroutineDone(Killed)
		}
	}()
	fn(&Process{p})
	returned = true
	return Normal
}

// Spawn starts fn in a new process, unlinked, and returns its Pid. The
// process exits with Normal when fn returns, with a *PanicError when it
// panics.
func Spawn(fn func(p *Process), opts ...Option) Pid {
	p := newProc(nil, opts)
	p.spawnGoroutine(fn)
	return Pid{p}
}

// SpawnLink starts fn in a new process linked to parent, atomically: the
// link exists before fn runs. The child inherits parent's clock. parent must
// be the caller's own process; if it has been killed, it unwinds here and
// no child starts.
func SpawnLink(parent *Process, fn func(p *Process), opts ...Option) Pid {
	p := newProc(parent.p.clock, opts)
	if !linkNew(parent.p, p) {
		// The parent is dead: the child would get its exit signal at
		// once. Start nothing; report the child dead of NoProc.
		p.dead, p.reason = true, NoProc
		parent.unwindIfDead()
		return Pid{p}
	}
	p.spawnGoroutine(fn)
	return Pid{p}
}

// linkNew links a process that has not started yet to parent; it fails when
// parent is dead.
func linkNew(parent, p *proc) bool {
	parent.mu.Lock()
	defer parent.mu.Unlock()
	if parent.dead {
		return false
	}
	parent.addLink(p)
	p.link = parent
	return true
}

// Attach makes the calling goroutine a process, for code that is not in one
// (main, tests, an HTTP handler that needs to Call). Calling the returned
// function ends it with Normal. Blocking calls on an attached process that has
// been killed return ErrExited instead of unwinding the goroutine.
func Attach(opts ...Option) (p *Process, detach func()) {
	pr := newProc(nil, opts)
	pr.attached = true
	pr.hasG = true
	return &Process{pr}, func() { pr.goroutineDone(Normal) }
}

// Exit sends an exit signal with reason to pid from outside any process, as
// Erlang's exit/2: Killed kills it whether or not it traps exits; a process
// that traps exits gets any other reason as an ExitMessage; otherwise Normal is
// ignored and any other reason ends the process with that reason. A nil
// reason is Normal.
func Exit(pid Pid, reason error) {
	if pid.p != nil {
		propagate(pid.p.signal(nil, reason, false))
	}
}

// SendExit is Exit sent from p: a receiver that traps exits sees p as From. A
// process that sends itself a signal that kills it unwinds at once.
func (p *Process) SendExit(pid Pid, reason error) {
	if pid.p == nil {
		return
	}
	propagate(pid.p.signal(p.p, reason, false))
	if pid.p == p.p {
		p.unwindIfDead()
	}
}

// TrapExits turns exit trapping on or off: while on, exit signals (other
// than Killed sent with Exit) arrive as ExitMessages instead of ending the
// process.
func (p *Process) TrapExits(on bool) {
	p.p.mu.Lock()
	p.p.trap = on
	p.p.mu.Unlock()
}

// Link links p and pid: when either exits abnormally the other gets an exit
// signal. Linking to a dead process sends p the exit signal NoProc.
func (p *Process) Link(pid Pid) {
	me, t := p.p, pid.p
	if t == nil || t == me {
		return
	}
	// p's side first: from then on a signal from t is let through. No
	// code holds two processes' locks, so the two sides are set one after
	// the other, and each death in between is caught below.
	me.mu.Lock()
	if me.dead {
		me.unwindLocked()
		return
	}
	me.addLink(t)
	me.mu.Unlock()

	t.mu.Lock()
	if t.dead {
		// t exited before it knew of the link: it sends noproc.
		t.mu.Unlock()
		propagate(me.signal(t, NoProc, true))
		p.unwindIfDead()
		return
	}
	t.addLink(me)
	t.mu.Unlock()

	// If p was killed meanwhile, its exit signal may have reached t
	// before t's side of the link existed, and been dropped: send it
	// again. Delivering removes the link, so t never gets it twice.
	me.mu.Lock()
	if me.dead {
		reason := me.reason
		me.mu.Unlock()
		propagate(t.signal(me, reason, true))
		p.unwindIfDead()
		return
	}
	me.mu.Unlock()
}

// Unlink removes the link between p and pid, if any.
func (p *Process) Unlink(pid Pid) {
	t := pid.p
	if t == nil {
		return
	}
	p.p.mu.Lock()
	p.p.removeLink(t)
	p.p.mu.Unlock()
	t.mu.Lock()
	t.removeLink(p.p)
	t.mu.Unlock()
}

func (p *Process) unwindIfDead() {
	p.p.mu.Lock()
	if p.p.dead {
		p.p.unwindLocked()
		return
	}
	p.p.mu.Unlock()
}

// Monitor starts monitoring pid: p will get exactly one Down when it exits
// (at once, with NoProc, if it is already dead).
func (p *Process) Monitor(pid Pid) Monitor {
	return Monitor{p.p.monitor(pid.p, false)}
}

func (w *proc) monitor(t *proc, inline bool) *monitor {
	m := &monitor{}
	w.monitorInto(m, t, inline)
	return m
}

// monitorInto sets up the zero monitor m, for w watching t.
func (w *proc) monitorInto(m *monitor, t *proc, inline bool) {
	m.watcher, m.target, m.inline = w, t, inline
	if t == nil {
		m.fired, m.reason = true, NoProc
		if !inline {
			w.mu.Lock()
			w.seq++
			x := w.ext()
			x.downs = append(x.downs, downEntry{w.seq, Down{Monitor{m}, Pid{}, NoProc}})
			w.queued++
			w.mu.Unlock()
		}
		return
	}
	w.mu.Lock()
	if x := w.ext(); x.monitoring == nil {
		x.monitoring = make(map[*monitor]struct{})
	}
	w.x.monitoring[m] = struct{}{}
	w.mu.Unlock()
	t.mu.Lock()
	if t.dead {
		reason := NoProc
		t.mu.Unlock()
		w.down(m, reason)
		return
	}
	if x := t.ext(); x.watched == nil {
		x.watched = m
	} else {
		if x.monitoredBy == nil {
			x.monitoredBy = make(map[*monitor]struct{})
		}
		x.monitoredBy[m] = struct{}{}
	}
	t.mu.Unlock()
}

// Demonitor removes the monitor and flushes its Down if one was already
// delivered, so that no Down of it is ever received afterwards. A monitor
// set by another process is left alone.
func (p *Process) Demonitor(m Monitor) {
	if m.m != nil && m.m.watcher == p.p {
		p.p.demonitor(m.m)
	}
}

func (w *proc) demonitor(m *monitor) {
	if m.target != nil {
		m.target.dropMonitoredBy(m)
	}
	w.mu.Lock()
	if x := w.x; x != nil {
		delete(x.monitoring, m)
		for i, e := range x.downs {
			if e.d.Monitor.m == m {
				x.downs = append(x.downs[:i], x.downs[i+1:]...)
				w.queued--
				break
			}
		}
	}
	w.mu.Unlock()
}

// monitors reports whether monitor m of p is still set. p.mu must be held
// and p.x not nil.
func (p *proc) monitors(m *monitor) bool {
	_, ok := p.x.monitoring[m]
	return ok
}

// dropMonitoredBy forgets monitor m of t.
func (t *proc) dropMonitoredBy(m *monitor) {
	t.mu.Lock()
	if t.x != nil {
		if t.x.watched == m {
			t.x.watched = nil
		} else {
			delete(t.x.monitoredBy, m)
		}
	}
	t.mu.Unlock()
}

// Sleep pauses p for d. A process that is killed meanwhile unwinds (an
// attached one returns early).
func (p *Process) Sleep(d time.Duration) {
	p.p.mu.Lock()
	t := p.p.timerLocked(max(d, 0))
	p.p.mu.Unlock()
	defer t.Stop()
	for {
		p.p.mu.Lock()
		p.p.yield = false
		if p.p.dead {
			p.p.unwindLocked()
			return
		}
		if p.p.park(t) {
			return
		}
	}
}

// OnExit sets f to run when p exits, whatever the reason: after p is marked
// dead and before its links and monitors fire, so that no one learns of the
// exit before f has run. f runs on the goroutine that ends p, which may be
// another process's (the sender of a kill), so it must be quick and must not
// call the runtime on p. It is for a process that owns something outside the
// runtime, such as an OS process, which must be released by the time its
// supervisor sees it gone (as an Erlang port is closed with its owner).
// A later call replaces f.
func (p *Process) OnExit(f func(reason error)) {
	p.p.mu.Lock()
	p.p.onExit = f
	p.p.mu.Unlock()
}

// Clock returns the clock p uses.
func (p *Process) Clock() Clock { return p.p.clock }

// flushExits drops the queued exit messages from `from` and returns the
// reason of the last one (OTP's unlink_flush).
func (p *proc) flushExits(from *proc) (reason error, found bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.x == nil {
		return nil, false
	}
	x := p.x
	kept := x.exits[:0]
	for _, e := range x.exits {
		if e.m.From.p == from {
			reason, found = e.m.Reason, true
			p.queued--
			continue
		}
		kept = append(kept, e)
	}
	clear(x.exits[len(kept):])
	x.exits = kept
	return reason, found
}

// isStray reports whether the process was killed while its goroutine ran
// outside the runtime and has not unwound yet.
func (p *proc) isStray() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stray
}
