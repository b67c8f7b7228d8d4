package otptest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/otpctl/otpctl/internal/testrec"
	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/loader"
	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/spec"
	"github.com/otpctl/otpctl/workers"
	_ "github.com/otpctl/otpctl/workers/builtin" // the built-in kinds, in workers.Default
)

// DefaultTimeout bounds every wait of a Tree (Await, AssertTrace,
// AssertQuiet, Snapshot, the stop at cleanup) unless WithTimeout says
// otherwise. It is real time, and generous: a shared machine running the
// race detector is slow, and a passing test waits far less.
const DefaultTimeout = 10 * time.Second

// FakeStart is the time a fake clock (WithFakeClock) reads when the tree
// starts.
var FakeStart = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

// InlineFile is the file name StartYAML gives its YAML: diagnostics read
// "inline.yaml:LINE:COL", the tree's name defaults to "inline", and
// includes are relative to the test's working directory (its package's
// folder).
const InlineFile = "inline.yaml"

// An Option configures Start and StartYAML.
type Option func(*config)

type config struct {
	reg     *workers.Registry
	fake    bool
	timeout time.Duration
	log     *slog.Logger
}

// WithRegistry resolves the tree's kinds in reg instead of workers.Default
// (which holds the built-in kinds: exec, counter, cache, echo, ticker,
// crash). A test that registers its own kinds uses a private registry
// (workers.NewRegistry, and builtin.Register for the built-ins beside them).
func WithRegistry(reg *workers.Registry) Option {
	return func(c *config) { c.reg = reg }
}

// WithFakeClock runs the tree on a runtime.FakeClock that reads FakeStart
// and moves only when the test calls Tree.Advance: restart intensity and
// period, shutdown timeouts and the built-in actors' ticks then run without
// sleeping. Default: the real clock.
func WithFakeClock() Option {
	return func(c *config) { c.fake = true }
}

// WithTimeout bounds every wait of the tree by d of real time instead of
// DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// WithLog gives the workers a logger (each gets log.With("path", PATH)).
// Default: their output is dropped, since a worker may still log after the
// test has ended.
func WithLog(log *slog.Logger) Option {
	return func(c *config) { c.log = log }
}

// Tree is a tree started by Start or StartYAML, inside the test's process:
// the running tree, every event it has emitted, and the test it reports
// to. Its methods fail the test (Fatalf) on an error, so a test reads as a
// script; they are safe for concurrent use, but a failing one must be
// called from the test's goroutine, as testing.T.FailNow requires.
type Tree struct {
	tb      testing.TB
	r       *loader.Running
	clock   *runtime.FakeClock
	reg     *workers.Registry
	file    string
	timeout time.Duration

	events testrec.Log[live.Event] // every event, in order; it ends with the tree (Done)

	mu     sync.Mutex
	seen   map[int]bool // the events an Await or AssertTrace has matched
	cursor int
	procs  []proc // every process the tree started
}

// proc is a process the tree started, to check that it is gone at the end.
type proc struct {
	path  string
	pid   runtime.Pid
	osPid int
	sup   bool
}

// Start loads the tree file (with its includes), starts the tree and
// returns once every node is up, as `otpctl run` does but inside the test:
// no socket, no subprocess. The test fails at once with every FILE:LINE:COL
// problem if the file is not a valid tree, or with the failing node's error
// if the tree does not start.
//
// At the end of the test (t.Cleanup) the tree is stopped in order, as
// Shutdown does, and the test fails if it does not stop within the timeout
// or if any process it ever started is still alive afterwards (an OS
// process of an exec worker included). Goroutines are left to the test
// package's goleak: an in-process worker that its supervisor killed while
// its goroutine ran outside the runtime is dead, but its goroutine
// unwinds only at its next runtime call.
func Start(t testing.TB, file string, opts ...Option) *Tree {
	t.Helper()
	cfg := configure(opts)
	st, err := spec.Load(file, cfg.reg)
	if err != nil {
		t.Fatalf("otptest: %s is not a valid tree:\n%v", file, indent(err.Error()))
	}
	return start(t, st, file, cfg)
}

// StartYAML is Start for a tree written in the test itself: the YAML is
// read as if it were the file InlineFile in the test's working directory.
func StartYAML(t testing.TB, yaml string, opts ...Option) *Tree {
	t.Helper()
	cfg := configure(opts)
	st, err := spec.Parse(InlineFile, []byte(yaml), cfg.reg)
	if err != nil {
		t.Fatalf("otptest: the YAML is not a valid tree:\n%v", indent(err.Error()))
	}
	return start(t, st, InlineFile, cfg)
}

func configure(opts []Option) config {
	cfg := config{reg: workers.Default, timeout: DefaultTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.log == nil {
		cfg.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return cfg
}

func start(t testing.TB, st *spec.Tree, file string, cfg config) *Tree {
	t.Helper()
	tr := &Tree{tb: t, reg: cfg.reg, file: file, timeout: cfg.timeout, seen: map[int]bool{}}
	opts := loader.Options{Registry: cfg.reg, Events: tr.record, Log: cfg.log}
	if cfg.fake {
		tr.clock = runtime.NewFakeClock(FakeStart)
		opts.Clock = tr.clock
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	r, err := loader.Start(ctx, st, opts)
	if err != nil {
		t.Fatalf("otptest: %s did not start: %v\n%s", st.Name, err, tr.describe(0))
	}
	tr.r = r
	tr.events.EndWith(r.Done())
	t.Cleanup(tr.cleanup)
	return tr
}

// record is the tree's event hook. It runs on a supervisor's goroutine,
// one event at a time, and does not block.
func (tr *Tree) record(e live.Event) {
	var p *proc
	if e.Type == runtime.EventStarted && !e.Proc.IsZero() {
		_, sup := runtime.SupervisorOf(e.Proc)
		p = &proc{path: e.Path, pid: e.Proc, osPid: e.OSPid, sup: sup}
	}
	if p != nil {
		// Kept before the event is visible: once it is, the settling
		// checks look for the process.
		tr.mu.Lock()
		tr.procs = append(tr.procs, *p)
		tr.mu.Unlock()
	}
	tr.events.Add(e)
}

// Running returns the loader's running tree, for what this package does
// not wrap (Supervisor, Spec, Halt, …).
func (tr *Tree) Running() *loader.Running { return tr.r }

// Path returns the root's path: the tree's name.
func (tr *Tree) Path() string { return tr.r.Path() }

// Clock returns the fake clock of a tree started WithFakeClock, or nil.
func (tr *Tree) Clock() *runtime.FakeClock { return tr.clock }

// Advance moves the fake clock forward by d, firing every timer that falls
// due (a restart window slides, a shutdown timeout passes, an actor
// ticks). The test fails if the tree was not started WithFakeClock.
//
// Every timer of the tree is on that clock, a worker's init timeout
// included: advancing past it while a node is starting fails the start.
// Await the node's start before advancing.
func (tr *Tree) Advance(d time.Duration) {
	tr.tb.Helper()
	if tr.clock == nil {
		tr.tb.Fatalf("otptest: Advance(%v): the tree runs on the real clock; start it WithFakeClock", d)
	}
	tr.clock.Advance(d)
}

// Shutdown stops the tree now, as the end of the test would: in order,
// within each node's shutdown setting (on a fake clock, time is advanced
// whenever a stop waits on it). It fails the test if the tree does not stop
// in time or leaves a process behind. The events of the stop can then be
// asserted from a mark taken before. Calling it again is harmless.
func (tr *Tree) Shutdown() {
	tr.tb.Helper()
	for _, problem := range tr.stop() {
		tr.tb.Errorf("otptest: %s", problem)
	}
}

// cleanup is Shutdown at the end of the test.
func (tr *Tree) cleanup() {
	for _, problem := range tr.stop() {
		tr.tb.Errorf("otptest: at the end of the test: %s", problem)
	}
}

// stop stops the tree and returns what was left behind.
func (tr *Tree) stop() []string {
	var problems []string
	ctx, cancel := context.WithTimeout(context.Background(), tr.timeout)
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- tr.r.Shutdown(ctx) }()
	if tr.clock != nil {
		// A child that takes its time to stop waits on the fake clock:
		// let its shutdown timeout pass.
		for waiting := true; waiting; {
			select {
			case err := <-stopped:
				stopped <- err
				waiting = false
			default:
				if tr.clock.AwaitTimers(1, time.Millisecond) {
					tr.clock.Advance(time.Hour)
				}
			}
		}
	}
	if err := <-stopped; err != nil {
		tr.r.Halt()
		problems = append(problems, fmt.Sprintf("%s did not stop within %v; halted it", tr.Path(), tr.timeout))
		select {
		case <-tr.r.Done():
		case <-time.After(tr.timeout):
			return append(problems, fmt.Sprintf("%s is still up %v after Halt", tr.Path(), tr.timeout))
		}
	}
	// Every process is gone once the root is: a supervisor stops its
	// children before it exits. A trapping process whose supervisor was
	// killed may still be stopping its own children: give it the timeout.
	deadline := time.Now().Add(tr.timeout)
	for {
		alive := tr.alive()
		if len(alive) == 0 {
			return problems
		}
		if time.Now().After(deadline) {
			return append(problems, "still alive after the tree stopped: "+strings.Join(alive, ", "))
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// alive lists the processes the tree started that are still alive, and the
// OS processes of its exec workers that still run.
func (tr *Tree) alive() []string {
	tr.mu.Lock()
	procs := append([]proc(nil), tr.procs...)
	tr.mu.Unlock()
	var out []string
	for _, p := range procs {
		if p.pid.Alive() {
			out = append(out, fmt.Sprintf("%s %v", p.path, p.pid))
		}
		if p.osPid > 0 && osProcessRuns(p.osPid) {
			out = append(out, fmt.Sprintf("%s's OS process %d", p.path, p.osPid))
		}
	}
	return out
}

// osProcessRuns reports whether an OS process exists with that pid (and is
// not a zombie waiting to be reaped by someone else).
func osProcessRuns(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return errors.Is(err, syscall.EPERM)
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no /proc: it exists, as far as we can tell
	}
	// The state follows the command name in parentheses: "… (cmd) Z …".
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

func indent(s string) string {
	return "\t" + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n\t")
}
