package otptest_test

import (
	"fmt"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"

	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/workers"
	"github.com/otpctl/otpctl/workers/builtin"
)

// fakeTB stands in for a *testing.T so that otptest's own failures can be
// tested: it records Errorf and Fatalf, and Fatalf ends the goroutine as
// FailNow does. Methods otptest does not call are left to the nil
// testing.TB it embeds (and would panic).
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	errors   []string
	fatal    string
	cleanups []func()
}

func (f *fakeTB) Helper()      {}
func (f *fakeTB) Name() string { return "fake" }

func (f *fakeTB) Logf(string, ...any) {}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.fatal = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	goruntime.Goexit()
}

func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

// runFake runs body against a fakeTB on a goroutine of its own, as the
// testing package runs a test, then its cleanups (last first), and returns
// what was reported.
func runFake(body func(tb testing.TB)) *fakeTB {
	f := &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		body(f)
	}()
	<-done
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		ran := make(chan struct{})
		go func() { defer close(ran); f.cleanups[i]() }()
		<-ran
	}
	return f
}

// failed returns everything f was told, fatal last.
func (f *fakeTB) failed() string {
	out := append([]string(nil), f.errors...)
	if f.fatal != "" {
		out = append(out, f.fatal)
	}
	return strings.Join(out, "\n")
}

// stubbornKinds is the built-in kinds and stubborn, a worker that traps
// exits and ignores them: it stops only when it is killed.
func stubbornKinds() *workers.Registry {
	reg := workers.NewRegistry()
	builtin.Register(reg)
	reg.Register(workers.Kind{Name: "stubborn", Start: func(parent *runtime.Process, w workers.Worker) (workers.Instance, error) {
		// The start returns once exits are trapped: a shutdown sent
		// before that would stop it (seen under load, 1 run in 20).
		trapping := make(chan struct{})
		pid := runtime.SpawnLink(parent, func(p *runtime.Process) {
			p.TrapExits(true)
			close(trapping)
			for {
				runtime.NewSelector[runtime.ExitMessage]().
					SelectingTrappedExits(func(m runtime.ExitMessage) runtime.ExitMessage { return m }).
					Select(p, runtime.Forever)
			}
		})
		<-trapping
		return workers.Instance{Pid: pid}, nil
	}})
	return reg
}
