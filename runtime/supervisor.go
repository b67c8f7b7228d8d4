package runtime

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// Strategy is how a supervisor restarts children (OTP's restart strategies).
type Strategy int

const (
	// OneForOne restarts only the child that exited. The default.
	OneForOne Strategy = iota
	// OneForAll terminates every other child in reverse start order, then
	// starts them all again in order.
	OneForAll
	// RestForOne terminates the children started after the one that exited,
	// in reverse order, then starts it and them again in order.
	RestForOne
)

var strategyNames = [...]string{"one_for_one", "one_for_all", "rest_for_one"}

// String returns OTP's name: one_for_one, one_for_all, rest_for_one.
func (s Strategy) String() string {
	if int(s) < len(strategyNames) {
		return strategyNames[s]
	}
	return fmt.Sprintf("Strategy(%d)", int(s))
}

// RestartType says when a child is restarted (OTP's restart).
type RestartType int

const (
	// Permanent children are always restarted. The default.
	Permanent RestartType = iota
	// Transient children are restarted only after an abnormal exit (not
	// Normal or Shutdown).
	Transient
	// Temporary children are never restarted, and are removed from the
	// supervisor when they exit or are terminated by a sibling's restart.
	Temporary
)

var restartNames = [...]string{"permanent", "transient", "temporary"}

// String returns OTP's name: permanent, transient, temporary.
func (r RestartType) String() string {
	if int(r) < len(restartNames) {
		return restartNames[r]
	}
	return fmt.Sprintf("RestartType(%d)", int(r))
}

// ShutdownPolicy is how a child is stopped (OTP's shutdown): a timeout to wait after asking it to
// stop (exit signal Shutdown) before killing it, or BrutalKill, or Infinity.
// The zero value is the default: 5s for a worker, Infinity for a supervisor
// (OTP's defaults).
//
// Go cannot kill a goroutine: killing an in-process child marks it dead,
// fires its links and monitors and abandons its goroutine until it next calls
// the runtime; the terminated event then says NotStopped. An OS process is
// really killed by its worker.
type ShutdownPolicy time.Duration

const (
	// BrutalKill kills the child at once (exit signal Killed).
	BrutalKill ShutdownPolicy = -2
	// Infinity asks the child to stop and waits as long as it takes.
	Infinity ShutdownPolicy = ShutdownPolicy(Forever)
	// DefaultWorkerShutdown is the shutdown of a worker that sets none.
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
	// Worker is a leaf. The default.
	Worker ChildType = iota
	// SupervisorChild is a nested supervisor.
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
	// Never: significant children are not allowed. The default.
	Never AutoShutdown = iota
	// AnySignificant: the supervisor shuts down when any significant child
	// exits by itself (and is not restarted).
	AnySignificant
	// AllSignificant: it shuts down when the last running significant child
	// exits by itself.
	AllSignificant
)

var autoShutdownNames = [...]string{"never", "any_significant", "all_significant"}

// String returns OTP's name.
func (a AutoShutdown) String() string {
	if int(a) < len(autoShutdownNames) {
		return autoShutdownNames[a]
	}
	return fmt.Sprintf("AutoShutdown(%d)", int(a))
}

// Flags are a supervisor's flags.
type Flags struct {
	Strategy Strategy
	// MaxFrequency is OTP's intensity: more than this many restarts within
	// Period and the supervisor gives up: it terminates its children and
	// exits with Shutdown. Zero allows no restart at all (OTP's default is 1:
	// see DefaultFlags).
	MaxFrequency int
	// Period is the window for MaxFrequency (zero: 5s, OTP's default).
	// Unlike OTP, which counts in whole seconds, the window is measured on
	// the clock's full precision; a restart exactly Period ago still counts.
	Period       time.Duration
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
	// ID names the child among its siblings; its path is the supervisor's
	// path, "/", and the ID.
	ID string
	// Start starts the child linked to parent (the supervisor's process)
	// and returns when it is ready, as OTP's start functions do. An error
	// fails the start.
	Start func(parent *Process) (Pid, error)
	// Restart, Shutdown, Type and Significant are as in OTP.
	Restart     RestartType
	Shutdown    ShutdownPolicy
	Type        ChildType
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

// DynamicSpec makes a supervisor dynamic (OTP's simple_one_for_one): it
// starts with no children and starts them at run time from one template,
// with no ordering between them; on shutdown they are all asked to stop at
// once.
type DynamicSpec struct {
	// Template gives the children's restart, shutdown, type and kind. Its
	// ID is the prefix of generated names (<prefix>-<n>); its Start is used
	// when StartChild gets no Start of its own.
	Template ChildSpec
	// MaxChildren limits the number of children (zero: no limit).
	MaxChildren int
}

// SupervisorSpec describes a supervisor.
type SupervisorSpec struct {
	Flags
	// Path names the supervisor in events and snapshots ("shop",
	// "shop/workers"); children's paths are Path/ID.
	Path     string
	Children []ChildSpec
	// Dynamic, when set, makes the supervisor dynamic; Children must then
	// be empty and Strategy is one_for_one.
	Dynamic *DynamicSpec
	// Events receives every lifecycle event of the supervisor's children.
	// It runs on the supervisor's goroutine and must not block; nil drops
	// them.
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

// Event is one lifecycle event of a supervised child.
type Event struct {
	Type   EventType
	Time   time.Time
	Path   string // the child's path (the supervisor's own for give_up)
	Kind   string
	Pid    Pid
	Reason error // for exited, terminated, start_failed and give_up
	// Cause and Trigger say why a started or terminated happened: Trigger
	// is the path whose exit set it off (empty for boot, operator, reload
	// and shutdown).
	Cause   Cause
	Trigger string
	// NotStopped is set on a terminated in-process child that was killed
	// while its goroutine was running: it is abandoned, not stopped.
	NotStopped bool
}

// ChildState is a child's state in a snapshot.
type ChildState string

// The states.
const (
	StateRunning    ChildState = "running"
	StateRestarting ChildState = "restarting" // its restart failed; it is being retried
	StateStopped    ChildState = "stopped"    // not running: terminated, or exited and not restarted
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
)

// StartError is a child's failure to start: the supervisor's start (or a
// start_child) fails with it.
type StartError struct {
	Path   string
	Reason error
}

// Error names the child and the reason.
func (e *StartError) Error() string { return fmt.Sprintf("%s failed to start: %v", e.Path, e.Reason) }

// Unwrap returns the reason.
func (e *StartError) Unwrap() error { return e.Reason }

// Supervisor is a handle on a running supervisor. Its methods are safe from
// any goroutine; each is carried out by the supervisor's own goroutine, and
// returns ErrNoSupervisor if the supervisor exits first.
type Supervisor struct {
	pid  Pid
	ctl  Subject[supRequest]
	done chan struct{}
	path string

	mu      sync.Mutex
	reason  error
	cause   Cause // what the supervisor is doing now, read by nested supervisors
	trigger string
}

// Pid returns the supervisor's process.
func (s *Supervisor) Pid() Pid { return s.pid }

// Path returns the supervisor's path.
func (s *Supervisor) Path() string { return s.path }

// Done is closed when the supervisor has exited (after its children).
func (s *Supervisor) Done() <-chan struct{} { return s.done }

// Reason returns why the supervisor exited, or nil while it runs.
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
func (s *Supervisor) do(fn func(*sup) any) (any, error) {
	reply := make(chan any, 1)
	s.ctl.Send(supRequest{fn, reply})
	select {
	case r := <-reply:
		return r, nil
	case <-s.done:
		return nil, ErrNoSupervisor
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

// WhichChildren lists the children in start order (OTP's which_children).
func (s *Supervisor) WhichChildren() ([]ChildInfo, error) {
	r, err := s.do(func(st *sup) any {
		out := make([]ChildInfo, 0, len(st.children))
		for _, c := range st.children {
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
	Specs, Active, Supervisors, Workers int
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
		return n
	})
	if err != nil {
		return Counts{}, err
	}
	return r.(Counts), nil
}

// StartChild adds a child at the end and starts it (OTP's start_child). It
// fails with ErrStarted or ErrPresent when the ID is in use, and with a
// *StartError (the child is then not added) when its start fails. On a
// dynamic supervisor, the ID may be empty (a name <prefix>-<n> is made),
// Start may be nil (the template's), and restart, shutdown, type and kind are
// the template's.
func (s *Supervisor) StartChild(spec ChildSpec) (Pid, error) {
	return doPid(s, func(st *sup) (Pid, error) { return st.startChild(spec) })
}

// TerminateChild stops a child (OTP's terminate_child). Its spec is kept,
// so RestartChild can start it again, except for a temporary child or a
// dynamic supervisor's child, which is removed. Not a crash: it does not
// count against the intensity and restarts no sibling.
func (s *Supervisor) TerminateChild(id string) error {
	return doErr(s, func(st *sup) error { return st.terminateChild(id, CauseOperator) })
}

// RestartChild starts a stopped child again (OTP's restart_child): ErrRunning
// if it runs, ErrRestarting if a restart is pending, ErrNotFound.
func (s *Supervisor) RestartChild(id string) (Pid, error) {
	return doPid(s, func(st *sup) (Pid, error) { return st.restartChild(id) })
}

// DeleteChild removes a stopped child's spec (OTP's delete_child).
func (s *Supervisor) DeleteChild(id string) error {
	return doErr(s, func(st *sup) error { return st.deleteChild(id) })
}

// UpdateChild changes a child's restart, shutdown and significant in place,
// without touching the running process (for reloads).
func (s *Supervisor) UpdateChild(id string, restart RestartType, shutdown ShutdownPolicy, significant bool) error {
	return doErr(s, func(st *sup) error {
		c := st.byID[id]
		if c == nil {
			return ErrNotFound
		}
		c.spec.Restart, c.spec.Shutdown, c.spec.Significant = restart, shutdown, significant
		return nil
	})
}

// InsertChild adds spec at position pos (0 is first; past the end appends)
// and starts it there (for reloads). A start that fails leaves the child in
// place in the failed state, reports start_failed, and returns the error.
func (s *Supervisor) InsertChild(pos int, spec ChildSpec) (Pid, error) {
	return doPid(s, func(st *sup) (Pid, error) { return st.insertChild(pos, spec, CauseReload) })
}

// RemoveChild terminates a child and deletes its spec (for reloads).
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
// it in the failed state and returns the error.
func (s *Supervisor) ReplaceChild(spec ChildSpec) (Pid, error) {
	return doPid(s, func(st *sup) (Pid, error) {
		c := st.byID[spec.ID]
		if c == nil {
			return Pid{}, ErrNotFound
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
		if len(ids) != len(st.children) {
			return fmt.Errorf("reorder: %d ids for %d children", len(ids), len(st.children))
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

// SetFlags changes the supervisor's flags in place (for reloads). The
// restarts already counted stay counted against the new intensity.
func (s *Supervisor) SetFlags(f Flags) error {
	return doErr(s, func(st *sup) error {
		if st.dyn != nil && f.Strategy != OneForOne {
			return ErrDynamic
		}
		st.flags = f
		st.restarts.resize(f.MaxFrequency + 1)
		return nil
	})
}

// Stop stops the supervisor as its parent would: its children are terminated
// in reverse start order (depth first, each with its shutdown setting) and it
// exits with Shutdown. Stop returns when it has exited, or when timeout
// passes (Forever waits); it reports whether the supervisor has exited. A
// stopped supervisor cannot be started again; start a new one.
func (s *Supervisor) Stop(timeout time.Duration) bool {
	// An exit signal from anyone but its parent is ignored by a
	// supervisor, as in OTP; stopping is a request.
	s.ctl.Send(supRequest{func(st *sup) any { st.stop = true; return nil }, make(chan any, 1)})
	if timeout < 0 {
		<-s.done
		return true
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-s.done:
		return true
	case <-t.C:
		return false
	}
}
