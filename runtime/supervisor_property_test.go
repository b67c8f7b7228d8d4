package runtime_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// TestSupervisorProperties drives random small trees through random crash
// sequences and checks, after every step, what must always hold:
//   - every permanent child of a live supervisor runs (unless an operator
//     stopped it and nothing started it since);
//   - no process outlives its supervisor, and every live process is a child
//     of a live supervisor;
//   - each child's restart count is the number of its started events after
//     the first, in its supervisor's lifetime;
//   - every process a started event announced that has died has been
//     reported gone exactly once (exited or terminated), a killed
//     supervisor's children too;
//   - no live supervisor has used more than its budget;
//   - and at the end of each sequence the goroutines are back to the
//     baseline.
//
// Seeds are reproducible: OTPCTL_SEED=<n> replays the sequence a failure
// names.
func TestSupervisorProperties(t *testing.T) {
	seqs, steps := 400, 25
	if testing.Short() {
		seqs = 50
	}
	base := uint64(time.Now().UnixNano())
	if s := os.Getenv("OTPCTL_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		mustf(t, err, "OTPCTL_SEED")
		base, seqs = n, 1
	}
	baseline := goruntime.NumGoroutine()
	var stats propStats
	for i := 0; i < seqs; i++ {
		seed := base + uint64(i)
		p := newProp(t, seed)
		p.run(steps)
		stats.add(p)
		if t.Failed() {
			return
		}
		p.awaitGoroutines(baseline)
		if t.Failed() {
			return
		}
	}
	t.Logf("%d sequences from seed %d: %+v", seqs, base, stats)
	// The sequences must exercise what they claim to.
	if stats.Exits < seqs*steps/4 || stats.Restarts == 0 || stats.GiveUps == 0 || stats.Escalations == 0 {
		t.Fatalf("too little happened: %+v", stats)
	}
}

type propStats struct {
	Steps, Exits, Kills, Restarts, GiveUps, Escalations, RootGaveUp int
}

func (s *propStats) add(p *prop) {
	s.Steps += len(p.log)
	for _, l := range p.log {
		switch {
		case strings.HasPrefix(l, "exit "):
			s.Exits++
		case strings.HasPrefix(l, "kill "):
			s.Kills++
		}
	}
	for _, e := range p.rec.all() {
		switch {
		case e.Type == runtime.EventStarted && e.Cause == runtime.CauseCrash:
			s.Restarts++
		case e.Type == runtime.EventGiveUp:
			s.GiveUps++
			if e.Path == "r" {
				s.RootGaveUp++
			}
		case e.Type == runtime.EventStarted && e.Cause == runtime.CauseEscalation:
			s.Escalations++
		}
	}
}

// prop is one random tree and its history.
type prop struct {
	*tree
	seed uint64
	rng  *rand.Rand
	log  []string // what was done, for the failure message

	emu    sync.Mutex
	tagged []taggedEvent // every event, with the supervisor start that emitted it
	inst   map[runtime.Pid]int
	supOf  map[runtime.Pid]runtime.Pid // a nested supervisor's parent
	nInst  int
	dyns   map[string]bool // paths of dynamic supervisors
}

type taggedEvent struct {
	inst int
	e    runtime.Event
}

func newProp(t *testing.T, seed uint64) *prop {
	p := &prop{seed: seed, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), inst: map[runtime.Pid]int{}, supOf: map[runtime.Pid]runtime.Pid{}, dyns: map[string]bool{}}
	p.tree = &tree{
		t: t, clock: runtime.NewFakeClock(time.Unix(1_000_000, 0)), rec: newRecorder(),
		current: map[string]*tchild{}, sups: map[string]*runtime.Supervisor{},
		fails: map[string][]error{}, release: make(chan struct{}), blocked: make(chan string, 16),
	}
	return p
}

func (p *prop) fatalf(format string, args ...any) {
	p.t.Helper()
	p.t.Fatalf("seed %d (rerun with OTPCTL_SEED=%d): %s\nsteps:\n\t%s\nevents:\n%s",
		p.seed, p.seed, fmt.Sprintf(format, args...), strings.Join(p.log, "\n\t"), lines(p.rec.all()))
}

// hookFor returns the event hook of one start of a supervisor.
func (p *prop) hookFor() (int, func(runtime.Event)) {
	p.emu.Lock()
	p.nInst++
	n := p.nInst
	p.emu.Unlock()
	return n, func(e runtime.Event) {
		p.emu.Lock()
		p.tagged = append(p.tagged, taggedEvent{n, e})
		p.emu.Unlock()
		p.rec.hook(e)
	}
}

// randomSup returns a random supervisor spec maker at path.
func (p *prop) randomSup(path string, depth int) func() runtime.SupervisorSpec {
	r := p.rng
	f := runtime.Flags{
		Strategy:     runtime.Strategy(r.IntN(3)),
		MaxFrequency: r.IntN(4),
		Period:       time.Duration(1+r.IntN(10)) * time.Second,
	}
	if depth == 0 { // the root lasts longer, so that sequences do
		f.MaxFrequency = 4 + r.IntN(8)
	}
	if depth > 0 && r.IntN(5) == 0 { // a dynamic supervisor
		f.Strategy = runtime.OneForOne
		restart := runtime.RestartType(r.IntN(3))
		p.dyns[path] = true
		return func() runtime.SupervisorSpec {
			return runtime.SupervisorSpec{Flags: f, Path: path, Dynamic: &runtime.DynamicSpec{
				Template: runtime.ChildSpec{Kind: "echo", Restart: restart, Start: p.startFunc(path+"/?", behaviour{})},
			}}
		}
	}
	var kids []runtime.ChildSpec
	for i, n := 0, 1+r.IntN(4); i < n; i++ {
		id := string(rune('a' + i))
		if depth < 2 && r.IntN(4) == 0 {
			make := p.randomSup(path+"/"+id, depth+1)
			restart := runtime.Permanent
			if r.IntN(4) == 0 {
				restart = runtime.Transient
			}
			kids = append(kids, runtime.ChildSpec{ID: id, Type: runtime.SupervisorChild, Restart: restart, Kind: "sup",
				Start: func(parent *runtime.Process) (runtime.Pid, error) {
					n, hook := p.hookFor()
					spec := make()
					spec.Events = hook
					s, err := runtime.StartSupervisor(parent, spec)
					if err != nil {
						return runtime.Pid{}, err
					}
					p.emu.Lock()
					p.inst[s.Pid()] = n
					p.supOf[s.Pid()] = parent.Self()
					p.emu.Unlock()
					return s.Pid(), nil
				}})
			continue
		}
		b := behaviour{trap: r.IntN(3) == 0}
		shut := []runtime.ShutdownPolicy{0, runtime.BrutalKill, runtime.Infinity, runtime.ShutdownPolicy(time.Second)}[r.IntN(4)]
		kids = append(kids, runtime.ChildSpec{ID: id, Restart: runtime.RestartType(r.IntN(3)), Shutdown: shut, Kind: "test",
			Start: p.startFunc(path+"/"+id, b)})
	}
	return func() runtime.SupervisorSpec {
		return runtime.SupervisorSpec{Flags: f, Path: path, Children: append([]runtime.ChildSpec(nil), kids...)}
	}
}

func (p *prop) run(steps int) {
	p.t.Helper()
	make := p.randomSup("r", 0)
	n, hook := p.hookFor()
	spec := make()
	spec.Events = hook
	root, err := runtime.StartSupervisor(nil, spec, runtime.WithClock(p.clock))
	if err != nil {
		p.fatalf("start: %v", err)
	}
	p.emu.Lock()
	p.inst[root.Pid()] = n
	p.emu.Unlock()
	p.root = root
	p.sups["r"] = root
	defer func() {
		shutdownWithin(root, wait)
		<-root.Done()
		p.settle() // the tails of killed supervisors
		for _, c := range p.instances {
			if c.pid.Alive() {
				p.fatalf("%s (%v) alive after the root stopped", c.path, c.pid)
			}
		}
	}()
	snap := p.settle()
	p.check(snap)
	for i := 0; i < steps && snap != nil; i++ {
		p.step(snap)
		snap = p.settle()
		p.mu.Lock()
		clear(p.fails) // an armed failure is for the crash's own restart only
		p.mu.Unlock()
		p.check(snap)
	}
}

// walk lists every live supervisor and child of a snapshot.
func walk(s *runtime.SupervisorSnapshot, sups func(*runtime.SupervisorSnapshot), kids func(*runtime.SupervisorSnapshot, runtime.ChildSnapshot)) {
	sups(s)
	for _, c := range s.Children {
		kids(s, c)
		if c.Supervisor != nil {
			walk(c.Supervisor, sups, kids)
		}
	}
}

// step does one random thing to the tree.
func (p *prop) step(snap *runtime.SupervisorSnapshot) {
	p.t.Helper()
	var workers, nested []runtime.ChildSnapshot
	var supsAt []*runtime.SupervisorSnapshot
	walk(snap, func(s *runtime.SupervisorSnapshot) { supsAt = append(supsAt, s) }, func(_ *runtime.SupervisorSnapshot, c runtime.ChildSnapshot) {
		if c.State != runtime.StateRunning {
			return
		}
		if c.Type == runtime.SupervisorChild {
			nested = append(nested, c)
		} else {
			workers = append(workers, c)
		}
	})
	r := p.rng
	before := p.rec.len()
	switch k := r.IntN(100); {
	case k < 55 && len(workers) > 0: // a worker exits by itself
		w := workers[r.IntN(len(workers))]
		reason := []error{runtime.Normal, runtime.Shutdown, boom, runtime.Killed}[r.IntN(4)]
		if r.IntN(8) == 0 && !p.dyns[parentPath(w.Path)] {
			p.failNext(w.Path, nope) // and its first restart fails
			p.log = append(p.log, "arm a start failure of "+w.Path)
		}
		p.log = append(p.log, fmt.Sprintf("exit %s %v with %v", w.Path, w.Pid, reason))
		p.exitPid(w.Pid, reason)
		p.awaitExited(before, w.Pid)
	case k < 62 && len(nested) > 0: // a nested supervisor is killed
		s := nested[r.IntN(len(nested))]
		p.log = append(p.log, fmt.Sprintf("kill supervisor %s %v", s.Path, s.Pid))
		runtime.Exit(s.Pid, runtime.Killed)
		p.awaitExited(before, s.Pid)
	case k < 75: // time passes
		d := time.Duration(r.IntN(6000)) * time.Millisecond
		p.log = append(p.log, fmt.Sprintf("advance %v", d))
		p.clock.Advance(d)
	case k < 85: // an operator stops a child
		s := supsAt[r.IntN(len(supsAt))]
		if len(s.Children) == 0 {
			return
		}
		c := s.Children[r.IntN(len(s.Children))]
		p.log = append(p.log, "terminate_child "+c.Path)
		if h, ok := runtime.SupervisorOf(s.Pid); ok {
			if err := h.TerminateChild(c.ID); err != nil && !errors.Is(err, runtime.ErrNoSupervisor) {
				p.fatalf("terminate_child %s: %v", c.Path, err)
			}
		}
	case k < 95: // an operator starts a stopped child again
		s := supsAt[r.IntN(len(supsAt))]
		for _, c := range s.Children {
			if c.State == runtime.StateStopped && !s.Dynamic {
				p.log = append(p.log, "restart_child "+c.Path)
				if h, ok := runtime.SupervisorOf(s.Pid); ok {
					if _, err := h.RestartChild(c.ID); err != nil && !errors.Is(err, runtime.ErrNoSupervisor) {
						p.fatalf("restart_child %s: %v", c.Path, err)
					}
				}
				return
			}
		}
	default: // a dynamic supervisor gets a child
		for _, s := range supsAt {
			if s.Dynamic {
				p.log = append(p.log, "start_child under "+s.Path)
				if h, ok := runtime.SupervisorOf(s.Pid); ok {
					if _, err := h.StartChild(runtime.ChildSpec{}); err != nil && !errors.Is(err, runtime.ErrNoSupervisor) {
						p.fatalf("start_child under %s: %v", s.Path, err)
					}
				}
				return
			}
		}
	}
}

func parentPath(path string) string { return path[:strings.LastIndexByte(path, '/')] }

// awaitExited waits for the exited event of pid after event number from.
func (p *prop) awaitExited(from int, pid runtime.Pid) {
	p.t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		evs := p.rec.waitFor(p.t, from+1)
		for _, e := range evs[from:] {
			if e.Pid == pid && (e.Type == runtime.EventExited || e.Type == runtime.EventTerminated) {
				return
			}
		}
		from = len(evs)
	}
	p.fatalf("no exit of %v", pid)
}

// settle waits until the tree is quiet: two walks in a row through every
// live supervisor with no event, none exiting and no restart pending. It
// returns the last snapshot (nil when the root is gone).
func (p *prop) settle() *runtime.SupervisorSnapshot {
	p.t.Helper()
	deadline := time.Now().Add(wait)
	quiet := 0
	for time.Now().Before(deadline) {
		n := p.rec.len()
		snap, err := p.root.Snapshot()
		if errors.Is(err, runtime.ErrNoSupervisor) {
			<-p.root.Done()
			if p.orphan() == "" {
				return nil
			}
			time.Sleep(50 * time.Microsecond)
			continue
		}
		calm := p.rec.len() == n
		walk(&snap, func(*runtime.SupervisorSnapshot) {}, func(_ *runtime.SupervisorSnapshot, c runtime.ChildSnapshot) {
			if c.State == runtime.StateRestarting || c.State == runtime.StateStarting || (c.Type == runtime.SupervisorChild && c.State == runtime.StateRunning && (c.Supervisor == nil || !c.Pid.Alive())) {
				calm = false
			}
		})
		if calm && p.orphan() != "" {
			// A killed supervisor's trapping children (nested
			// supervisors, workers that trap exits) stop on their own
			// goroutines, as in OTP: wait for them.
			calm = false
		}
		if calm {
			quiet++
			if quiet == 2 {
				return &snap
			}
			continue
		}
		quiet = 0
		time.Sleep(50 * time.Microsecond)
	}
	p.fatalf("the tree does not settle (%s)", p.orphan())
	return nil
}

// orphan names a live process whose supervisor is dead, if any.
func (p *prop) orphan() string {
	p.emu.Lock()
	for s, parent := range p.supOf {
		if s.Alive() && !parent.Alive() {
			p.emu.Unlock()
			return fmt.Sprintf("supervisor %v alive under dead %v", s, parent)
		}
	}
	p.emu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.instances {
		if c.pid.Alive() && !c.parent.Alive() {
			return fmt.Sprintf("%s %v alive under dead %v", c.path, c.pid, c.parent)
		}
	}
	return ""
}

// unreported names a process that a started event announced, that is dead,
// and that no exited or terminated event has reported gone (or one reported
// twice): everyone who keeps children by pid would keep it for ever.
func (p *prop) unreported() string {
	p.emu.Lock()
	defer p.emu.Unlock()
	started := map[runtime.Pid]string{}
	ended := map[runtime.Pid]int{}
	for _, te := range p.tagged {
		switch te.e.Type {
		case runtime.EventStarted:
			started[te.e.Pid] = te.e.Path
		case runtime.EventExited, runtime.EventTerminated:
			ended[te.e.Pid]++
		}
	}
	for pid, path := range started {
		if n := ended[pid]; n > 1 || (n == 0 && !pid.Alive()) {
			return fmt.Sprintf("%s %v is dead and reported gone %d times", path, pid, n)
		}
	}
	return ""
}

// check checks the invariants on a settled tree.
func (p *prop) check(snap *runtime.SupervisorSnapshot) {
	p.t.Helper()
	// A supervisor killed inside a child's start reports its children
	// when that start returns, on its own goroutine: give it the time.
	for deadline := time.Now().Add(wait); p.unreported() != ""; time.Sleep(100 * time.Microsecond) {
		if time.Now().After(deadline) {
			p.fatalf("%s", p.unreported())
		}
	}
	p.emu.Lock()
	tagged := append([]taggedEvent(nil), p.tagged...)
	inst := make(map[runtime.Pid]int, len(p.inst))
	for k, v := range p.inst {
		inst[k] = v
	}
	p.emu.Unlock()
	last := map[string]runtime.Event{}
	starts := map[string]int{} // inst/path -> started events
	for _, te := range tagged {
		last[te.e.Path] = te.e
		if te.e.Type == runtime.EventStarted {
			starts[strconv.Itoa(te.inst)+te.e.Path]++
		}
	}
	live := map[runtime.Pid]bool{} // live supervisors
	current := map[runtime.Pid]bool{}
	if snap != nil {
		walk(snap, func(s *runtime.SupervisorSnapshot) {
			live[s.Pid] = true
			if s.Budget.Used > s.Budget.Max {
				p.fatalf("%s is alive with budget %+v", s.Path, s.Budget)
			}
		}, func(s *runtime.SupervisorSnapshot, c runtime.ChildSnapshot) {
			if !c.Pid.IsZero() {
				current[c.Pid] = true
			}
			if c.Restart == runtime.Permanent && c.State != runtime.StateRunning {
				if l := last[c.Path]; !(l.Type == runtime.EventTerminated && l.Cause == runtime.CauseOperator) {
					p.fatalf("permanent %s is %s (last event: %s)", c.Path, c.State, line(l))
				}
			}
			if c.State == runtime.StateRunning && !c.Pid.Alive() {
				p.fatalf("%s is running with a dead pid", c.Path)
			}
			want := starts[strconv.Itoa(inst[s.Pid])+c.Path] - 1
			if c.Restarts != want {
				p.fatalf("%s: %d restarts, %d started events after the first", c.Path, c.Restarts, want)
			}
		})
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.instances {
		if !c.pid.Alive() {
			continue
		}
		if !c.parent.Alive() {
			p.fatalf("orphan: %s (%v) is alive, its supervisor %v is not", c.path, c.pid, c.parent)
		}
		if !live[c.parent] || !current[c.pid] {
			p.fatalf("%s (%v) is alive but no live supervisor has it", c.path, c.pid)
		}
	}
}

// awaitGoroutines waits until the goroutines are back to the baseline.
func (p *prop) awaitGoroutines(baseline int) {
	p.t.Helper()
	deadline := time.Now().Add(wait)
	for goruntime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			p.fatalf("%d goroutines, baseline %d:\n%s", goruntime.NumGoroutine(), baseline, buf[:goruntime.Stack(buf, true)])
		}
		time.Sleep(100 * time.Microsecond)
	}
}
