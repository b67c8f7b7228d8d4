package runtime_test

import (
	"errors"
	"testing"

	"github.com/otpctl/otpctl/runtime"
)

func TestRegistry(t *testing.T) {
	me := attach(t)
	pid, other := spawnWaiting(), spawnWaiting()
	defer stop(t, pid, other)
	const name = "registry-test"

	if err := runtime.Register(name, pid); err != nil {
		t.Fatal(err)
	}
	if got, ok := runtime.WhereIs(name); !ok || got != pid {
		t.Errorf("WhereIs = %v, %v, want %v", got, ok, pid)
	}
	if err := runtime.Register(name, other); !errors.Is(err, runtime.ErrNameTaken) {
		t.Errorf("a second process under the same name: %v, want ErrNameTaken", err)
	}
	if err := runtime.Register(name+"-2", pid); err == nil {
		t.Error("a process registered under two names")
	}
	if !runtime.Unregister(name) {
		t.Error("Unregister of a registered name said false")
	}
	if runtime.Unregister(name) {
		t.Error("Unregister of a free name said true")
	}
	if _, ok := runtime.WhereIs(name); ok {
		t.Error("WhereIs found an unregistered name")
	}
	// The name is free again, and so is the process.
	if err := runtime.Register(name, other); err != nil {
		t.Fatal(err)
	}
	if err := runtime.Register(name+"-2", pid); err != nil {
		t.Fatal(err)
	}

	// Unregistered on exit, by a kill or by returning.
	runtime.Exit(other, runtime.Killed)
	if _, ok := runtime.WhereIs(name); ok {
		t.Error("a killed process is still registered")
	}
	mon := me.Monitor(pid)
	runtime.Exit(pid, runtime.Shutdown)
	awaitDown(t, me, mon)
	if _, ok := runtime.WhereIs(name + "-2"); ok {
		t.Error("an exited process is still registered")
	}
	if err := runtime.Register(name, other); !errors.Is(err, runtime.NoProc) {
		t.Errorf("registering a dead process: %v, want NoProc", err)
	}
	if err := runtime.Register("", spawnWaitingFor(t)); err == nil {
		t.Error("registered the empty name")
	}
	if err := runtime.Register(name, runtime.Pid{}); !errors.Is(err, runtime.NoProc) {
		t.Errorf("registering the zero pid: %v, want NoProc", err)
	}
}

func spawnWaitingFor(t *testing.T) runtime.Pid {
	pid := spawnWaiting()
	t.Cleanup(func() { stop(t, pid) })
	return pid
}

// A registered process found by name answers a Call.
func TestRegisteredActorCall(t *testing.T) {
	me := attach(t)
	type ask struct{ reply runtime.Subject[string] }
	s, err := runtime.Start(runtime.Spec[struct{}, ask]{
		Init: func(p *runtime.Process, _ runtime.Subject[ask], _ *runtime.Selector[ask]) (struct{}, error) {
			return struct{}{}, runtime.Register("registry-test-actor", p.Self())
		},
		Loop: func(_ *runtime.Process, m ask, st struct{}) runtime.Next[struct{}] {
			m.reply.Send("here")
			return runtime.Continue(st)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop(t, s.Owner())
	pid, ok := runtime.WhereIs("registry-test-actor")
	if !ok || pid != s.Owner() {
		t.Fatalf("WhereIs = %v, %v", pid, ok)
	}
	got, err := runtime.Call(me, s, func(r runtime.Subject[string]) ask { return ask{r} }, patience)
	if err != nil || got != "here" {
		t.Errorf("Call = %q, %v", got, err)
	}
}
