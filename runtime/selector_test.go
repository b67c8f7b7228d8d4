package runtime_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// A selector takes messages in the order they arrived across its sources,
// each mapped to its one result type.
func TestSelectorTakesOldestFirst(t *testing.T) {
	me := attach(t)
	me.TrapExits(true)
	ints := runtime.NewSubject[int](me)
	strs := runtime.NewSubject[string](me)
	other := runtime.NewSubject[float64](me) // not selected
	victim, linked := spawnWaiting(), spawnWaiting()
	mon := me.Monitor(victim)
	me.Link(linked)

	ints.Send(1)
	other.Send(0.5)
	strs.Send("a")
	runtime.Exit(victim, boom) // a Down
	ints.Send(2)
	runtime.Exit(linked, boom) // an exit message
	strs.Send("b")

	sel := runtime.NewSelector[string]()
	runtime.Selecting(sel, ints, func(v int) string { return fmt.Sprint("int ", v) })
	runtime.Selecting(sel, strs, func(s string) string { return "str " + s })
	sel.SelectingProcessDown(mon, func(d runtime.Down) string { return fmt.Sprint("down ", d.Reason) })
	sel.SelectingTrappedExits(func(m runtime.ExitMessage) string { return fmt.Sprint("exit ", m.Reason) })

	want := []string{"int 1", "str a", "down boom", "int 2", "exit boom", "str b"}
	for _, w := range want {
		got, err := sel.Select(me, patience)
		if err != nil {
			t.Fatalf("want %q: %v", w, err)
		}
		if got != w {
			t.Errorf("got %q, want %q", got, w)
		}
	}
	if _, err := sel.Select(me, 0); !errors.Is(err, runtime.ErrTimeout) {
		t.Errorf("an empty selector: %v, want ErrTimeout", err)
	}
	if n := me.Self().MailboxLen(); n != 1 {
		t.Errorf("MailboxLen = %d, want 1 (the unselected message)", n)
	}
	if v := recv(t, me, other); v != 0.5 {
		t.Errorf("unselected message %v", v)
	}
}

// SelectingProcessDown takes only its own monitor's Down; others stay
// queued for whoever selects them.
func TestSelectingProcessDownIsSelective(t *testing.T) {
	me := attach(t)
	a, b := spawnWaiting(), spawnWaiting()
	ma, mb := me.Monitor(a), me.Monitor(b)
	runtime.Exit(a, boom)
	runtime.Exit(b, runtime.Shutdown)
	id := func(d runtime.Down) runtime.Down { return d }
	d, err := runtime.NewSelector[runtime.Down]().SelectingProcessDown(mb, id).Select(me, patience)
	if err != nil || d.Pid != b || d.Reason != runtime.Shutdown || d.Monitor != mb {
		t.Errorf("Down of b: %+v, %v", d, err)
	}
	if _, err := runtime.NewSelector[runtime.Down]().SelectingProcessDown(mb, id).Select(me, 0); err == nil {
		t.Error("a monitor delivered two Downs")
	}
	d, err = runtime.NewSelector[runtime.Down]().SelectingAnyProcessDown(id).Select(me, 0)
	if err != nil || d.Pid != a || d.Monitor != ma || d.Reason != boom {
		t.Errorf("Down of a: %+v, %v", d, err)
	}
}

func TestSelectTimeoutOnFakeClock(t *testing.T) {
	clock := runtime.NewFakeClock(time.Unix(0, 0))
	me := attach(t)
	result := runtime.NewSubject[error](me)
	pid := runtime.Spawn(func(p *runtime.Process) {
		s := runtime.NewSubject[int](p)
		sel := runtime.Selecting(runtime.NewSelector[int](), s, func(v int) int { return v }).
			SelectingAnyProcessDown(func(runtime.Down) int { return -1 })
		_, err := sel.Select(p, 30*time.Second)
		result.Send(err)
	}, runtime.WithClock(clock))
	defer stop(t, pid)
	if !clock.AwaitTimers(1, patience) {
		t.Fatal("Select set no timer")
	}
	clock.Advance(29 * time.Second)
	if _, err := runtime.Receive(me, result, 0); err == nil {
		t.Fatal("Select returned before its timeout")
	}
	clock.Advance(time.Second)
	if err := recv(t, me, result); !errors.Is(err, runtime.ErrTimeout) {
		t.Errorf("Select: %v, want ErrTimeout", err)
	}
}

func TestMonitor(t *testing.T) {
	me := attach(t)
	pid, in := inbox(t, me, spawn, func(p *runtime.Process, in runtime.Subject[error]) {
		if err, _ := runtime.Receive(p, in, patience); err != nil {
			panic(err)
		}
	})
	mon := me.Monitor(pid)
	if mon.Pid() != pid {
		t.Errorf("Monitor.Pid() = %v, want %v", mon.Pid(), pid)
	}
	in.Send(boom)
	d := awaitDown(t, me, mon)
	if d.Pid != pid || d.Monitor != mon || !errors.Is(d.Reason, boom) {
		t.Errorf("Down %+v", d)
	}
}

func TestMonitorDeadProcess(t *testing.T) {
	me := attach(t)
	dead := runtime.Spawn(func(*runtime.Process) {})
	awaitDown(t, me, me.Monitor(dead))
	mon := me.Monitor(dead)
	// At once: the Down is queued when Monitor returns.
	d, err := runtime.NewSelector[runtime.Down]().
		SelectingProcessDown(mon, func(d runtime.Down) runtime.Down { return d }).
		Select(me, 0)
	if err != nil {
		t.Fatalf("no Down at once for a dead process: %v", err)
	}
	if d.Reason != runtime.NoProc || d.Pid != dead {
		t.Errorf("Down %+v, want noproc from %v", d, dead)
	}
	zero := me.Monitor(runtime.Pid{})
	if d := awaitDown(t, me, zero); d.Reason != runtime.NoProc {
		t.Errorf("Down of the zero pid: %v, want noproc", d.Reason)
	}
}

func TestDemonitor(t *testing.T) {
	me := attach(t)
	t.Run("before the exit", func(t *testing.T) {
		pid := spawnWaiting()
		mon := me.Monitor(pid)
		me.Demonitor(mon)
		runtime.Exit(pid, boom)
		if n := me.Self().MailboxLen(); n != 0 {
			t.Errorf("a removed monitor delivered: MailboxLen %d", n)
		}
	})
	t.Run("flushes a delivered Down", func(t *testing.T) {
		pid := spawnWaiting()
		mon := me.Monitor(pid)
		runtime.Exit(pid, boom)
		if n := me.Self().MailboxLen(); n != 1 {
			t.Fatalf("MailboxLen %d, want the Down", n)
		}
		me.Demonitor(mon)
		if n := me.Self().MailboxLen(); n != 0 {
			t.Errorf("Demonitor left the Down queued: MailboxLen %d", n)
		}
		if _, err := runtime.NewSelector[runtime.Down]().
			SelectingAnyProcessDown(func(d runtime.Down) runtime.Down { return d }).
			Select(me, 0); err == nil {
			t.Error("a Down was received after Demonitor")
		}
	})
	t.Run("keeps other Downs", func(t *testing.T) {
		a, b := spawnWaiting(), spawnWaiting()
		ma, mb := me.Monitor(a), me.Monitor(b)
		runtime.Exit(a, boom)
		runtime.Exit(b, boom)
		me.Demonitor(ma)
		if d := awaitDown(t, me, mb); d.Pid != b {
			t.Errorf("Down %+v", d)
		}
	})
}

// The seed's pool monitor: a process monitors its workers and learns of each
// one's end, whichever way it ends.
func TestMonitorPoolOfWorkers(t *testing.T) {
	me := attach(t)
	reasons := []error{runtime.Normal, boom, runtime.Killed, runtime.Shutdown, nil /* panics */}
	workers := make([]runtime.Subject[error], len(reasons))
	byPid := map[runtime.Pid]int{}
	for i := range reasons {
		pid, in := inbox(t, me, spawn, func(p *runtime.Process, in runtime.Subject[error]) {
			reason, _ := runtime.Receive(p, in, patience)
			switch reason {
			case runtime.Normal:
				return
			case nil:
				panic("worker")
			default:
				p.SendExit(p.Self(), reason)
			}
		})
		workers[i] = in
		byPid[pid] = i
		me.Monitor(pid)
	}
	for i := len(workers) - 1; i >= 0; i-- {
		workers[i].Send(reasons[i])
	}
	sel := runtime.NewSelector[runtime.Down]().SelectingAnyProcessDown(func(d runtime.Down) runtime.Down { return d })
	for range workers {
		d, err := sel.Select(me, patience)
		if err != nil {
			t.Fatal(err)
		}
		i, ok := byPid[d.Pid]
		if !ok {
			t.Fatalf("Down of an unknown process %v", d.Pid)
		}
		delete(byPid, d.Pid)
		var pe *runtime.PanicError
		if want := reasons[i]; (want == nil && !errors.As(d.Reason, &pe)) || (want != nil && d.Reason != want) {
			t.Errorf("worker %d ended with %v, want %v", i, d.Reason, want)
		}
	}
}
