package runtime_test

import (
	"errors"
	"fmt"
	"strings"
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

// Receive is selective: it takes the oldest message of one subject and
// leaves the others queued.
func ExampleReceive() {
	me, done := runtime.Attach()
	defer done()

	words := runtime.NewSubject[string](me)
	numbers := runtime.NewSubject[int](me)
	words.Send("first")
	numbers.Send(2)

	n, _ := runtime.Receive(me, numbers, time.Second) // although a word came first
	fmt.Println(n, "and still queued:", me.Self().MailboxLen())
	w, _ := runtime.Receive(me, words, 0)
	fmt.Println(w)
	_, err := runtime.Receive(me, words, 0) // 0 only looks
	fmt.Println(err)
	// Output:
	// 2 and still queued: 1
	// first
	// timeout
}

// A selector waits on several subjects at once, mapping each to one type,
// and takes messages in the order they came.
func ExampleNewSelector() {
	me, done := runtime.Attach()
	defer done()

	numbers := runtime.NewSubject[int](me)
	words := runtime.NewSubject[string](me)
	sel := runtime.NewSelector[string]()
	runtime.Selecting(sel, numbers, func(n int) string { return fmt.Sprint("number ", n) })
	runtime.Selecting(sel, words, func(w string) string { return "word " + w })

	words.Send("hi")
	numbers.Send(7)
	for {
		msg, err := sel.Select(me, 0)
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println(msg)
	}
	// Output:
	// word hi
	// number 7
	// timeout
}

// A process that traps exits gets a linked child's crash as a message
// instead of dying with it.
func ExampleSpawnLink() {
	me, done := runtime.Attach()
	defer done()

	me.TrapExits(true)
	child := runtime.SpawnLink(me, func(*runtime.Process) { panic("out of cheese") })
	m, _ := runtime.NewSelector[runtime.ExitMessage]().
		SelectingTrappedExits(func(m runtime.ExitMessage) runtime.ExitMessage { return m }).
		Select(me, time.Second)
	fmt.Println(m.From == child, m.Reason)
	// Output:
	// true panic: out of cheese
}

// A monitor delivers one Down when the process exits; monitoring a process
// that is already dead gives a Down with NoProc at once.
func ExampleProcess_Monitor() {
	me, done := runtime.Attach()
	defer done()

	pid := runtime.Spawn(func(p *runtime.Process) {
		runtime.Receive(p, runtime.NewSubject[int](p), runtime.Forever)
	})
	mon := me.Monitor(pid)
	runtime.Exit(pid, runtime.Shutdown)
	down := func(m runtime.Monitor) runtime.Down {
		d, _ := runtime.NewSelector[runtime.Down]().
			SelectingProcessDown(m, func(d runtime.Down) runtime.Down { return d }).
			Select(me, time.Second)
		return d
	}
	d := down(mon)
	fmt.Println(d.Pid == pid, d.Reason)
	fmt.Println(down(me.Monitor(pid)).Reason)
	// Output:
	// true shutdown
	// noproc
}

// Call sends a request with a fresh reply subject and waits for the reply,
// a timeout, or the callee's exit.
func ExampleCall() {
	me, done := runtime.Attach()
	defer done()

	type request struct {
		text  string
		reply runtime.Subject[string]
	}
	shout, _ := runtime.Start(runtime.Spec[struct{}, request]{
		Loop: func(_ *runtime.Process, r request, st struct{}) runtime.Next[struct{}] {
			if r.text != "" { // an empty request gets no answer
				r.reply.Send(strings.ToUpper(r.text))
			}
			return runtime.Continue(st)
		},
	})
	ask := func(text string) (string, error) {
		return runtime.Call(me, shout, func(reply runtime.Subject[string]) request {
			return request{text, reply}
		}, 50*time.Millisecond)
	}

	fmt.Println(ask("hello"))
	fmt.Println(ask("")) // no reply: a timeout, and a late reply would be dropped
	runtime.Exit(shout.Owner(), runtime.Killed)
	_, err := ask("anyone?")
	var ce *runtime.CallError
	fmt.Println(errors.As(err, &ce), ce.Reason)
	// Output:
	// HELLO <nil>
	//  timeout
	// true noproc
}

// Start runs an actor's Init, bounded by its InitTimeout, before it returns;
// a failing Init fails the start with an *InitError.
func ExampleStart() {
	me, done := runtime.Attach()
	defer done()

	type greet struct{ reply runtime.Subject[string] }
	loop := func(_ *runtime.Process, m greet, greeting string) runtime.Next[string] {
		m.reply.Send(greeting)
		return runtime.Continue(greeting)
	}
	greeter, err := runtime.Start(runtime.Spec[string, greet]{
		Init: func(*runtime.Process, runtime.Subject[greet], *runtime.Selector[greet]) (string, error) {
			return "hello from init", nil
		},
		InitTimeout: time.Second,
		Loop:        loop,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(runtime.Call(me, greeter, func(r runtime.Subject[string]) greet { return greet{r} }, time.Second))
	runtime.Exit(greeter.Owner(), runtime.Shutdown)

	_, err = runtime.Start(runtime.Spec[string, greet]{
		Init: func(*runtime.Process, runtime.Subject[greet], *runtime.Selector[greet]) (string, error) {
			return "", errors.New("no configuration")
		},
		Loop: loop,
	})
	var ie *runtime.InitError
	fmt.Println(errors.As(err, &ie), ie.Reason)
	// Output:
	// hello from init <nil>
	// true no configuration
}

// A process can be registered under a name; the name goes when it exits.
func ExampleRegister() {
	pid := runtime.Spawn(func(p *runtime.Process) {
		runtime.Receive(p, runtime.NewSubject[int](p), runtime.Forever)
	})
	if err := runtime.Register("example-logger", pid); err != nil {
		panic(err)
	}
	found, ok := runtime.WhereIs("example-logger")
	fmt.Println(ok, found == pid)
	runtime.Exit(pid, runtime.Killed)
	_, ok = runtime.WhereIs("example-logger")
	fmt.Println(ok)
	// Output:
	// true true
	// false
}

// A FakeClock moves only when told to: a test drives timeouts without
// sleeping.
func ExampleFakeClock() {
	clock := runtime.NewFakeClock(time.Unix(0, 0))
	me, done := runtime.Attach()
	defer done()

	result := runtime.NewSubject[error](me)
	runtime.Spawn(func(p *runtime.Process) {
		_, err := runtime.Receive(p, runtime.NewSubject[int](p), time.Hour)
		result.Send(err)
	}, runtime.WithClock(clock))

	clock.AwaitTimers(1, time.Second) // the process waits on the clock
	clock.Advance(time.Hour)
	err, _ := runtime.Receive(me, result, time.Second)
	fmt.Println(err)
	// Output:
	// timeout
}
