package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// wait bounds every wait of the supervisor tests (real time).
const wait = 10 * time.Second

// boom (helpers_test.go) and nope are the abnormal reasons of the tests.
var nope = errors.New("nope")

// line renders an event as a trace line: "type path cause <-trigger (reason)",
// leaving out what is empty.
func line(e runtime.Event) string {
	var b strings.Builder
	b.WriteString(string(e.Type))
	b.WriteString(" ")
	b.WriteString(e.Path)
	if e.Cause != "" {
		b.WriteString(" " + string(e.Cause))
	}
	if e.Trigger != "" {
		b.WriteString(" <-" + e.Trigger)
	}
	if e.Reason != nil {
		b.WriteString(" (" + e.Reason.Error() + ")")
	}
	// NotStopped is left out: whether a child's goroutine was parked in
	// the runtime at the instant it was ended depends on timing, except
	// for a stuck child, whose tests check it.
	return b.String()
}

// recorder collects the events of every supervisor of a test, in order.
type recorder struct {
	mu      sync.Mutex
	events  []runtime.Event
	changed chan struct{}
	cursor  int // how far expect has checked
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) hook(e runtime.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func (r *recorder) all() []runtime.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]runtime.Event(nil), r.events...)
}

// waitFor waits until there are at least n events, and returns them.
func (r *recorder) waitFor(t testing.TB, n int) []runtime.Event {
	t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		have, ch := len(r.events), r.changed
		if have >= n {
			out := append([]runtime.Event(nil), r.events...)
			r.mu.Unlock()
			return out
		}
		r.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("waited %v for %d events, have %d:\n%s", wait, n, have, lines(r.all()))
		}
	}
}

func lines(evs []runtime.Event) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString("\t" + line(e) + "\n")
	}
	return b.String()
}

// expect waits for the next len(want) events and checks they are exactly
// want, in order.
func (r *recorder) expect(t testing.TB, want ...string) []runtime.Event {
	t.Helper()
	evs := r.waitFor(t, r.cursor+len(want))
	got := evs[r.cursor : r.cursor+len(want)]
	r.cursor += len(want)
	for i := range want {
		if line(got[i]) != want[i] {
			t.Fatalf("trace differs at %d:\ngot:\n%swant:\n\t%s", i, lines(got), strings.Join(want, "\n\t"))
		}
	}
	return got
}

// expectSet is expect for events whose order is not defined.
func (r *recorder) expectSet(t testing.TB, want ...string) {
	t.Helper()
	evs := r.waitFor(t, r.cursor+len(want))
	got := evs[r.cursor : r.cursor+len(want)]
	r.cursor += len(want)
	count := map[string]int{}
	for _, w := range want {
		count[w]++
	}
	for _, e := range got {
		count[line(e)]--
	}
	for k, n := range count {
		if n != 0 {
			t.Fatalf("event set differs (%q off by %d):\ngot:\n%swant:\n\t%s", k, -n, lines(got), strings.Join(want, "\n\t"))
		}
	}
}

// noMore checks that nothing happened past what expect has checked.
func (r *recorder) noMore(t testing.TB) {
	t.Helper()
	if evs := r.all(); len(evs) > r.cursor {
		t.Fatalf("unexpected events:\n%s", lines(evs[r.cursor:]))
	}
}

// behaviour is how a test child behaves when its supervisor stops it.
type behaviour struct {
	trap      bool          // trap exits (so it stops by itself on Shutdown)
	stopDelay time.Duration // with trap: take this long (fake clock) to stop
	stuck     bool          // with trap: block outside the runtime when asked to stop
}

// tchild is one instance (one start) of a test child.
type tchild struct {
	path   string
	pid    runtime.Pid
	parent runtime.Pid
	cmd    runtime.Subject[error] // the reason to exit with
}

// tree builds supervisor trees of test children and drives them.
type tree struct {
	t     testing.TB
	clock *runtime.FakeClock
	rec   *recorder

	mu        sync.Mutex
	current   map[string]*tchild // path -> the running instance
	instances []*tchild
	sups      map[string]*runtime.Supervisor // path -> the latest supervisor
	fails     map[string][]error             // path -> the results of its next starts
	release   chan struct{}                  // unblocks stuck children
	blocked   chan string                    // a stuck child's path, once it is blocked
	root      *runtime.Supervisor

	dynBehaviour behaviour // of the dynamic root's children
}

func newTree(t testing.TB) *tree {
	tt := &tree{
		t: t, clock: runtime.NewFakeClock(time.Unix(1_000_000, 0)), rec: newRecorder(),
		current: map[string]*tchild{}, sups: map[string]*runtime.Supervisor{},
		fails: map[string][]error{}, release: make(chan struct{}), blocked: make(chan string, 16),
	}
	t.Cleanup(tt.cleanup)
	return tt
}

// node is a child spec under construction; it learns its parent's path.
type node func(parent string) runtime.ChildSpec

// opt sets a field of a child spec or its behaviour.
type opt func(*runtime.ChildSpec, *behaviour)

func restart(r runtime.RestartType) opt {
	return func(c *runtime.ChildSpec, _ *behaviour) { c.Restart = r }
}
func shutdown(s runtime.ShutdownPolicy) opt {
	return func(c *runtime.ChildSpec, _ *behaviour) { c.Shutdown = s }
}
func significant() opt { return func(c *runtime.ChildSpec, _ *behaviour) { c.Significant = true } }
func trapping(delay time.Duration) opt {
	return func(_ *runtime.ChildSpec, b *behaviour) { b.trap, b.stopDelay = true, delay }
}
func stuck() opt { return func(_ *runtime.ChildSpec, b *behaviour) { b.trap, b.stuck = true, true } }

// failNext makes the next starts of path return these errors, one per start.
func (tt *tree) failNext(path string, errs ...error) {
	tt.mu.Lock()
	tt.fails[path] = append(tt.fails[path], errs...)
	tt.mu.Unlock()
}

func (tt *tree) nextFail(path string) error {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if f := tt.fails[path]; len(f) > 0 {
		tt.fails[path] = f[1:]
		return f[0]
	}
	return nil
}

// worker is a test child.
func (tt *tree) worker(id string, opts ...opt) node {
	return func(parent string) runtime.ChildSpec {
		spec := runtime.ChildSpec{ID: id, Kind: "test"}
		var b behaviour
		for _, o := range opts {
			o(&spec, &b)
		}
		spec.Start = tt.startFunc(parent+"/"+id, b)
		return spec
	}
}

// startFunc starts a test child at path.
func (tt *tree) startFunc(path string, b behaviour) func(*runtime.Process) (runtime.Pid, error) {
	return func(parent *runtime.Process) (runtime.Pid, error) {
		if err := tt.nextFail(path); err != nil {
			return runtime.Pid{}, err
		}
		ready := make(chan runtime.Subject[error], 1)
		pid := runtime.SpawnLink(parent, func(p *runtime.Process) { tt.run(p, b, ready) })
		c := &tchild{path: path, pid: pid, parent: parent.Self(), cmd: <-ready}
		tt.mu.Lock()
		tt.current[path] = c
		tt.instances = append(tt.instances, c)
		tt.mu.Unlock()
		return pid, nil
	}
}

// run is a test child's process.
func (tt *tree) run(p *runtime.Process, b behaviour, ready chan<- runtime.Subject[error]) {
	cmd := runtime.NewSubject[error](p)
	p.TrapExits(b.trap)
	ready <- cmd
	type msg struct {
		exit   error
		signal *runtime.ExitMessage
	}
	sel := runtime.Selecting(runtime.NewSelector[msg](), cmd, func(r error) msg { return msg{exit: r} })
	sel.SelectingTrappedExits(func(m runtime.ExitMessage) msg { return msg{signal: &m} })
	for {
		m, _ := sel.Select(p, runtime.Forever)
		reason := m.exit
		if m.signal != nil {
			reason = m.signal.Reason
			if b.stopDelay > 0 {
				p.Sleep(b.stopDelay)
			}
			if b.stuck {
				tt.blocked <- tt.pathOf(p.Self())
				<-tt.release // outside the runtime: a kill cannot reach us
				return
			}
		}
		p.TrapExits(false)
		p.SendExit(p.Self(), reason)
	}
}

func (tt *tree) pathOf(pid runtime.Pid) string {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	for _, c := range tt.instances {
		if c.pid == pid {
			return c.path
		}
	}
	return ""
}

// awaitBlocked waits until the stuck child at path is blocked outside the
// runtime.
func (tt *tree) awaitBlocked(path string) {
	tt.t.Helper()
	select {
	case got := <-tt.blocked:
		if got != path {
			tt.t.Fatalf("%s is stuck, want %s", got, path)
		}
	case <-time.After(wait):
		tt.t.Fatalf("%s did not block", path)
	}
}

// scripted is a test child whose n-th start (from 1) is script(n, ...);
// start is the ordinary start of a test child at that path.
func (tt *tree) scripted(id string, script func(n int, p *runtime.Process, start func() (runtime.Pid, error)) (runtime.Pid, error), opts ...opt) node {
	return func(parent string) runtime.ChildSpec {
		spec := tt.worker(id, opts...)(parent)
		plain := spec.Start
		n := 0
		spec.Start = func(p *runtime.Process) (runtime.Pid, error) {
			n++
			return script(n, p, func() (runtime.Pid, error) { return plain(p) })
		}
		return spec
	}
}

// queue runs each call in its own goroutine and returns once all of them
// have queued their request in the mailbox of sup, whose goroutine is the
// caller (a child's Start): they will be handled before anything the
// supervisor sends itself afterwards (a retry). It returns a channel closed
// when the calls have returned.
func queue(sup *runtime.Process, calls ...func()) <-chan struct{} {
	before := sup.Self().MailboxLen()
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, call := range calls {
		wg.Add(1)
		go func() { defer wg.Done(); call() }()
	}
	go func() { wg.Wait(); close(done) }()
	deadline := time.Now().Add(wait)
	for sup.Self().MailboxLen() < before+len(calls) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Microsecond)
	}
	return done
}

// sup is a nested supervisor.
func (tt *tree) sup(id string, f runtime.Flags, children ...node) node {
	return func(parent string) runtime.ChildSpec {
		path := parent + "/" + id
		spec := tt.supSpec(path, f, children...)
		return runtime.ChildSpec{ID: id, Type: runtime.SupervisorChild, Kind: f.Strategy.String(),
			Start: func(p *runtime.Process) (runtime.Pid, error) {
				if err := tt.nextFail(path); err != nil {
					return runtime.Pid{}, err
				}
				s, err := runtime.StartSupervisor(p, spec)
				if err != nil {
					return runtime.Pid{}, err
				}
				tt.mu.Lock()
				tt.sups[path] = s
				tt.mu.Unlock()
				return s.Pid(), nil
			}}
	}
}

func (tt *tree) supSpec(path string, f runtime.Flags, children ...node) runtime.SupervisorSpec {
	spec := runtime.SupervisorSpec{Flags: f, Path: path, Events: tt.rec.hook}
	for _, n := range children {
		spec.Children = append(spec.Children, n(path))
	}
	return spec
}

// start starts the root supervisor "r" and fails the test if it fails.
func (tt *tree) start(f runtime.Flags, children ...node) *runtime.Supervisor {
	tt.t.Helper()
	s, err := tt.tryStart(f, children...)
	if err != nil {
		tt.t.Fatalf("start: %v", err)
	}
	return s
}

func (tt *tree) tryStart(f runtime.Flags, children ...node) (*runtime.Supervisor, error) {
	s, err := runtime.StartSupervisor(nil, tt.supSpec("r", f, children...), runtime.WithClock(tt.clock))
	if err == nil {
		tt.mu.Lock()
		tt.root = s
		tt.sups["r"] = s
		tt.mu.Unlock()
	}
	return s, err
}

// child returns the running instance at path.
func (tt *tree) child(path string) *tchild {
	tt.t.Helper()
	tt.mu.Lock()
	c := tt.current[path]
	tt.mu.Unlock()
	if c == nil {
		tt.t.Fatalf("no child %s has been started", path)
	}
	return c
}

// exit makes the child at path exit by itself with reason.
func (tt *tree) exit(path string, reason error) {
	tt.t.Helper()
	tt.child(path).cmd.Send(reason)
}

// supervisor returns the latest supervisor at path.
func (tt *tree) supervisor(path string) *runtime.Supervisor {
	tt.t.Helper()
	tt.mu.Lock()
	defer tt.mu.Unlock()
	s := tt.sups[path]
	if s == nil {
		tt.t.Fatalf("no supervisor %s", path)
	}
	return s
}

// ids lists a supervisor's children in start order.
func (tt *tree) ids(s *runtime.Supervisor) string {
	tt.t.Helper()
	snap, err := s.Snapshot()
	if err != nil {
		tt.t.Fatalf("snapshot: %v", err)
	}
	var out []string
	for _, c := range snap.Children {
		out = append(out, c.ID+":"+string(c.State))
	}
	return strings.Join(out, " ")
}

// stop stops the root, advancing the fake clock by step whenever the tree
// waits on it (step 0: never).
func (tt *tree) stop(step time.Duration) {
	tt.t.Helper()
	tt.mu.Lock()
	root := tt.root
	tt.mu.Unlock()
	done := make(chan bool, 1)
	go func() { done <- shutdownWithin(root, runtime.Forever) }()
	if step > 0 {
		tt.advanceUntil(done, step)
	}
	select {
	case <-done:
	case <-time.After(wait):
		tt.t.Fatalf("root did not stop within %v", wait)
	}
}

// change makes one reload change to s (Supervisor.Apply) and returns its
// error.
func change(s *runtime.Supervisor, c runtime.Change) error {
	_, err := s.Apply(c)
	return err
}

// shutdownWithin stops s with Shutdown, waiting up to d (Forever: as long
// as it takes), and reports whether it has stopped.
func shutdownWithin(s *runtime.Supervisor, d time.Duration) bool {
	ctx := context.Background()
	if d != runtime.Forever {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	return s.Shutdown(ctx) == nil
}

// advanceUntil advances the clock by step each time some process waits on
// it, until done is ready.
func (tt *tree) advanceUntil(done chan bool, step time.Duration) {
	tt.t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case v := <-done:
			done <- v
			return
		case <-deadline:
			tt.t.Fatalf("not done within %v", wait)
		default:
		}
		if tt.clock.AwaitTimers(1, 10*time.Millisecond) {
			tt.clock.Advance(step)
		}
	}
}

// cleanup stops whatever is still running and releases stuck children.
func (tt *tree) cleanup() {
	select {
	case <-tt.release:
	default:
		close(tt.release)
	}
	tt.mu.Lock()
	root := tt.root
	tt.mu.Unlock()
	if root != nil {
		// Children that take time to stop wait on the fake clock.
		done := make(chan bool, 1)
		go func() { done <- shutdownWithin(root, runtime.Forever) }()
		deadline := time.After(wait)
		for {
			select {
			case <-done:
				return
			case <-deadline:
				tt.t.Errorf("cleanup: root did not stop")
				return
			default:
			}
			if tt.clock.AwaitTimers(1, 5*time.Millisecond) {
				tt.clock.Advance(time.Hour)
			}
		}
	}
}

// quiet checks that, once every supervisor has handled what it had queued,
// nothing happened past what expect has checked.
func (tt *tree) quiet() {
	tt.t.Helper()
	tt.sync()
	tt.rec.noMore(tt.t)
}

// sync makes a round trip through every live supervisor of the tree, so that
// what they had queued is handled.
func (tt *tree) sync() {
	tt.mu.Lock()
	var all []*runtime.Supervisor
	for _, s := range tt.sups {
		all = append(all, s)
	}
	tt.mu.Unlock()
	for _, s := range all {
		s.WhichChildren()
	}
}

func flags(s runtime.Strategy, maxFreq int) runtime.Flags {
	return runtime.Flags{Strategy: s, MaxFrequency: maxFreq, Period: 5 * time.Second}
}

func mustf(t testing.TB, err error, format string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(format, args...), err)
	}
}
