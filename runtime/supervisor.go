package runtime

import (
	"context"
	"sync"
	"sync/atomic"
)

// The supervisor's API. Every method that asks something of the supervisor
// is one request (see request) whose operation, as OTP's handle_call
// clauses, is in supervisor_loop.go and runs on the supervisor's goroutine.

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
	if !isClosed(s.started) {
		return nil
	}
	return s.startErr
}

// Reason returns why the supervisor exited, or nil while it runs: Shutdown
// when it was stopped, gave up or shut itself down (auto_shutdown), its
// parent's reason when its parent stopped it, Killed when it was killed.
func (s *Supervisor) Reason() error {
	if !isClosed(s.done) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason
}

// isClosed reports whether ch is closed (ch is only ever closed).
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
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

// supRequest is one request to the supervisor's goroutine: op is carried
// out there, then done (nil for Shutdown's, which nobody waits for) is
// signalled.
type supRequest struct {
	op   interface{ run(*sup) }
	done chan struct{}
}

// call is a request's operation and, once it has run, its answer.
type call[T any] struct {
	op  func(*sup) (T, error)
	v   T
	err error
}

func (c *call[T]) run(st *sup) { c.v, c.err = c.op(st) }

// request has the supervisor's goroutine carry out op, in turn with its
// children's exits and its other requests, and returns op's answer; to is
// s.ctl, or s.query for a read-only op that is answered during a child's
// start too (see supervisor_start.go). If the supervisor exits first,
// request returns ErrNoSupervisor: no caller waits for ever on a supervisor
// that is stopping.
func request[T any](s *Supervisor, to Subject[supRequest], op func(*sup) (T, error)) (T, error) {
	c := &call[T]{op: op}
	done := make(chan struct{}, 1)
	to.Send(supRequest{c, done})
	select {
	case <-done:
		return c.v, c.err
	case <-s.done:
		select {
		case <-done: // it answered just before it exited
			return c.v, c.err
		default:
			var zero T
			return zero, ErrNoSupervisor
		}
	}
}

// none is the answer of an operation that answers only an error.
type none = struct{}

// errOf is the error of an answer.
func errOf[T any](_ T, err error) error { return err }

// WhichChildren lists the children as OTP's which_children does: in reverse
// start order (the last started first), which is the order they would be
// stopped in. Snapshot lists them in start order. Unlike Snapshot, it
// waits for a child's start in progress (it is in order with the
// supervisor's other requests and its children's exits, as in OTP).
func (s *Supervisor) WhichChildren() ([]ChildInfo, error) {
	return request(s, s.ctl, (*sup).whichChildren)
}

// CountChildren counts the children (OTP's count_children).
func (s *Supervisor) CountChildren() (Counts, error) { return request(s, s.ctl, (*sup).countChildren) }

// Snapshot returns the supervisor's subtree as it is now, in start order,
// nested supervisors included. It answers while a child starts: that child
// is StateStarting, with its process once it exists (a nested supervisor
// being started shows its own start). Each supervisor's own part is
// consistent (it is taken by its goroutine between two messages); the
// nested supervisors' parts are taken right after, one by one, so that no
// supervisor waits for another.
func (s *Supervisor) Snapshot() (SupervisorSnapshot, error) {
	return withNested(request(s, s.query, (*sup).snapshot))
}

// withNested fills in the snapshots of out's running nested supervisors.
func withNested(out SupervisorSnapshot, err error) (SupervisorSnapshot, error) {
	for i := range out.Children {
		c := &out.Children[i]
		if c.Pid.IsZero() || c.Type != SupervisorChild {
			continue
		}
		if nested, ok := SupervisorOf(c.Pid); ok {
			if ns, err := nested.Snapshot(); err == nil {
				c.Supervisor = &ns
			}
		}
	}
	return out, err
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
	return request(s, s.ctl, func(st *sup) (Pid, error) { return st.startChild(spec) })
}

// TerminateChild stops a child (OTP's terminate_child) with its shutdown
// setting, and cancels a pending restart of it. Its spec is kept, so
// RestartChild can start it again, except for a temporary child or a dynamic
// supervisor's child, which is removed. ErrNotFound if there is no such
// child; a child that is not running is left as it is. Not a crash: it does
// not count against the intensity, restarts no sibling, and does not trigger
// AutoShutdown.
func (s *Supervisor) TerminateChild(id string) error {
	return errOf(request(s, s.ctl, func(st *sup) (none, error) { return none{}, st.terminateChild(id) }))
}

// RestartChild starts a stopped child again (OTP's restart_child):
// ErrRunning if it runs, ErrRestarting if a restart is pending, ErrNotFound,
// ErrDynamic on a dynamic supervisor. A failed start leaves it in the failed
// state and returns a *StartError; Ignore leaves it stopped and returns the
// zero Pid. Not a crash: it counts against nothing and touches no sibling.
func (s *Supervisor) RestartChild(id string) (Pid, error) {
	return request(s, s.ctl, func(st *sup) (Pid, error) { return st.restartChild(id) })
}

// DeleteChild removes a stopped child's spec (OTP's delete_child):
// ErrRunning, ErrRestarting, ErrNotFound, ErrDynamic as OTP.
func (s *Supervisor) DeleteChild(id string) error {
	return errOf(request(s, s.ctl, func(st *sup) (none, error) { return none{}, st.deleteChild(id) }))
}

// Apply makes one Change to the running supervisor, in place (for reloads),
// and returns the process it started, if any (InsertChild, ReplaceChild).
// A change is not a restart: it counts against nothing and touches no
// sibling. Each Change type says how it fails.
func (s *Supervisor) Apply(c Change) (Pid, error) { return request(s, s.ctl, c.apply) }

// Shutdown stops the supervisor as its parent would, and waits for it to
// exit. In order: the supervisor finishes what it is doing, but for a
// child's start in progress (its init or readiness check), which is stopped
// as any child is, with its shutdown setting, and reported terminated (a
// retry still queued is dropped); then it terminates its children one at a
// time in reverse start order, each with its shutdown setting (a nested
// supervisor stops its own children first: depth first), or a dynamic
// supervisor's all at once with one shared timer; then it exits with reason
// Shutdown and Done is closed. Shutdown waits for all of that, including
// children whose shutdown is Infinity.
//
// If ctx ends first, Shutdown returns ctx.Err() and the supervisor goes on
// stopping in the background; Done says when it is over (so a ctx that has
// already ended asks it to stop and returns at once). Calling Shutdown on a
// supervisor that has exited returns nil at once. A stopped supervisor
// cannot be started again: start a new one with StartSupervisor.
func (s *Supervisor) Shutdown(ctx context.Context) error {
	// An exit signal from anyone but its parent is ignored by a
	// supervisor, as in OTP; stopping is a request, which nobody waits
	// for but Done. The flag lets a child's start in progress see it at
	// once.
	s.stopAsked.Store(true)
	s.ctl.Send(supRequest{op: askStop{}})
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		if isClosed(s.done) { // both ready: it has stopped
			return nil
		}
		return ctx.Err()
	}
}
