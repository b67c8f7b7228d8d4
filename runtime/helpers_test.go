package runtime_test

import (
	"errors"
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// patience bounds every wait in these tests. It is generous because the
// machine is shared and the race detector is slow; a test that passes waits
// far less.
const patience = 10 * time.Second

// attach makes the test's goroutine a process for the length of the test.
func attach(t testing.TB, opts ...runtime.Option) *runtime.Process {
	t.Helper()
	p, detach := runtime.Attach(opts...)
	t.Cleanup(detach)
	return p
}

// recv receives one message from s or fails the test.
func recv[T any](t testing.TB, p *runtime.Process, s runtime.Subject[T]) T {
	t.Helper()
	v, err := runtime.Receive(p, s, patience)
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	return v
}

// awaitDown waits for the Down of mon or fails the test.
func awaitDown(t testing.TB, p *runtime.Process, mon runtime.Monitor) runtime.Down {
	t.Helper()
	d, err := runtime.NewSelector[runtime.Down]().
		SelectingProcessDown(mon, func(d runtime.Down) runtime.Down { return d }).
		Select(p, patience)
	if err != nil {
		t.Fatalf("waiting for the Down of %v: %v", mon.Pid(), err)
	}
	return d
}

// awaitExit waits for a trapped exit message or fails the test.
func awaitExit(t testing.TB, p *runtime.Process) runtime.ExitMessage {
	t.Helper()
	m, err := runtime.NewSelector[runtime.ExitMessage]().
		SelectingTrappedExits(func(m runtime.ExitMessage) runtime.ExitMessage { return m }).
		Select(p, patience)
	if err != nil {
		t.Fatalf("waiting for an exit message: %v", err)
	}
	return m
}

// spawnGated spawns fn in a process that waits for go before it runs, and
// returns the process's exit reason. A monitor set after Spawn of a process
// that ends at once would see it dead already (noproc): the gate opens once
// the monitor is in place.
func spawnGated(t testing.TB, p *runtime.Process, fn func(*runtime.Process), opts ...runtime.Option) (runtime.Pid, error) {
	t.Helper()
	gate := make(chan struct{})
	pid := runtime.Spawn(func(c *runtime.Process) {
		<-gate
		fn(c)
	}, opts...)
	mon := p.Monitor(pid)
	close(gate)
	return pid, awaitDown(t, p, mon).Reason
}

// stop kills pid and waits for it to be dead, for test clean-up.
func stop(t testing.TB, pids ...runtime.Pid) {
	t.Helper()
	for _, pid := range pids {
		runtime.Exit(pid, runtime.Killed)
		if pid.Alive() {
			t.Errorf("%v still alive after Exit(killed)", pid)
		}
	}
}

// eventually polls cond until it holds or patience runs out. It is for
// states that no message announces (goroutine counts, Strays).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// strayBase waits until the strays of earlier tests have unwound (their
// stuck goroutines are released in their cleanup, but unwind on their own
// time) and returns the count, zero, for a test that counts its own.
func strayBase(t testing.TB) int {
	t.Helper()
	eventually(t, "earlier tests' strays to unwind", func() bool { return runtime.Strays() == 0 })
	return 0
}

// isReason reports whether reason is (or wraps) want, for table tests that
// compare exit reasons.
func isReason(reason, want error) bool { return errors.Is(reason, want) }

// boom is an abnormal exit reason for tests.
var boom = errors.New("boom")

// spawnWaiting spawns a process that receives on a subject nobody sends to,
// so it waits until it is killed.
func spawnWaiting(opts ...runtime.Option) runtime.Pid {
	return runtime.Spawn(func(p *runtime.Process) {
		runtime.Receive(p, runtime.NewSubject[struct{}](p), runtime.Forever)
	}, opts...)
}

// inbox spawns a process that hands its own subject back to the caller and
// then runs fn with it.
func inbox[T any](t testing.TB, me *runtime.Process, spawn func(func(*runtime.Process)) runtime.Pid, fn func(p *runtime.Process, in runtime.Subject[T])) (runtime.Pid, runtime.Subject[T]) {
	t.Helper()
	ready := runtime.NewSubject[runtime.Subject[T]](me)
	pid := spawn(func(p *runtime.Process) {
		in := runtime.NewSubject[T](p)
		ready.Send(in)
		fn(p, in)
	})
	return pid, recv(t, me, ready)
}

func spawn(fn func(*runtime.Process)) runtime.Pid { return runtime.Spawn(fn) }
