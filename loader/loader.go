package loader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/spec"
	"github.com/otpctl/otpctl/workers"
)

// Options configure a running tree. The zero value is usable.
type Options struct {
	// Registry resolves the tree's kinds. Default: workers.Default.
	Registry *workers.Registry
	// Clock is the tree's clock: event times, timeouts and every
	// supervisor's restart intensity read it. Default: runtime.RealClock.
	Clock runtime.Clock
	// Events receives every event of the tree, one at a time (never two
	// at once), in the order each supervisor emits them. It runs on a
	// supervisor's goroutine: it must not block. Nil drops them.
	Events func(live.Event)
	// Log is where workers write what they have to say (an exec worker's
	// output lines, a ticker's heartbeat); each worker gets
	// Log.With("path", PATH). Default: slog.Default().
	Log *slog.Logger
	// Files is how ReloadFile (and so the watcher, SIGHUP and
	// `otpctl reload`) reads the tree files again: `otpctl run` sets
	// SafeFiles when it runs as root, as it read them at start. Default:
	// spec.Load's checks alone.
	Files spec.LoadOptions
	// Reloading, if not nil, is called when a reload begins (ReloadFile
	// or Reload, once the tree is up and while it has not stopped), before
	// the files are read (a watcher's reload reads them again then, to
	// check the load it made while it waited; see Watch); the function it
	// returns, if not nil, is called
	// when that reload is over, applied or refused. Both run on the
	// goroutine that reloads, one reload at a time, and must return
	// promptly. `otpctl run` tells systemd with them (RELOADING=1, then
	// READY=1). Default: nil.
	Reloading func() (done func())
}

// Running is a tree started from a spec.Tree: the root supervisor and
// everything under it, steered by path. Its methods are safe for concurrent
// use. A stopped tree cannot be started again; Start a new one.
type Running struct {
	reg       *workers.Registry
	files     spec.LoadOptions
	reloading func() func()
	clock     runtime.Clock
	log       *slog.Logger
	events    func(live.Event)
	rootPath  string
	root      *runtime.Supervisor
	started   time.Time

	cur atomic.Pointer[current]

	mu    sync.Mutex
	insts map[runtime.Pid]*instance // live workers
	sups  map[runtime.Pid]*current  // live nested supervisors, with the spec each was started from
	pools map[runtime.Pid]*pool     // live pools, by their supervisor's pid (in sups too)
	dyn   map[string]int            // dynamic supervisor path -> last generated child number

	evMu sync.Mutex // serializes events

	logs logs // the kept output lines of each worker path

	reloadMu sync.Mutex // one reload at a time

	sigMu   sync.Mutex
	specSig chan struct{} // closed and replaced by setSpec

	// sigExits is, per supervisor path, the latest exit of a significant
	// child of that supervisor's current run: what set off its
	// auto_shutdown, if it shut down (see AutoShutdownCause).
	exitMu   sync.Mutex
	sigExits map[string]sigExit

	stopping atomic.Bool // Shutdown or Halt was asked for
	ending   atomic.Bool // the root stops its children by itself (auto_shutdown)
	halted   atomic.Bool
	gaveUp   atomic.Bool
	up       chan struct{} // closed once the start is over (startErr says how)
	startErr error
	done     chan struct{}
}

// current is the running spec and its supervisors by path (the nodes the
// running tree looks up: a worker's spec is in its supervisor's child
// specs).
type current struct {
	tree *spec.Tree
	sups map[string]*spec.Node
}

// Start builds tree on the runtime and starts it: the root supervisor
// starts its children in order, each start complete (the worker's init or
// readiness check returned, the nested supervisor's children all started)
// before the next begins, depth first.
//
// If a child fails to start, its started siblings are stopped in reverse
// order, nothing is left running, and the error is the *runtime.StartError
// of the deepest node that failed: its Path and Reason name the culprit
// ("shop/workers/w1 failed to start: …"), not the supervisors above it.
//
// ctx bounds the start only: if it ends before the tree is up, the tree is
// stopped as Shutdown stops it (the child being started is stopped too) and
// Start returns ctx.Err(). The running tree outlives ctx; stop it with
// Shutdown.
func Start(ctx context.Context, tree *spec.Tree, opts Options) (*Running, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r, err := Begin(tree, opts)
	if err != nil {
		return nil, err
	}
	select {
	case <-r.up:
	case <-ctx.Done():
		r.Shutdown(context.Background())
		<-r.up
		if r.startErr == nil || r.stopping.Load() {
			return nil, ctx.Err()
		}
	}
	if r.startErr != nil {
		return nil, r.startErr
	}
	return r, nil
}

// Begin starts tree as Start does, but returns as soon as the root
// supervisor runs, while it starts the children in order: the tree can be
// snapshotted meanwhile (the node being started is runtime.StateStarting,
// the root too until the start is over), Shutdown stops it (the child being
// started is stopped as any child, then the started ones in reverse order)
// and Halt kills it. Up is closed once the start is over; StartErr then
// says how it went. Steering and reloads wait until then. Begin itself fails
// only on a tree it cannot build (an unknown kind, bad args).
func Begin(tree *spec.Tree, opts Options) (*Running, error) {
	if tree == nil || tree.Root == nil || tree.Root.Supervisor == nil {
		return nil, errors.New("loader: the tree has no root supervisor")
	}
	r := &Running{
		reg: opts.Registry, files: opts.Files, reloading: opts.Reloading, clock: opts.Clock, log: opts.Log, events: opts.Events,
		rootPath: tree.Root.Path,
		insts:    map[runtime.Pid]*instance{},
		sups:     map[runtime.Pid]*current{},
		pools:    map[runtime.Pid]*pool{},
		dyn:      map[string]int{},
		sigExits: map[string]sigExit{},
		up:       make(chan struct{}),
		done:     make(chan struct{}),
		specSig:  make(chan struct{}),
	}
	if r.reg == nil {
		r.reg = workers.Default
	}
	if r.clock == nil {
		r.clock = runtime.RealClock
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	r.setSpec(tree)
	if err := r.check(tree.Root); err != nil {
		return nil, err
	}
	ss, err := r.supervisorSpec(tree.Root)
	if err != nil {
		return nil, err
	}

	began := r.clock.Now()
	root, err := runtime.SpawnSupervisor(ss, runtime.WithClock(r.clock))
	if err != nil {
		return nil, err
	}
	r.root = root
	go r.watch(kindOf(tree.Root), began)
	return r, nil
}

// Up is closed once the tree's start is over: every node has started, or
// one failed to, or the tree was stopped while it started. See StartErr.
func (r *Running) Up() <-chan struct{} { return r.up }

// StartErr returns nil while the tree starts and once it is up. After a
// failed start it is the *runtime.StartError of the deepest node that
// failed (as Start returns); after a stop during the start (Shutdown, Halt)
// an error saying so. Done is closed too then.
func (r *Running) StartErr() error {
	select {
	case <-r.up:
		return r.startErr
	default:
		return nil
	}
}

// isUp reports whether the tree has started all its nodes.
func (r *Running) isUp() bool {
	select {
	case <-r.up:
		return r.startErr == nil
	default:
		return false
	}
}

// deepest returns the innermost *runtime.StartError in err's chain: the
// node that really failed, not the supervisors whose start failed with it.
func deepest(err error) error {
	var se *runtime.StartError
	if !errors.As(err, &se) {
		return err
	}
	for {
		var inner *runtime.StartError
		if !errors.As(se.Reason, &inner) {
			return se
		}
		se = inner
	}
}

// watch reports the end of the root's start (which began at began), then waits for the root to
// exit and reports it.
func (r *Running) watch(kind string, began time.Time) {
	<-r.root.Started()
	if err := r.root.StartErr(); err != nil {
		err = deepest(err)
		if r.stopping.Load() {
			err = fmt.Errorf("the tree %s was stopped while it started: %w", r.rootPath, err)
		}
		r.startErr = err
		close(r.up)
		<-r.root.Done()
		if r.stopping.Load() {
			r.emit(live.Event{Type: runtime.EventTerminated, Time: r.clock.Now(), Path: r.rootPath, Kind: kind, Proc: r.root.Pid(),
				Reason: ReasonText(r.root.Reason()), Err: r.root.Reason(), Cause: runtime.CauseShutdown})
		}
		r.forget()
		return
	}
	r.started = r.clock.Now()
	r.emit(live.Event{Type: runtime.EventStarted, Time: r.started, Path: r.rootPath, Kind: kind, Proc: r.root.Pid(), Cause: runtime.CauseBoot,
		StartedIn: r.started.Sub(began)})
	close(r.up)
	<-r.root.Done()
	reason := r.root.Reason()
	e := live.Event{Time: r.clock.Now(), Path: r.rootPath, Kind: kind, Proc: r.root.Pid(), Reason: ReasonText(reason), Err: reason}
	if r.stopping.Load() {
		e.Type, e.Cause = runtime.EventTerminated, runtime.CauseShutdown
	} else {
		e.Type = runtime.EventExited
	}
	r.emit(e)
	r.forget()
}

// forget drops what the stopped tree kept and closes Done.
func (r *Running) forget() {
	r.mu.Lock()
	clear(r.insts)
	clear(r.sups)
	clear(r.pools)
	r.mu.Unlock()
	close(r.done)
}

// Done is closed when the tree has stopped: the root supervisor has
// exited, after its children, and its last event has been emitted.
func (r *Running) Done() <-chan struct{} { return r.done }

// Reason returns why the root supervisor exited (runtime.Shutdown when it
// was stopped, gave up or shut down automatically; runtime.Killed after
// Halt), or nil while it runs.
func (r *Running) Reason() error {
	select {
	case <-r.done:
		return r.root.Reason()
	default:
		return nil
	}
}

// GaveUp reports whether the root supervisor passed its restart intensity
// (`otpctl run` then exits with status 3).
func (r *Running) GaveUp() bool { return r.gaveUp.Load() }

// Stopping reports whether the tree is stopping or has stopped: Shutdown
// or Halt was called, the root supervisor gave up or shuts down by itself
// (auto_shutdown: from its first child's termination on), or it has
// exited.
func (r *Running) Stopping() bool {
	select {
	case <-r.done:
		return true
	default:
		return r.stopping.Load() || r.gaveUp.Load() || r.ending.Load()
	}
}

// Halted reports whether Halt was called.
func (r *Running) Halted() bool { return r.halted.Load() }

// Path returns the root's path: the tree's name.
func (r *Running) Path() string { return r.rootPath }

// Shutdown stops the tree in order, as OTP stops an application: the root
// supervisor terminates its children in reverse start order, depth first,
// each within its own shutdown setting (a worker past its timeout is
// killed; infinity waits), then exits with shutdown. Shutdown returns when
// the tree has stopped (Done is closed), or when ctx ends: it then returns
// ctx.Err() and the tree goes on stopping; call Halt to end it at once.
// Calling it again, or after the tree stopped, is harmless.
func (r *Running) Shutdown(ctx context.Context) error {
	r.stopping.Store(true)
	r.root.Shutdown(asked) // asks, and returns at once
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Halt kills the whole tree at once (the second interrupt): every
// supervisor, so that none restarts anything, then every worker, with
// reason killed (an exec worker's process group gets SIGKILL), without
// waiting for shutdown timeouts. It returns
// without waiting; Done is closed once the root's goroutine has unwound
// (at once, unless a kind's start is running on it: Go cannot interrupt
// that). An in-process worker whose goroutine runs outside the runtime is
// abandoned, as runtime.Exit documents.
func (r *Running) Halt() {
	r.stopping.Store(true)
	r.halted.Store(true)
	r.mu.Lock()
	pids := make([]runtime.Pid, 0, len(r.insts))
	for pid := range r.insts {
		pids = append(pids, pid)
	}
	sups := make([]runtime.Pid, 0, len(r.sups))
	for pid := range r.sups {
		sups = append(sups, pid)
	}
	r.mu.Unlock()
	// Supervisors first, so that none restarts what is being killed.
	runtime.Exit(r.root.Pid(), runtime.Killed)
	for _, pid := range sups {
		runtime.Exit(pid, runtime.Killed)
	}
	for _, pid := range pids {
		runtime.Exit(pid, runtime.Killed)
	}
}

// Spec returns the tree as it runs now: the one Start was given, or the
// last one a reload recorded.
func (r *Running) Spec() *spec.Tree { return r.cur.Load().tree }

// setSpec records t as the tree that runs now. A reload calls it before it
// applies its plan, so that every start from then on (a nested supervisor
// restarted by its parent rebuilds its children from the running spec)
// follows t. It changes nothing that runs: applying the plan is the
// reload's work (see applier). t's root path must be the running root's.
func (r *Running) setSpec(t *spec.Tree) {
	c := &current{tree: t, sups: map[string]*spec.Node{}}
	var index func(n *spec.Node)
	index = func(n *spec.Node) {
		c.sups[n.Path] = n
		for _, k := range n.Supervisor.Children {
			if k.Supervisor != nil {
				index(k)
			}
		}
	}
	index(t.Root)
	r.cur.Store(c)
	r.sigMu.Lock()
	close(r.specSig)
	r.specSig = make(chan struct{})
	r.sigMu.Unlock()
}

// closed is a channel that is always ready.
var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// asked is a context that has ended: Shutdown(asked) asks a supervisor to
// stop and returns at once.
var asked = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// specChanged returns a channel that is closed once Spec is not seen.
func (r *Running) specChanged(seen *spec.Tree) <-chan struct{} {
	r.sigMu.Lock()
	defer r.sigMu.Unlock()
	if r.Spec() != seen {
		return closed
	}
	return r.specSig
}

// node returns the running spec's supervisor at path, or nil.
func (r *Running) node(path string) *spec.Node { return r.cur.Load().sups[path] }

// Emit sends e to the tree's event stream (Options.Events), stamping its
// Time from the tree's clock when it is zero. The reload reports itself
// with it (EventReload, EventReloadFailed).
func (r *Running) Emit(e live.Event) {
	if e.Time.IsZero() {
		e.Time = r.clock.Now()
	}
	r.emit(e)
}

func (r *Running) emit(e live.Event) {
	if r.events == nil {
		return
	}
	if !e.Proc.IsZero() {
		e.Pid = e.Proc.String()
	}
	r.evMu.Lock()
	defer r.evMu.Unlock()
	r.events(e)
}

// onEvent is every supervisor's runtime event hook. It runs on the
// supervisor's goroutine.
func (r *Running) onEvent(re runtime.Event) {
	e := live.Event{
		Type: re.Type, Time: re.Time, Path: re.Path, Kind: re.Kind, Proc: re.Pid,
		Reason: ReasonText(re.Reason), Err: re.Reason, Cause: re.Cause, Trigger: re.Trigger, NotStopped: re.NotStopped,
		Restart: re.Restart, StartedIn: re.StartedIn,
	}
	r.mu.Lock()
	if inst := r.insts[re.Pid]; inst != nil && !re.Pid.IsZero() {
		e.OSPid = inst.OSPid
	}
	switch re.Type {
	case runtime.EventExited, runtime.EventTerminated:
		delete(r.insts, re.Pid)
		delete(r.sups, re.Pid)
		delete(r.pools, re.Pid)
	}
	r.mu.Unlock()
	if re.Type == runtime.EventExited || re.Type == runtime.EventTerminated {
		r.logs.exited(re.Path)
	}
	r.noteEnding(re)
	if re.Type == runtime.EventGiveUp && re.Path == r.rootPath {
		r.gaveUp.Store(true)
	}
	r.emit(e)
}
