package runtime

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Strategy is how a supervisor restarts children (OTP's restart strategy).
type Strategy int

const (
	// OneForOne restarts only the child that exited. The default (the zero
	// value), as in OTP.
	OneForOne Strategy = iota
	// OneForAll terminates every other child in reverse start order, then
	// starts them all again in start order (children stopped by
	// TerminateChild included, temporary ones excepted: they are removed).
	OneForAll
	// RestForOne terminates the children started after the one that exited,
	// in reverse start order, then starts it and them again in start order.
	RestForOne
)

var strategyNames = [...]string{"one_for_one", "one_for_all", "rest_for_one"}

// String returns OTP's name: one_for_one, one_for_all, rest_for_one.
func (s Strategy) String() string {
	if s >= 0 && int(s) < len(strategyNames) {
		return strategyNames[s]
	}
	return fmt.Sprintf("Strategy(%d)", int(s))
}

// RestartType says when a child is restarted (OTP's restart).
type RestartType int

const (
	// Permanent children are always restarted, whatever their exit reason.
	// The default (the zero value), as in OTP.
	Permanent RestartType = iota
	// Transient children are restarted only after an abnormal exit: not
	// after Normal or Shutdown (or an error wrapping Shutdown, OTP's
	// {shutdown, Term}).
	Transient
	// Temporary children are never restarted, and are removed from the
	// supervisor when they exit or are terminated (by TerminateChild or by
	// a sibling's restart), as in OTP.
	Temporary
)

var restartNames = [...]string{"permanent", "transient", "temporary"}

// String returns OTP's name: permanent, transient, temporary.
func (r RestartType) String() string {
	if r >= 0 && int(r) < len(restartNames) {
		return restartNames[r]
	}
	return fmt.Sprintf("RestartType(%d)", int(r))
}

// ShutdownPolicy is how a child is stopped (OTP's shutdown): a timeout, or
// BrutalKill, or Infinity. A timeout d means OTP's integer shutdown: the
// supervisor monitors the child, sends it the exit signal Shutdown, waits up
// to d for it to exit, and then kills it (exit signal Killed, which cannot be
// trapped). BrutalKill kills at once; Infinity sends Shutdown and waits as
// long as it takes.
//
// The zero value is the default: 5s for a worker (DefaultWorkerShutdown),
// Infinity for a supervisor, as in OTP. (OTP's shutdown 0, "signal and kill
// at once", is written as a tiny duration such as 1ns.)
//
// Go cannot kill a goroutine. Killing an in-process child marks its process
// dead at once, removes its links (the supervisor unlinks it, as OTP's
// unlink_flush does), fires its monitors, and abandons its goroutine: the
// goroutine unwinds at its next runtime call (Receive, Select, Call, Sleep).
// If it was running outside the runtime when killed, the terminated event
// says NotStopped and Strays counts it until it unwinds. The supervisor does
// not wait for it. An OS process is really killed by its worker (SIGKILL).
type ShutdownPolicy time.Duration

const (
	// BrutalKill kills the child at once (exit signal Killed).
	BrutalKill ShutdownPolicy = -2
	// Infinity asks the child to stop and waits as long as it takes (the
	// default for a supervisor child).
	Infinity ShutdownPolicy = ShutdownPolicy(Forever)
	// DefaultWorkerShutdown is the shutdown of a worker that sets none
	// (OTP's 5000 ms).
	DefaultWorkerShutdown = ShutdownPolicy(5 * time.Second)
)

// String reads brutal_kill, infinity, or a duration.
func (s ShutdownPolicy) String() string {
	switch s {
	case BrutalKill:
		return "brutal_kill"
	case Infinity:
		return "infinity"
	}
	return time.Duration(s).String()
}

// ChildType tells workers from supervisors (OTP's type).
type ChildType int

const (
	// Worker is a leaf. The default (the zero value), as in OTP.
	Worker ChildType = iota
	// SupervisorChild is a nested supervisor: its default shutdown is
	// Infinity, so that its own subtree has all the time it needs.
	SupervisorChild
)

// String returns worker or supervisor.
func (t ChildType) String() string {
	if t == SupervisorChild {
		return "supervisor"
	}
	return "worker"
}

// AutoShutdown says whether significant children's exits shut the
// supervisor down (OTP 24's auto_shutdown).
type AutoShutdown int

const (
	// Never: the supervisor never shuts itself down, and significant
	// children are not allowed. The default (the zero value), as in OTP.
	Never AutoShutdown = iota
	// AnySignificant: the supervisor shuts down (reason Shutdown) when any
	// significant child exits by itself and is not restarted: a transient
	// one after Normal or Shutdown, a temporary one after any reason.
	AnySignificant
	// AllSignificant: the same, when the last significant child that still
	// has a process (running or being restarted) exits so.
	AllSignificant
)

var autoShutdownNames = [...]string{"never", "any_significant", "all_significant"}

// String returns OTP's name.
func (a AutoShutdown) String() string {
	if a >= 0 && int(a) < len(autoShutdownNames) {
		return autoShutdownNames[a]
	}
	return fmt.Sprintf("AutoShutdown(%d)", int(a))
}

// Flags are a supervisor's flags (OTP's sup_flags).
type Flags struct {
	// Strategy is the restart strategy. Default (zero): OneForOne.
	Strategy Strategy
	// MaxFrequency is OTP's intensity: when a restart would make more than
	// MaxFrequency restarts within Period (that one included), the
	// supervisor gives up: it terminates its children in reverse start order
	// and exits with Shutdown, which its own supervisor handles as any child
	// exit (escalation). A child whose restart fails is retried, and each
	// retry counts again. The zero value allows no restart at all; OTP's
	// default is 1 (DefaultFlags). Restarts made by an operator or a reload
	// (RestartChild, ReplaceChild, ...) do not count, as in OTP.
	MaxFrequency int
	// Period is the window of MaxFrequency. Default (zero): 5s, as in OTP.
	// Unlike OTP, which counts whole seconds, the window is measured at the
	// clock's full precision; a restart exactly Period ago still counts, as
	// OTP's `R >= Now - Period`. Only the last MaxFrequency+1 restart times
	// are kept, so counting is constant time whatever the restart rate.
	Period time.Duration
	// AutoShutdown is OTP's auto_shutdown. Default (zero): Never.
	AutoShutdown AutoShutdown
}

// DefaultFlags are OTP's defaults: one_for_one, intensity 1, period 5s,
// auto_shutdown never.
func DefaultFlags() Flags {
	return Flags{Strategy: OneForOne, MaxFrequency: 1, Period: 5 * time.Second}
}

func (f Flags) period() time.Duration {
	if f.Period <= 0 {
		return 5 * time.Second
	}
	return f.Period
}

// ChildSpec describes one child of a supervisor (OTP's child_spec).
type ChildSpec struct {
	// ID names the child among its siblings (required, unique); its path is
	// the supervisor's path, "/", and the ID.
	ID string
	// Start starts the child linked to parent (the supervisor's process)
	// and returns when it is ready, as OTP's start functions do. It runs on
	// the supervisor's goroutine, so it must not call the supervisor's own
	// API. It must link the child to parent (StartLink, SpawnLink,
	// StartSupervisor do): the supervisor learns of the child's exit through
	// that link. An error (or a panic) fails the start; returning the error
	// Ignore is OTP's ignore: no process, and the child is kept, not
	// running (a temporary one is dropped).
	Start func(parent *Process) (Pid, error)
	// Restart is when the child is restarted. Default (zero): Permanent.
	Restart RestartType
	// Shutdown is how it is stopped. Default (zero): 5s for a worker,
	// Infinity for a supervisor. See ShutdownPolicy.
	Shutdown ShutdownPolicy
	// Type is Worker or SupervisorChild. Default (zero): Worker.
	Type ChildType
	// Significant marks the child for AutoShutdown. Default: false. As in
	// OTP, it is invalid on a permanent child and under AutoShutdown Never.
	Significant bool
	// Kind is what the child is, for events and snapshots (a worker kind
	// name, or a strategy for a supervisor).
	Kind string
}

func (c *ChildSpec) shutdown() ShutdownPolicy {
	if c.Shutdown != 0 {
		return c.Shutdown
	}
	if c.Type == SupervisorChild {
		return Infinity
	}
	return DefaultWorkerShutdown
}

// Ignore is what a child's Start returns to say it has nothing to run (OTP's
// ignore): the start succeeds with no process; the child's spec is kept, not
// running (a temporary child and a dynamic supervisor's child are dropped);
// no started event is emitted.
const Ignore Atom = "ignore"

// DynamicSpec makes a supervisor dynamic (OTP's simple_one_for_one): it
// starts with no children and starts them at run time with StartChild, all
// from one template; there is no order between them, and on shutdown they
// are all asked to stop at once and share one shutdown timer.
type DynamicSpec struct {
	// Template gives the children's restart, shutdown, type, significant
	// and kind. Its ID is the prefix of generated names, <prefix>-<n> (n
	// counts from 1; default prefix: the Kind); its Start is used when
	// StartChild gets no Start of its own.
	Template ChildSpec
	// MaxChildren limits the number of children, running or being
	// restarted (zero: no limit; OTP has none). StartChild past it fails
	// with ErrMaxChildren.
	MaxChildren int
}

func (d *DynamicSpec) prefix() string {
	if d.Template.ID != "" {
		return d.Template.ID
	}
	if d.Template.Kind != "" {
		return d.Template.Kind
	}
	return "child"
}

// SupervisorSpec describes a supervisor.
type SupervisorSpec struct {
	Flags
	// Path names the supervisor in events and snapshots ("shop",
	// "shop/workers"); children's paths are Path/ID.
	Path string
	// Children are started in this order, and stopped in reverse.
	Children []ChildSpec
	// Dynamic, when set, makes the supervisor dynamic; Children must then
	// be empty and Strategy OneForOne.
	Dynamic *DynamicSpec
	// Events receives every lifecycle event of the supervisor's children
	// (and its own give_up). It runs on the supervisor's goroutine, in the
	// order things happen, and must not block nor call the supervisor's
	// API; nil drops them.
	Events func(Event)
}

// EventType names a lifecycle event. The names are public API (logs, JSON).
type EventType string

// The lifecycle events.
const (
	EventStarted     EventType = "started"      // a child started (or restarted)
	EventExited      EventType = "exited"       // a child exited by itself
	EventTerminated  EventType = "terminated"   // a child was stopped by its supervisor
	EventStartFailed EventType = "start_failed" // a child's start failed
	EventGiveUp      EventType = "give_up"      // a supervisor passed its restart intensity
)

// Cause says why a child was started or terminated.
type Cause string

// The causes.
const (
	CauseBoot       Cause = "boot"       // the tree (or the supervisor) is starting
	CauseCrash      Cause = "crash"      // the child's own exit
	CauseSibling    Cause = "sibling"    // a one_for_all / rest_for_one restart
	CauseEscalation Cause = "escalation" // its supervisor is restarting or giving up
	CauseReload     Cause = "reload"     // a configuration reload
	CauseOperator   Cause = "operator"   // a control command
	CauseShutdown   Cause = "shutdown"   // the tree is stopping
)

// ReachedMaxRestartIntensity is the reason of a give_up event (OTP's).
const ReachedMaxRestartIntensity Atom = "reached_max_restart_intensity"

// Event is one lifecycle event of a supervised child.
type Event struct {
	Type EventType
	Time time.Time
	Path string // the child's path (the supervisor's own for give_up)
	Kind string
	Pid  Pid
	// Reason is set for exited, terminated, start_failed and give_up.
	Reason error
	// Cause and Trigger say why a started or terminated happened: Trigger
	// is the path whose exit set it off (empty for boot, operator, reload
	// and a requested shutdown). A give_up has a Trigger (the child whose
	// exit passed the intensity) and no Cause.
	Cause   Cause
	Trigger string
	// NotStopped is set on a terminated in-process child that was killed
	// while its goroutine was running outside the runtime: it is marked
	// dead and abandoned, not stopped.
	NotStopped bool
	// Restart and StartedIn are set on started: Restart when the child had
	// started before (the start counts in the snapshot's Restarts), and
	// StartedIn is how long the start took on the supervisor's clock, from
	// the call of the child's start function to its return (an init or a
	// readiness check included): its time to ready.
	Restart   bool
	StartedIn time.Duration
}

// ChildState is a child's state in a snapshot.
type ChildState string

// The states.
const (
	StateRunning    ChildState = "running"
	StateStarting   ChildState = "starting"   // its start is in progress (init or readiness check not returned yet)
	StateRestarting ChildState = "restarting" // its restart failed; it is being retried
	StateStopped    ChildState = "stopped"    // not running: terminated, ignored, or exited and not restarted
	StateFailed     ChildState = "failed"     // its start failed and is not retried (operator or reload start)
)

// Errors of the supervisor API, as OTP's.
var (
	ErrRunning      = errors.New("running")
	ErrRestarting   = errors.New("restarting")
	ErrNotFound     = errors.New("not_found")
	ErrPresent      = errors.New("already_present")
	ErrStarted      = errors.New("already_started")
	ErrDynamic      = errors.New("simple_one_for_one") // an operation a dynamic supervisor does not have
	ErrMaxChildren  = errors.New("max_children reached")
	ErrNoSupervisor = errors.New("supervisor is not running")
	// ErrInvalidSpec is wrapped by every error about flags or a child spec
	// that OTP would reject (duplicate_child_name, bad_combination,
	// invalid_intensity, ...).
	ErrInvalidSpec = errors.New("invalid supervisor spec")
)

// StartError is a child's failure to start: the supervisor's start (or a
// StartChild, RestartChild, InsertChild, ReplaceChild) fails with it.
type StartError struct {
	Path   string
	Reason error
}

// Error names the child and the reason.
func (e *StartError) Error() string { return fmt.Sprintf("%s failed to start: %v", e.Path, e.Reason) }

// Unwrap returns the reason.
func (e *StartError) Unwrap() error { return e.Reason }

// Supervisor is a handle on a running supervisor. Its methods are safe from
// any goroutine (but not from its children's Start functions nor its Events
// hook, which run on its own goroutine); each is carried out by the
// supervisor's goroutine in turn with the exits of its children, and returns
// ErrNoSupervisor if the supervisor exits first.
type Supervisor struct {
	pid   Pid
	ctl   Subject[supRequest]
	query Subject[supRequest] // snapshots, answered during a child's start too
	done  chan struct{}
	path  string
	// started is closed once the children given at start have started, or
	// the start failed (startErr, set before); stopAsked is set by Shutdown.
	started   chan struct{}
	startErr  error
	stopAsked atomic.Bool

	mu      sync.Mutex
	reason  error
	cause   Cause // what the supervisor is doing now, read by nested supervisors
	trigger string
	kind    string // its ChildSpec.Kind under a parent supervisor (noteKind)
	inStart bool   // its goroutine runs a child's Start (see awaitOrphanReport)
	// parentReported is closed by its parent supervisor once it has
	// reported this supervisor's end (see releaseOrphanReport).
	parentReported chan struct{}
	reportReleased bool
}

// Pid returns the supervisor's process. It can be linked, monitored and
// sent exit signals like any process: the supervisor traps exits, so a
// signal from its parent stops it (children first) and one from any other
// process that is not its child is ignored, as in OTP; Killed kills it at
// once (its children get Killed through their links; as in OTP, its
// parent reports its exit first, then each of its workers is reported
// terminated, reason Killed, cause escalation, with its path as trigger,
// last started first; a nested supervisor stops its own children and then
// reports itself so).
func (s *Supervisor) Pid() Pid { return s.pid }

// Path returns the supervisor's path.
func (s *Supervisor) Path() string { return s.path }

// Done is closed when the supervisor has exited (after its children).
func (s *Supervisor) Done() <-chan struct{} { return s.done }

// Started is closed once the supervisor's start is over: every child given
// at start has started, or one failed, or the supervisor was stopped while
// it started them (StartErr says which). See SpawnSupervisor.
func (s *Supervisor) Started() <-chan struct{} { return s.started }

// StartErr returns nil while the supervisor starts and once it has started
// its children; after a failed start, the *StartError StartSupervisor
// would have returned; after a stop during the start, an error wrapping
// the reason it stopped with (Shutdown for Shutdown).
func (s *Supervisor) StartErr() error {
	select {
	case <-s.started:
		return s.startErr
	default:
		return nil
	}
}

// Reason returns why the supervisor exited, or nil while it runs: Shutdown
// when it was stopped, gave up or shut itself down (auto_shutdown), its
// parent's reason when its parent stopped it, Killed when it was killed.
func (s *Supervisor) Reason() error {
	select {
	case <-s.done:
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.reason
	default:
		return nil
	}
}

var supervisors sync.Map // *proc -> *Supervisor

// SupervisorOf returns the handle of the supervisor running as pid.
func SupervisorOf(pid Pid) (*Supervisor, bool) {
	if pid.p == nil {
		return nil, false
	}
	s, ok := supervisors.Load(pid.p)
	if !ok {
		return nil, false
	}
	return s.(*Supervisor), true
}

func (s *Supervisor) setActivity(c Cause, trigger string) {
	s.mu.Lock()
	s.cause, s.trigger = c, trigger
	s.mu.Unlock()
}

func (s *Supervisor) activity() (Cause, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cause, s.trigger
}

type supRequest struct {
	fn    func(*sup) any
	reply chan any
}

// do runs fn on the supervisor's goroutine and returns its result.
func (s *Supervisor) do(fn func(*sup) any) (any, error) { return s.request(s.ctl, fn) }

// ask is do for a read-only fn that is answered during a child's start
// too (see supervisor_start.go): Snapshot's.
func (s *Supervisor) ask(fn func(*sup) any) (any, error) { return s.request(s.query, fn) }

func (s *Supervisor) request(to Subject[supRequest], fn func(*sup) any) (any, error) {
	reply := make(chan any, 1)
	to.Send(supRequest{fn, reply})
	select {
	case r := <-reply:
		return r, nil
	case <-s.done:
		// It may have answered just before exiting.
		select {
		case r := <-reply:
			return r, nil
		default:
			return nil, ErrNoSupervisor
		}
	}
}

func doErr(s *Supervisor, fn func(*sup) error) error {
	r, err := s.do(func(st *sup) any { return fn(st) })
	if err != nil {
		return err
	}
	if r == nil {
		return nil
	}
	return r.(error)
}

type pidOrErr struct {
	pid Pid
	err error
}

func doPid(s *Supervisor, fn func(*sup) (Pid, error)) (Pid, error) {
	r, err := s.do(func(st *sup) any { p, e := fn(st); return pidOrErr{p, e} })
	if err != nil {
		return Pid{}, err
	}
	pe := r.(pidOrErr)
	return pe.pid, pe.err
}

// ChildInfo is one row of WhichChildren.
type ChildInfo struct {
	ID    string
	Pid   Pid // zero when not running
	State ChildState
	Type  ChildType
}

// WhichChildren lists the children as OTP's which_children does: in reverse
// start order (the last started first), which is the order they would be
// stopped in. Snapshot lists them in start order. Unlike Snapshot, it
// waits for a child's start in progress (it is in order with the
// supervisor's other requests and its children's exits, as in OTP).
func (s *Supervisor) WhichChildren() ([]ChildInfo, error) {
	r, err := s.do(func(st *sup) any {
		out := make([]ChildInfo, 0, len(st.children))
		for i := len(st.children) - 1; i >= 0; i-- {
			c := st.children[i]
			out = append(out, ChildInfo{c.spec.ID, c.pid, c.state, c.spec.Type})
		}
		return out
	})
	if err != nil {
		return nil, err
	}
	return r.([]ChildInfo), nil
}

// Counts is OTP's count_children.
type Counts struct {
	// Specs counts the child specs: every child, running or not; a dynamic
	// supervisor has one, its template (as OTP's simple_one_for_one).
	Specs int
	// Active counts the children whose process is alive.
	Active int
	// Supervisors and Workers count the children (running or not; a
	// dynamic supervisor's running or being restarted) by type.
	Supervisors, Workers int
}

// CountChildren counts the children (OTP's count_children).
func (s *Supervisor) CountChildren() (Counts, error) {
	r, err := s.do(func(st *sup) any {
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
		return n
	})
	if err != nil {
		return Counts{}, err
	}
	return r.(Counts), nil
}

// StartChild adds a child at the end (it will be stopped first) and starts
// it (OTP's start_child). It fails with ErrStarted when a running child has
// the ID, ErrPresent when a stopped one has it, an error wrapping
// ErrInvalidSpec for a spec OTP would reject, and a *StartError when the
// start fails (the child is then not added). A start that returns Ignore
// adds the child, not running (a temporary one is not added), and returns
// the zero Pid and no error. Not a restart: it counts against nothing.
//
// On a dynamic supervisor, the ID may be empty (a name <prefix>-<n> not in
// use is made), Start may be nil (the template's), and restart, shutdown,
// type, significant and kind are the template's; ErrMaxChildren when
// MaxChildren children exist.
func (s *Supervisor) StartChild(spec ChildSpec) (Pid, error) {
	return doPid(s, func(st *sup) (Pid, error) { return st.startChild(spec) })
}

// TerminateChild stops a child (OTP's terminate_child) with its shutdown
// setting, and cancels a pending restart of it. Its spec is kept, so
// RestartChild can start it again, except for a temporary child or a dynamic
// supervisor's child, which is removed. ErrNotFound if there is no such
// child; a child that is not running is left as it is. Not a crash: it does
// not count against the intensity, restarts no sibling, and does not trigger
// AutoShutdown.
func (s *Supervisor) TerminateChild(id string) error {
	return doErr(s, func(st *sup) error { return st.terminateChild(id, CauseOperator) })
}

// RestartChild starts a stopped child again (OTP's restart_child):
// ErrRunning if it runs, ErrRestarting if a restart is pending, ErrNotFound,
// ErrDynamic on a dynamic supervisor. A failed start leaves it in the failed
// state and returns a *StartError; Ignore leaves it stopped and returns the
// zero Pid. Not a crash: it counts against nothing and touches no sibling.
func (s *Supervisor) RestartChild(id string) (Pid, error) {
	return doPid(s, func(st *sup) (Pid, error) { return st.restartChild(id) })
}

// DeleteChild removes a stopped child's spec (OTP's delete_child):
// ErrRunning, ErrRestarting, ErrNotFound, ErrDynamic as OTP.
func (s *Supervisor) DeleteChild(id string) error {
	return doErr(s, func(st *sup) error { return st.deleteChild(id) })
}

// UpdateChild changes a child's restart, shutdown and significant in place,
// without touching its process (for reloads; OTP's code_change keeps the pid
// of a child whose id did not change). The new values are checked as a
// spec's are: significant is invalid on a permanent child and under
// AutoShutdown Never (so when a reload turns auto_shutdown off, clear
// significant first, and when it turns it on, SetFlags first).
func (s *Supervisor) UpdateChild(id string, restart RestartType, shutdown ShutdownPolicy, significant bool) error {
	return doErr(s, func(st *sup) error {
		if st.dyn != nil {
			return ErrDynamic
		}
		c := st.byID[id]
		if c == nil {
			return ErrNotFound
		}
		spec := c.spec
		spec.Restart, spec.Shutdown, spec.Significant = restart, shutdown, significant
		if err := checkChild(st.path, &spec, st.flags.AutoShutdown, false); err != nil {
			return err
		}
		c.spec = spec
		return nil
	})
}

// InsertChild adds spec at position pos in start order (0 is first; past the
// end appends) and starts it there (for reloads). It fails as StartChild on
// a taken ID or an invalid spec. A start that fails leaves the child in place
// in the failed state, reports start_failed, and returns a *StartError.
// Not a restart: it counts against nothing and touches no sibling.
func (s *Supervisor) InsertChild(pos int, spec ChildSpec) (Pid, error) {
	return doPid(s, func(st *sup) (Pid, error) { return st.insertChild(pos, spec, CauseReload) })
}

// RemoveChild terminates a child (as TerminateChild) and deletes its spec
// (for reloads). ErrNotFound if there is no such child.
func (s *Supervisor) RemoveChild(id string) error {
	return doErr(s, func(st *sup) error {
		c := st.byID[id]
		if c == nil {
			return ErrNotFound
		}
		st.terminate(c, CauseReload, "")
		st.remove(c)
		return nil
	})
}

// ReplaceChild terminates the child with spec.ID and starts spec at its
// place (for reloads: its kind or arguments changed). A failed start leaves
// it in the failed state and returns a *StartError. Not a restart: it counts
// against nothing and touches no sibling. A child whose restart is pending
// (restarting) only has its spec replaced, and ReplaceChild returns the zero
// Pid: the pending retry starts the new spec, with the siblings its
// strategy stopped.
func (s *Supervisor) ReplaceChild(spec ChildSpec) (Pid, error) {
	return doPid(s, func(st *sup) (Pid, error) {
		if st.dyn != nil {
			return Pid{}, ErrDynamic
		}
		c := st.byID[spec.ID]
		if c == nil {
			return Pid{}, ErrNotFound
		}
		if err := checkChild(st.path, &spec, st.flags.AutoShutdown, false); err != nil {
			return Pid{}, err
		}
		if c.state == StateRestarting {
			// Its restart is pending: the retry starts the new spec,
			// with the siblings its strategy stopped, as the restart
			// would have. Starting it here would leave those stopped.
			c.spec = spec
			return Pid{}, nil
		}
		st.terminate(c, CauseReload, "")
		c.spec = spec
		return st.startFailing(c, CauseReload, "")
	})
}

// Reorder puts the children in the order of ids (which must name each child
// once), without touching them (for reloads).
func (s *Supervisor) Reorder(ids []string) error {
	return doErr(s, func(st *sup) error {
		if st.dyn != nil {
			return ErrDynamic
		}
		if len(ids) != len(st.children) {
			return fmt.Errorf("reorder: %d ids for %d children: %w", len(ids), len(st.children), ErrInvalidSpec)
		}
		out := make([]*child, 0, len(ids))
		seen := make(map[string]bool, len(ids))
		for _, id := range ids {
			c := st.byID[id]
			if c == nil || seen[id] {
				return fmt.Errorf("reorder: %q: %w", id, ErrNotFound)
			}
			seen[id] = true
			out = append(out, c)
		}
		st.children = out
		return nil
	})
}

// SetFlags changes the supervisor's flags in place (for reloads; OTP's
// code_change). The restarts already counted stay counted against the new
// intensity and period. The flags are checked as at start; AutoShutdown
// Never is refused while a child is significant. A dynamic supervisor's
// strategy stays OneForOne.
func (s *Supervisor) SetFlags(f Flags) error {
	return doErr(s, func(st *sup) error {
		if err := checkFlags(st.path, f, st.dyn != nil); err != nil {
			return err
		}
		if f.AutoShutdown == Never {
			for _, c := range st.children {
				if c.spec.Significant {
					return fmt.Errorf("supervisor %s: child %s is significant: bad_combination auto_shutdown never: %w", st.path, c.spec.ID, ErrInvalidSpec)
				}
			}
			if st.dyn != nil && st.dyn.Template.Significant {
				return fmt.Errorf("supervisor %s: template is significant: bad_combination auto_shutdown never: %w", st.path, ErrInvalidSpec)
			}
		}
		st.flags = f
		st.restarts.resize(f.MaxFrequency + 1)
		return nil
	})
}

// SetTemplate changes a dynamic supervisor's template and MaxChildren in
// place (for reloads; OTP's code_change of a simple_one_for_one). As in OTP,
// where dynamic children have no spec of their own, the running children take
// the new restart, shutdown and significant at once and keep their process,
// their Start and their kind; new children use the whole template. A lower
// MaxChildren stops no child. ErrDynamic on a static supervisor.
func (s *Supervisor) SetTemplate(d DynamicSpec) error {
	return doErr(s, func(st *sup) error {
		if st.dyn == nil {
			return ErrDynamic
		}
		if err := checkDynamic(st.path, &d, st.flags.AutoShutdown); err != nil {
			return err
		}
		st.dyn = &d
		for _, c := range st.children {
			c.spec.Restart, c.spec.Shutdown, c.spec.Significant = d.Template.Restart, d.Template.Shutdown, d.Template.Significant
		}
		return nil
	})
}

// Shutdown stops the supervisor as its parent would, and waits for it to
// exit. In order: the supervisor finishes what it is doing, but for a
// child's start in progress (its init or readiness check), which is stopped
// as any child is, with its shutdown setting, and reported terminated (a
// retry still queued is dropped); then it terminates its children one at a time in reverse start order, each with its shutdown
// setting (a nested supervisor stops its own children first: depth first),
// or a dynamic supervisor's all at once with one shared timer; then it exits
// with reason Shutdown and Done is closed. Shutdown waits for all of that,
// including children whose shutdown is Infinity.
//
// If ctx ends first, Shutdown returns ctx.Err() and the supervisor goes on
// stopping in the background; Done says when it is over. Calling Shutdown on
// a supervisor that has exited returns nil at once. A stopped supervisor
// cannot be started again: start a new one with StartSupervisor.
func (s *Supervisor) Shutdown(ctx context.Context) error {
	// An exit signal from anyone but its parent is ignored by a
	// supervisor, as in OTP; stopping is a request. The flag lets a
	// child's start in progress see it at once.
	s.stopAsked.Store(true)
	s.ctl.Send(supRequest{func(st *sup) any { st.stop = true; return nil }, make(chan any, 1)})
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		select {
		case <-s.done: // both ready: it has stopped
			return nil
		default:
			return ctx.Err()
		}
	}
}

// Stop is Shutdown with a timeout instead of a context (Forever waits): it
// reports whether the supervisor has exited.
func (s *Supervisor) Stop(timeout time.Duration) bool {
	ctx := context.Background()
	if timeout >= 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	return s.Shutdown(ctx) == nil
}

// checkFlags checks flags as OTP's check_flags.
func checkFlags(path string, f Flags, dynamic bool) error {
	switch {
	case f.Strategy < OneForOne || f.Strategy > RestForOne:
		return fmt.Errorf("supervisor %s: invalid_strategy %v: %w", path, f.Strategy, ErrInvalidSpec)
	case dynamic && f.Strategy != OneForOne:
		return fmt.Errorf("supervisor %s: a dynamic supervisor's strategy is one_for_one, not %v: %w", path, f.Strategy, ErrInvalidSpec)
	case f.MaxFrequency < 0:
		return fmt.Errorf("supervisor %s: invalid_intensity %d: %w", path, f.MaxFrequency, ErrInvalidSpec)
	case f.Period < 0:
		return fmt.Errorf("supervisor %s: invalid_period %v: %w", path, f.Period, ErrInvalidSpec)
	case f.AutoShutdown < Never || f.AutoShutdown > AllSignificant:
		return fmt.Errorf("supervisor %s: invalid_auto_shutdown %v: %w", path, f.AutoShutdown, ErrInvalidSpec)
	}
	return nil
}

// checkChild checks a child spec as OTP's check_childspec. A dynamic
// supervisor's children may lack an ID and a Start (the template gives
// them).
func checkChild(path string, c *ChildSpec, as AutoShutdown, dynamic bool) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("supervisor %s: child %q: %s: %w", path, c.ID, fmt.Sprintf(format, args...), ErrInvalidSpec)
	}
	switch {
	case c.ID == "" && !dynamic:
		return bad("missing_id")
	case c.Start == nil && !dynamic:
		return bad("missing_start")
	case c.Restart < Permanent || c.Restart > Temporary:
		return bad("invalid_restart_type %v", c.Restart)
	case c.Type != Worker && c.Type != SupervisorChild:
		return bad("invalid_child_type %v", c.Type)
	case c.Shutdown < 0 && c.Shutdown != BrutalKill && c.Shutdown != Infinity:
		return bad("invalid_shutdown %v", time.Duration(c.Shutdown))
	case c.Significant && as == Never:
		return bad("bad_combination auto_shutdown never, significant true")
	case c.Significant && c.Restart == Permanent:
		return bad("bad_combination restart permanent, significant true")
	}
	return nil
}

func checkDynamic(path string, d *DynamicSpec, as AutoShutdown) error {
	if d.MaxChildren < 0 {
		return fmt.Errorf("supervisor %s: max_children %d: %w", path, d.MaxChildren, ErrInvalidSpec)
	}
	return checkChild(path, &d.Template, as, true)
}

// checkSpec checks a supervisor spec as OTP's init does (check_flags,
// check_startspec with duplicate_child_name).
func checkSpec(spec *SupervisorSpec) error {
	if err := checkFlags(spec.Path, spec.Flags, spec.Dynamic != nil); err != nil {
		return err
	}
	if spec.Dynamic != nil {
		if len(spec.Children) > 0 {
			return fmt.Errorf("supervisor %s: a dynamic supervisor starts with no children: %w", spec.Path, ErrInvalidSpec)
		}
		return checkDynamic(spec.Path, spec.Dynamic, spec.AutoShutdown)
	}
	seen := make(map[string]bool, len(spec.Children))
	for i := range spec.Children {
		c := &spec.Children[i]
		if err := checkChild(spec.Path, c, spec.AutoShutdown, false); err != nil {
			return err
		}
		if seen[c.ID] {
			return fmt.Errorf("supervisor %s: duplicate_child_name %q: %w", spec.Path, c.ID, ErrInvalidSpec)
		}
		seen[c.ID] = true
	}
	return nil
}
