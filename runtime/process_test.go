package runtime_test

import (
	"errors"
	"fmt"
	"regexp"
	goruntime "runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

func TestPidString(t *testing.T) {
	pid := spawnWaiting()
	defer stop(t, pid)
	if s := pid.String(); !regexp.MustCompile(`^<0\.[0-9]+>$`).MatchString(s) {
		t.Errorf("Pid.String() = %q, want <0.N>", s)
	}
	other := spawnWaiting()
	defer stop(t, other)
	if pid.String() == other.String() || pid == other {
		t.Errorf("two processes share the pid %v", pid)
	}
	var zero runtime.Pid
	if s := zero.String(); s != "<none>" {
		t.Errorf("zero Pid reads %q, want <none>", s)
	}
	if !zero.IsZero() || zero.Alive() || !errors.Is(zero.Reason(), runtime.NoProc) {
		t.Errorf("zero Pid: IsZero %v Alive %v Reason %v", zero.IsZero(), zero.Alive(), zero.Reason())
	}
}

// The seed's echo process: it answers Ping with Pong, returns on Stop, and
// gives up when nothing comes within its receive timeout.
type echoMsg struct {
	ping  bool
	reply runtime.Subject[string]
}

func echo(timeout time.Duration, bye runtime.Subject[string]) func(*runtime.Process, runtime.Subject[echoMsg]) {
	return func(p *runtime.Process, in runtime.Subject[echoMsg]) {
		for {
			m, err := runtime.Receive(p, in, timeout)
			switch {
			case errors.Is(err, runtime.ErrTimeout):
				bye.Send("timeout")
				return
			case err != nil:
				bye.Send(err.Error())
				return
			case m.ping:
				m.reply.Send("pong")
			default:
				bye.Send("stop")
				return
			}
		}
	}
}

func TestEchoProcess(t *testing.T) {
	clock := runtime.NewFakeClock(time.Unix(0, 0))
	me := attach(t)
	bye := runtime.NewSubject[string](me)
	replies := runtime.NewSubject[string](me)
	spawnFake := func(fn func(*runtime.Process)) runtime.Pid { return runtime.Spawn(fn, runtime.WithClock(clock)) }

	// Ping, Pong, Stop.
	pid, in := inbox(t, me, spawnFake, echo(time.Second, bye))
	mon := me.Monitor(pid)
	for i := 0; i < 3; i++ {
		in.Send(echoMsg{ping: true, reply: replies})
		if got := recv(t, me, replies); got != "pong" {
			t.Fatalf("ping %d: got %q, want pong", i, got)
		}
	}
	in.Send(echoMsg{})
	if got := recv(t, me, bye); got != "stop" {
		t.Errorf("after Stop the echo said %q, want stop", got)
	}
	if d := awaitDown(t, me, mon); d.Reason != runtime.Normal {
		t.Errorf("echo exited with %v, want normal", d.Reason)
	}

	// The receive timeout, on a fake clock: the echo waits exactly its
	// timeout, not less.
	pid, in = inbox(t, me, spawnFake, echo(time.Second, bye))
	mon = me.Monitor(pid)
	if !clock.AwaitTimers(1, patience) {
		t.Fatal("the echo never waited on the clock")
	}
	clock.Advance(999 * time.Millisecond)
	in.Send(echoMsg{ping: true, reply: replies})
	if got := recv(t, me, replies); got != "pong" {
		t.Fatalf("before the timeout: got %q, want pong", got)
	}
	if !clock.AwaitTimers(1, patience) {
		t.Fatal("the echo did not wait again")
	}
	clock.Advance(time.Second)
	if got := recv(t, me, bye); got != "timeout" {
		t.Errorf("after the timeout the echo said %q, want timeout", got)
	}
	awaitDown(t, me, mon)
}

// The seed's state process: a loop that keeps a value, with GetValue and
// SetValue messages.
type stateMsg struct {
	set   *int // SetValue when non-nil, else GetValue
	reply runtime.Subject[int]
}

func TestStateProcess(t *testing.T) {
	me := attach(t)
	pid, in := inbox(t, me, spawn, func(p *runtime.Process, in runtime.Subject[stateMsg]) {
		value := 0
		for {
			m, err := runtime.Receive(p, in, runtime.Forever)
			if err != nil {
				return
			}
			if m.set != nil {
				value = *m.set
				continue
			}
			m.reply.Send(value)
		}
	})
	defer stop(t, pid)
	get := func() int {
		v, err := runtime.Call(me, in, func(r runtime.Subject[int]) stateMsg { return stateMsg{reply: r} }, patience)
		if err != nil {
			t.Fatalf("GetValue: %v", err)
		}
		return v
	}
	if v := get(); v != 0 {
		t.Errorf("initial value %d, want 0", v)
	}
	for _, n := range []int{7, -3, 42} {
		in.Send(stateMsg{set: &n})
		if v := get(); v != n {
			t.Errorf("after SetValue(%d) GetValue = %d", n, v)
		}
	}
}

func TestSendToDeadProcessIsDropped(t *testing.T) {
	me := attach(t)
	pid, in := inbox(t, me, spawn, func(p *runtime.Process, in runtime.Subject[int]) {})
	awaitDown(t, me, me.Monitor(pid))
	done := make(chan struct{})
	go func() { // from a goroutine that is no process
		defer close(done)
		for i := 0; i < 100; i++ {
			in.Send(i)
		}
	}()
	in.Send(1)
	runtime.Send(in, 2)
	<-done
	if n := pid.MailboxLen(); n != 0 {
		t.Errorf("a dead process has %d queued messages", n)
	}
	var zero runtime.Subject[int]
	zero.Send(1) // a zero subject names no process: dropped too
}

func TestReceiveOnAnotherProcessSubject(t *testing.T) {
	me := attach(t)
	pid, theirs := inbox(t, me, spawn, func(p *runtime.Process, in runtime.Subject[int]) {
		runtime.Receive(p, in, runtime.Forever)
	})
	defer stop(t, pid)
	theirs.Send(1)
	if _, err := runtime.Receive(me, theirs, 0); !errors.Is(err, runtime.ErrNotOwner) {
		t.Errorf("Receive on another's subject: %v, want ErrNotOwner", err)
	}
	sel := runtime.Selecting(runtime.NewSelector[int](), theirs, func(v int) int { return v })
	if _, err := sel.Select(me, 0); !errors.Is(err, runtime.ErrNotOwner) {
		t.Errorf("Select on another's subject: %v, want ErrNotOwner", err)
	}
	var zero runtime.Subject[int]
	if _, err := runtime.Receive(me, zero, 0); !errors.Is(err, runtime.ErrNotOwner) {
		t.Errorf("Receive on the zero subject: %v, want ErrNotOwner", err)
	}
}

func TestReceiveTimeout(t *testing.T) {
	clock := runtime.NewFakeClock(time.Unix(0, 0))
	me := attach(t, runtime.WithClock(clock))
	s := runtime.NewSubject[int](me)
	if _, err := runtime.Receive(me, s, 0); !errors.Is(err, runtime.ErrTimeout) {
		t.Errorf("Receive(0) on an empty subject: %v, want ErrTimeout", err)
	}
	s.Send(5)
	if v, err := runtime.Receive(me, s, 0); err != nil || v != 5 {
		t.Errorf("Receive(0) with a message: %v, %v", v, err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := runtime.Receive(me, s, time.Minute)
		errc <- err
	}()
	if !clock.AwaitTimers(1, patience) {
		t.Fatal("Receive set no timer")
	}
	clock.Advance(time.Minute)
	select {
	case err := <-errc:
		if !errors.Is(err, runtime.ErrTimeout) {
			t.Errorf("Receive after its timeout: %v, want ErrTimeout", err)
		}
	case <-time.After(patience):
		t.Fatal("Receive did not time out when the fake clock passed its timeout")
	}
	if n := clock.Timers(); n != 0 {
		t.Errorf("%d timers left on the clock", n)
	}
}

func TestSelectiveReceiveAndMailboxLen(t *testing.T) {
	me := attach(t)
	a := runtime.NewSubject[string](me)
	b := runtime.NewSubject[int](me)
	a.Send("a1")
	b.Send(1)
	a.Send("a2")
	b.Send(2)
	if n := me.Self().MailboxLen(); n != 4 {
		t.Fatalf("MailboxLen = %d, want 4", n)
	}
	if v := recv(t, me, b); v != 1 {
		t.Errorf("first of b: %d", v)
	}
	if v := recv(t, me, b); v != 2 {
		t.Errorf("second of b: %d", v)
	}
	if n := me.Self().MailboxLen(); n != 2 {
		t.Errorf("MailboxLen after taking b's = %d, want 2 (a's stay queued)", n)
	}
	if _, err := runtime.Receive(me, b, 0); !errors.Is(err, runtime.ErrTimeout) {
		t.Errorf("b is empty, yet Receive said %v", err)
	}
	if v := recv(t, me, a); v != "a1" {
		t.Errorf("first of a: %q", v)
	}
	if v := recv(t, me, a); v != "a2" {
		t.Errorf("second of a: %q", v)
	}
	if n := me.Self().MailboxLen(); n != 0 {
		t.Errorf("MailboxLen = %d, want 0", n)
	}
}

func TestMailboxLenCountsDownsAndExits(t *testing.T) {
	me := attach(t)
	me.TrapExits(true)
	defer me.TrapExits(false)
	a, b := spawnWaiting(), spawnWaiting()
	me.Monitor(a)
	me.Link(b)
	runtime.Exit(a, boom) // Exit is synchronous: the Down is queued when it returns
	runtime.Exit(b, boom)
	runtime.NewSubject[int](me).Send(1)
	if n := me.Self().MailboxLen(); n != 3 {
		t.Errorf("MailboxLen = %d, want 3 (a Down, an exit message, a message)", n)
	}
}

// A mailbox holds many more messages than any buffer size, in order.
func TestMailboxIsUnbounded(t *testing.T) {
	me := attach(t)
	s := runtime.NewSubject[int](me)
	const n = 100_000
	for i := 0; i < n; i++ {
		s.Send(i)
	}
	for i := 0; i < n; i++ {
		if v := recv(t, me, s); v != i {
			t.Fatalf("message %d is %d", i, v)
		}
	}
}

func TestPanicBecomesPanicError(t *testing.T) {
	tests := []struct {
		name  string
		value any
		is    error // what errors.Is must find in the reason
	}{
		{"error", boom, boom},
		{"string", "oops", nil},
		{"nil", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			me := attach(t)
			pid, reason := spawnGated(t, me, func(*runtime.Process) { panickingFunction(tt.value) })
			var pe *runtime.PanicError
			if !errors.As(reason, &pe) {
				t.Fatalf("reason %v (%T), want a *PanicError", reason, reason)
			}
			if !strings.HasPrefix(pe.Error(), "panic: ") {
				t.Errorf("Error() = %q, want panic: …", pe.Error())
			}
			if !strings.HasPrefix(string(pe.Stack()), "github.com/otpctl/otpctl/runtime_test.panickingFunction(") {
				t.Errorf("the stack does not start where it panicked:\n%s", pe.Stack())
			}
			if tt.is != nil && !errors.Is(reason, tt.is) {
				t.Errorf("errors.Is(%v, %v) is false", reason, tt.is)
			}
			if !runtime.IsAbnormal(reason) {
				t.Error("a panic is not abnormal")
			}
			if !errors.Is(pid.Reason(), reason) {
				t.Errorf("Pid.Reason() = %v, want %v", pid.Reason(), reason)
			}
		})
	}
}

//go:noinline
func panickingFunction(v any) { panic(v) }

// panicDeep panics n calls deep.
func panicDeep(n int) {
	if n == 0 {
		panic("deep")
	}
	panicDeep(n - 1)
}

// A deep panic's stack keeps its frames (the runtime records few at first
// and reads a deep stack again).
func TestPanicStackOfADeepPanic(t *testing.T) {
	me := attach(t)
	const depth = 40
	_, reason := spawnGated(t, me, func(*runtime.Process) { panicDeep(depth) })
	var pe *runtime.PanicError
	if !errors.As(reason, &pe) {
		t.Fatalf("reason %v (%T), want a *PanicError", reason, reason)
	}
	if n := strings.Count(string(pe.Stack()), "runtime_test.panicDeep("); n != depth+1 {
		t.Errorf("the stack shows %d frames of panicDeep, want %d:\n%s", n, depth+1, pe.Stack())
	}
}

func TestIsAbnormal(t *testing.T) {
	tests := []struct {
		reason error
		want   bool
	}{
		{nil, false},
		{runtime.Normal, false},
		{runtime.Shutdown, false},
		{fmt.Errorf("wrapped: %w", runtime.Shutdown), false},
		{runtime.Killed, true},
		{runtime.NoProc, true},
		{boom, true},
		{&runtime.PanicError{Value: "x"}, true},
	}
	for _, tt := range tests {
		if got := runtime.IsAbnormal(tt.reason); got != tt.want {
			t.Errorf("IsAbnormal(%v) = %v, want %v", tt.reason, got, tt.want)
		}
	}
}

// A goroutine stuck outside the runtime cannot be pre-empted: the process is
// marked dead, its monitors fire, Strays counts it, and it unwinds (running
// its defers) at its next runtime call.
func TestKilledWhileOutsideTheRuntime(t *testing.T) {
	me := attach(t)
	base := strayBase(t)
	release := make(chan struct{})
	outside := make(chan struct{})
	var after atomic.Bool
	unwound := make(chan struct{})
	pid := runtime.Spawn(func(p *runtime.Process) {
		defer close(unwound)
		close(outside)
		<-release // not a runtime call: cannot be interrupted
		runtime.Receive(p, runtime.NewSubject[int](p), 0)
		after.Store(true)
	})
	<-outside
	mon := me.Monitor(pid)
	runtime.Exit(pid, runtime.Killed)
	if d := awaitDown(t, me, mon); d.Reason != runtime.Killed {
		t.Errorf("Down reason %v, want killed", d.Reason)
	}
	if pid.Alive() {
		t.Error("the killed process is alive")
	}
	if n := runtime.Strays(); n != base+1 {
		t.Errorf("Strays() = %d, want %d", n, base+1)
	}
	close(release)
	select {
	case <-unwound:
	case <-time.After(patience):
		t.Fatal("the stray goroutine did not unwind at its next runtime call")
	}
	eventually(t, "Strays back to its base", func() bool { return runtime.Strays() == base })
	if after.Load() {
		t.Error("the stray went on past its runtime call")
	}
	if !errors.Is(pid.Reason(), runtime.Killed) {
		t.Errorf("reason after unwinding: %v, want killed", pid.Reason())
	}
}

func TestSleep(t *testing.T) {
	clock := runtime.NewFakeClock(time.Unix(0, 0))
	me := attach(t)
	woke := runtime.NewSubject[string](me)
	pid := runtime.Spawn(func(p *runtime.Process) {
		in := runtime.NewSubject[int](p)
		in.Send(1) // a message does not cut a sleep short
		p.Sleep(time.Second)
		woke.Send("woke")
		p.Sleep(time.Hour)
		woke.Send("slept an hour")
	}, runtime.WithClock(clock))
	mon := me.Monitor(pid)
	if !clock.AwaitTimers(1, patience) {
		t.Fatal("Sleep set no timer")
	}
	clock.Advance(time.Second)
	if got := recv(t, me, woke); got != "woke" {
		t.Fatalf("got %q", got)
	}
	if !clock.AwaitTimers(1, patience) {
		t.Fatal("second Sleep set no timer")
	}
	runtime.Exit(pid, runtime.Killed) // a sleeping process unwinds when killed
	if d := awaitDown(t, me, mon); d.Reason != runtime.Killed {
		t.Errorf("reason %v, want killed", d.Reason)
	}
	eventually(t, "the sleeper's timer stopped", func() bool { return clock.Timers() == 0 })
	if _, err := runtime.Receive(me, woke, 0); err == nil {
		t.Error("the killed sleeper woke")
	}
}

func TestOnExit(t *testing.T) {
	tests := []struct {
		name string
		run  func(p *runtime.Process, in runtime.Subject[int]) // the process's body after OnExit
		kill error                                             // sent with Exit when non-nil
		want error
	}{
		{"returns", func(p *runtime.Process, in runtime.Subject[int]) { recvOne(p, in) }, nil, runtime.Normal},
		{"panics", func(p *runtime.Process, in runtime.Subject[int]) { recvOne(p, in); panic(boom) }, nil, boom},
		{"killed", func(p *runtime.Process, in runtime.Subject[int]) { recvOne(p, in) }, runtime.Killed, runtime.Killed},
		{"exit signal", func(p *runtime.Process, in runtime.Subject[int]) { recvOne(p, in) }, runtime.Shutdown, runtime.Shutdown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			me := attach(t)
			released := runtime.NewSubject[error](me)
			pid, in := inbox(t, me, spawn, func(p *runtime.Process, in runtime.Subject[int]) {
				p.OnExit(func(error) { t.Error("a replaced OnExit ran") })
				p.OnExit(func(reason error) { released.Send(reason) })
				tt.run(p, in)
			})
			mon := me.Monitor(pid)
			if tt.kill != nil {
				runtime.Exit(pid, tt.kill)
			} else {
				in.Send(1)
			}
			// OnExit runs before the monitors fire: its message is
			// older than the Down.
			type ev struct {
				onExit error
				down   *runtime.Down
			}
			sel := runtime.Selecting(runtime.NewSelector[ev](), released, func(r error) ev { return ev{onExit: r} }).
				SelectingProcessDown(mon, func(d runtime.Down) ev { return ev{down: &d} })
			first, err := sel.Select(me, patience)
			if err != nil {
				t.Fatal(err)
			}
			if first.down != nil {
				t.Fatal("the Down came before OnExit ran")
			}
			if !errors.Is(first.onExit, tt.want) {
				t.Errorf("OnExit got %v, want %v", first.onExit, tt.want)
			}
			second, err := sel.Select(me, patience)
			if err != nil || second.down == nil {
				t.Fatalf("no Down after OnExit: %v %+v", err, second)
			}
			if _, err := sel.Select(me, 0); err == nil {
				t.Error("OnExit ran twice")
			}
		})
	}
}

func recvOne(p *runtime.Process, in runtime.Subject[int]) {
	runtime.Receive(p, in, runtime.Forever)
}

// OnExit runs on the goroutine that ends the process, which may be another
// process's or none: a panic in it must not take that goroutine down.
func TestOnExitPanicDoesNotSpread(t *testing.T) {
	me := attach(t)
	pid, _ := inbox(t, me, spawn, func(p *runtime.Process, in runtime.Subject[int]) {
		p.OnExit(func(error) { panic("in OnExit") })
		recvOne(p, in)
	})
	mon := me.Monitor(pid)
	runtime.Exit(pid, boom) // would panic here, on the test's goroutine
	if d := awaitDown(t, me, mon); d.Reason != boom {
		t.Errorf("reason %v, want boom", d.Reason)
	}
}

func TestAttachedProcessKilled(t *testing.T) {
	outer := attach(t)
	done := make(chan error, 1)
	ready := runtime.NewSubject[runtime.Pid](outer)
	go func() {
		p, detach := runtime.Attach()
		defer detach()
		ready.Send(p.Self())
		_, err := runtime.Receive(p, runtime.NewSubject[int](p), runtime.Forever)
		done <- err
	}()
	pid := recv(t, outer, ready)
	mon := outer.Monitor(pid)
	runtime.Exit(pid, boom)
	select {
	case err := <-done:
		if !errors.Is(err, runtime.ErrExited) {
			t.Errorf("Receive on a killed attached process: %v, want ErrExited", err)
		}
	case <-time.After(patience):
		t.Fatal("Receive did not return when its attached process was killed")
	}
	if d := awaitDown(t, outer, mon); d.Reason != boom {
		t.Errorf("reason %v, want boom", d.Reason)
	}
}

func TestDetachIsNormalExit(t *testing.T) {
	me := attach(t)
	p, detach := runtime.Attach()
	mon := me.Monitor(p.Self())
	detach()
	if d := awaitDown(t, me, mon); d.Reason != runtime.Normal {
		t.Errorf("reason %v, want normal", d.Reason)
	}
}

// Messages from one sender arrive in the order it sent them, whatever other
// senders do at the same time (Erlang's ordering guarantee).
func TestSendOrderPerSender(t *testing.T) {
	me := attach(t)
	type msg struct{ from, n int }
	s := runtime.NewSubject[msg](me)
	const senders, each = 4, 2000
	for g := 0; g < senders; g++ {
		go func() {
			for i := 0; i < each; i++ {
				s.Send(msg{g, i})
			}
		}()
	}
	next := make([]int, senders)
	for i := 0; i < senders*each; i++ {
		m := recv(t, me, s)
		if m.n != next[m.from] {
			t.Fatalf("from sender %d: got message %d, want %d", m.from, m.n, next[m.from])
		}
		next[m.from]++
	}
}

// Call from an attached process that is killed while it waits returns
// ErrExited rather than hanging or unwinding the caller's goroutine.
func TestCallFromKilledAttachedProcess(t *testing.T) {
	me := attach(t)
	silent, err := runtime.Start(runtime.Spec[struct{}, runtime.Subject[int]]{
		Loop: func(_ *runtime.Process, _ runtime.Subject[int], st struct{}) runtime.Next[struct{}] {
			return runtime.Continue(st) // never replies
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop(t, silent.Owner())
	// The caller's clock tells when it waits: its Call timer is set.
	clock := runtime.NewFakeClock(time.Unix(0, 0))
	callers := runtime.NewSubject[runtime.Pid](me)
	errc := make(chan error, 1)
	go func() {
		p, detach := runtime.Attach(runtime.WithClock(clock))
		defer detach()
		callers.Send(p.Self())
		_, err := runtime.Call(p, silent, func(r runtime.Subject[int]) runtime.Subject[int] { return r }, time.Hour)
		errc <- err
	}()
	caller := recv(t, me, callers)
	if !clock.AwaitTimers(1, patience) {
		t.Fatal("the caller never waited")
	}
	runtime.Exit(caller, runtime.Killed)
	select {
	case err := <-errc:
		if err != runtime.ErrExited {
			t.Errorf("Call: %v, want ErrExited", err)
		}
	case <-time.After(patience):
		t.Fatal("Call hung after its caller was killed")
	}
}

// Regression: a process woken from a wait but not yet running again was
// counted as a stray when killed at that instant, and a supervisor then
// reported its child "not stopped", though the goroutine is in the runtime
// and unwinds before it runs any code of its own. With one P the woken
// goroutine cannot run between the Send and the Exit.
func TestKillWokenProcessIsNotStray(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(1))
	me, done := runtime.Attach()
	defer done()
	for _, wait := range []struct {
		name string
		fn   func(p *runtime.Process, inbox runtime.Subject[int])
	}{
		{"receive", func(p *runtime.Process, inbox runtime.Subject[int]) { runtime.Receive(p, inbox, runtime.Forever) }},
		{"receive with timeout", func(p *runtime.Process, inbox runtime.Subject[int]) { runtime.Receive(p, inbox, time.Hour) }},
		{"select", func(p *runtime.Process, inbox runtime.Subject[int]) {
			runtime.Selecting(runtime.NewSelector[int](), inbox, func(n int) int { return n }).Select(p, runtime.Forever)
		}},
	} {
		t.Run(wait.name, func(t *testing.T) {
			var ran atomic.Bool
			ready := runtime.NewSubject[runtime.Subject[int]](me)
			pid := runtime.Spawn(func(p *runtime.Process) {
				inbox := runtime.NewSubject[int](p)
				ready.Send(inbox)
				wait.fn(p, inbox)
				ran.Store(true) // it must unwind in the wait instead
			})
			// With one P, the child runs on after its send until it
			// parks in its wait; only then does this goroutine run.
			inbox, err := runtime.Receive(me, ready, 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			inbox.Send(1)
			runtime.Exit(pid, runtime.Killed)
			if runtime.IsStray(pid) {
				t.Error("a process killed just after it was woken is counted as a stray")
			}
			eventually(t, "the strays to unwind", func() bool { return runtime.Strays() == 0 })
			if ran.Load() {
				t.Error("the killed process returned from its wait")
			}
		})
	}
}
