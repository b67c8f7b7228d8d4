package runtime_test

import (
	"fmt"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// A counter actor, called from a test's own goroutine.
func Example() {
	me, done := runtime.Attach()
	defer done()

	type msg struct {
		add   int
		reply runtime.Subject[int]
	}
	counter, err := runtime.Start(runtime.Spec[int, msg]{
		Loop: func(_ *runtime.Process, m msg, n int) runtime.Next[int] {
			n += m.add
			m.reply.Send(n)
			return runtime.Continue(n)
		},
	})
	if err != nil {
		panic(err)
	}
	for _, add := range []int{1, 2, 3} {
		n, _ := runtime.Call(me, counter, func(r runtime.Subject[int]) msg { return msg{add, r} }, time.Second)
		fmt.Println(n)
	}
	runtime.Exit(counter.Owner(), runtime.Killed)
	_, err = runtime.Call(me, counter, func(r runtime.Subject[int]) msg { return msg{1, r} }, time.Second)
	fmt.Println(err != nil)
	// Output:
	// 1
	// 3
	// 6
	// true
}

// A plain process with a receive loop, and a monitor that sees it end.
func ExampleSpawn() {
	me, done := runtime.Attach()
	defer done()

	ready := runtime.NewSubject[runtime.Subject[string]](me)
	pid := runtime.Spawn(func(p *runtime.Process) {
		inbox := runtime.NewSubject[string](p)
		ready.Send(inbox)
		for {
			s, err := runtime.Receive(p, inbox, time.Second)
			if err != nil || s == "stop" {
				return
			}
			fmt.Println("got", s)
		}
	})
	mon := me.Monitor(pid)
	inbox, _ := runtime.Receive(me, ready, time.Second)
	inbox.Send("ping")
	inbox.Send("stop")
	down, _ := runtime.NewSelector[runtime.Down]().
		SelectingProcessDown(mon, func(d runtime.Down) runtime.Down { return d }).
		Select(me, time.Second)
	fmt.Println("down:", down.Reason)
	// Output:
	// got ping
	// down: normal
}

// OnExit releases what a process owns outside the runtime before anyone
// learns of its exit: here a monitor's Down comes after the cleanup.
func ExampleProcess_OnExit() {
	me, done := runtime.Attach()
	defer done()

	ready := runtime.NewSubject[bool](me)
	pid := runtime.Spawn(func(p *runtime.Process) {
		p.OnExit(func(reason error) { fmt.Println("released, reason:", reason) })
		ready.Send(true)
		runtime.Receive(p, runtime.NewSubject[int](p), runtime.Forever)
	})
	runtime.Receive(me, ready, time.Second)
	mon := me.Monitor(pid)
	runtime.Exit(pid, runtime.Killed)
	d, _ := runtime.NewSelector[runtime.Down]().
		SelectingProcessDown(mon, func(d runtime.Down) runtime.Down { return d }).
		Select(me, time.Second)
	fmt.Println("down:", d.Reason)
	// Output:
	// released, reason: killed
	// down: killed
}

// ForceExit makes a process exit with a chosen reason even when it traps
// exits or the reason is normal: the fault injection behind `otpctl kill`.
func ExampleForceExit() {
	me, done := runtime.Attach()
	defer done()

	pid := runtime.Spawn(func(p *runtime.Process) {
		p.TrapExits(true)
		runtime.Receive(p, runtime.NewSubject[int](p), runtime.Forever)
	})
	mon := me.Monitor(pid)
	runtime.ForceExit(pid, runtime.Normal)
	d, _ := runtime.NewSelector[runtime.Down]().
		SelectingProcessDown(mon, func(d runtime.Down) runtime.Down { return d }).
		Select(me, time.Second)
	fmt.Println("down:", d.Reason)
	// Output:
	// down: normal
}
