package runtime

import (
	"errors"
	"fmt"
	"time"
)

// The supervisor's model: the enums and specs of OTP's supervisor
// (strategy, restart, shutdown, child_spec, sup_flags), its events and
// errors, what its API answers (ChildInfo, Counts, SupervisorSnapshot), and
// the reload's Change values. The API is in supervisor.go, the checks of a
// spec in supervisor_check.go, and what the supervisor does with them in
// supervisor_loop.go.

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
func (s Strategy) String() string { return enumName(strategyNames[:], "Strategy", int(s)) }

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
func (r RestartType) String() string { return enumName(restartNames[:], "RestartType", int(r)) }

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

// String returns OTP's name: never, any_significant, all_significant.
func (a AutoShutdown) String() string {
	return enumName(autoShutdownNames[:], "AutoShutdown", int(a))
}

// enumName is OTP's name of the value v of an enum whose names are names,
// or TYPE(v) for a value out of range.
func enumName(names []string, typ string, v int) string {
	if v >= 0 && v < len(names) {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", typ, v)
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
	// (RestartChild, Apply, ...) do not count, as in OTP.
	MaxFrequency int
	// Period is the window of MaxFrequency. Default (zero): 5s, as in OTP.
	// Unlike OTP, which counts whole seconds, the window is measured at the
	// clock's full precision; a restart exactly Period ago still counts, as
	// OTP's `R >= Now - Period`. Only the last MaxFrequency+1 restart times
	// are kept, so counting is constant time whatever the restart rate.
	Period time.Duration
	// AutoShutdown is OTP's auto_shutdown. Default (zero): Never.
	AutoShutdown AutoShutdown
	// Backoff is the restart backoff of the children that set none (its
	// direct children only, not theirs). Default (zero): none, OTP's
	// restarts at once. See Backoff.
	Backoff Backoff
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
	// Backoff delays its restarts. Default (zero): the supervisor's
	// Flags.Backoff. See Backoff.
	Backoff Backoff
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
	// Rand returns the numbers in [0,1) that jitter a backoff's delays;
	// nil: a generator seeded at random. Tests pin it.
	Rand func() float64
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

// counted reports whether a restart with this cause is one the restart
// intensity counts (crash, sibling, escalation), as ChildSnapshot's
// CrashRestarts counts them; an operator's or a reload's is not.
func (c Cause) counted() bool {
	return c == CauseCrash || c == CauseSibling || c == CauseEscalation
}

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
	StateRestarting ChildState = "restarting" // its restart failed and is being retried, or waits for its backoff
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
// StartChild, RestartChild, or Apply of an InsertChild or ReplaceChild)
// fails with it.
type StartError struct {
	Path   string
	Reason error
}

// Error names the child and the reason.
func (e *StartError) Error() string { return fmt.Sprintf("%s failed to start: %v", e.Path, e.Reason) }

// Unwrap returns the reason.
func (e *StartError) Unwrap() error { return e.Reason }

// ChildInfo is one row of WhichChildren.
type ChildInfo struct {
	ID    string
	Pid   Pid // zero when not running
	State ChildState
	Type  ChildType
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

// SupervisorSnapshot is a picture of a supervisor's subtree, taken without
// stopping it.
type SupervisorSnapshot struct {
	Path        string
	Pid         Pid
	Flags       Flags
	Dynamic     bool
	MaxChildren int // dynamic supervisors only; zero: no limit
	// Taken is the supervisor's clock reading when the picture was taken.
	Taken time.Time
	// Budget is the restart intensity in use: Used restarts inside the
	// current window of Period, against Max (max_frequency).
	Budget   Budget
	Children []ChildSnapshot
}

// Budget is a supervisor's restart budget ("budget 1/3 in 5s").
type Budget struct {
	Used   int
	Max    int
	Period time.Duration
}

// ChildSnapshot is one child in a SupervisorSnapshot.
type ChildSnapshot struct {
	ID          string
	Path        string
	Kind        string
	Type        ChildType
	State       ChildState
	Pid         Pid // zero when not running; a starting child's once it exists
	Restart     RestartType
	Shutdown    ShutdownPolicy // with the default resolved
	Significant bool
	// Restarts counts the starts of this child after its first (by its
	// supervisor, an operator or a reload); LastRestart is the time of the
	// latest (zero if none) and Started the time of the latest start.
	Restarts    int
	LastRestart time.Time
	Started     time.Time
	// CrashRestarts counts those of Restarts whose cause is crash, sibling
	// or escalation: the restarts a supervisor's intensity counts; the
	// others were an operator's or a reload's.
	CrashRestarts int
	// LastExit is the reason its latest process ended with, by itself or
	// stopped by its supervisor (nil if none has ended yet), and LastExitAt
	// when, on the supervisor's clock.
	LastExit   error
	LastExitAt time.Time
	Mailbox    int
	// RestartDue is when the delayed restart of a restarting child
	// starts (its Backoff); zero when none is pending. Backoff is the
	// one in use (its own, or the supervisor's default).
	RestartDue time.Time
	Backoff    Backoff
	// Supervisor is the nested supervisor's own snapshot, for a running
	// supervisor child (nil if it exited while the snapshot was taken).
	Supervisor *SupervisorSnapshot
}

// Change is one change Supervisor.Apply makes to a running supervisor in
// place, for a reload (OTP's code_change, and the terminate_child,
// delete_child and start_child a release upgrade makes): InsertChild,
// RemoveChild, ReplaceChild, UpdateChild, ReorderChildren, SetFlags or
// SetTemplate. None is a restart: none counts against the intensity, and
// none touches a sibling.
type Change interface {
	// apply makes the change on the supervisor's goroutine (see
	// supervisor_loop.go), answering the process it started, if any.
	apply(st *sup) (Pid, error)
}

// InsertChild adds Spec at position Pos in start order (0 is first; past
// the end appends) and starts it there. It fails as StartChild on a taken
// ID or an invalid spec. A start that fails leaves the child in place in
// the failed state, reports start_failed, and returns a *StartError.
// ErrDynamic on a dynamic supervisor.
type InsertChild struct {
	Pos  int
	Spec ChildSpec
	// Cause is what its started (or start_failed) event says; zero:
	// CauseReload. (A pool's Resize by an operator says CauseOperator.)
	Cause Cause
}

// RemoveChild terminates the child ID (as TerminateChild) and deletes its
// spec. ErrNotFound if there is no such child. Cause is what its
// terminated event says; zero: CauseReload.
type RemoveChild struct {
	ID    string
	Cause Cause
}

// ReplaceChild terminates the child with Spec.ID and starts Spec at its
// place (its kind or arguments changed). A failed start leaves it in the
// failed state and returns a *StartError. A child whose restart is pending
// (restarting) only has its spec replaced, and the zero Pid is returned:
// the pending retry starts the new spec, with the siblings its strategy
// stopped. ErrNotFound, ErrDynamic.
type ReplaceChild struct{ Spec ChildSpec }

// UpdateChild changes the child ID's restart, shutdown and significant
// without touching its process (OTP's code_change keeps the pid of a child
// whose id did not change). The new values are checked as a spec's are:
// significant is invalid on a permanent child and under AutoShutdown Never
// (so when a reload turns auto_shutdown off, clear significant first, and
// when it turns it on, SetFlags first). ErrNotFound, ErrDynamic.
//
// Backoff is changed too; a delayed restart already pending keeps its
// time, and the next one uses the new backoff.
type UpdateChild struct {
	ID          string
	Restart     RestartType
	Shutdown    ShutdownPolicy
	Significant bool
	Backoff     Backoff
}

// ReorderChildren puts the children in the order of IDs, which must name
// each child once (an error wrapping ErrInvalidSpec or ErrNotFound if
// not), without touching them. ErrDynamic on a dynamic supervisor.
type ReorderChildren struct{ IDs []string }

// SetFlags changes the supervisor's flags. The restarts already counted
// stay counted against the new intensity and period. The flags are checked
// as at start; AutoShutdown Never is refused while a child is significant.
// A dynamic supervisor's strategy stays OneForOne.
type SetFlags struct{ Flags Flags }

// SetTemplate changes a dynamic supervisor's template and MaxChildren. As
// in OTP, where dynamic children have no spec of their own, the running
// children take the new restart, shutdown and significant at once and keep
// their process, their Start and their kind; new children use the whole
// template. A lower MaxChildren stops no child. ErrDynamic on a static
// supervisor.
type SetTemplate struct{ Dynamic DynamicSpec }
