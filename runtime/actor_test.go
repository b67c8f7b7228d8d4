package runtime_test

import (
	"errors"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// The seed's counter actor.
type counterMsg struct {
	op    string // increment, decrement, get, reset
	reply runtime.Subject[int]
}

func counterSpec(initial int) runtime.Spec[int, counterMsg] {
	return runtime.Spec[int, counterMsg]{
		Init: func(*runtime.Process, runtime.Subject[counterMsg], *runtime.Selector[counterMsg]) (int, error) {
			return initial, nil
		},
		Loop: func(_ *runtime.Process, m counterMsg, n int) runtime.Next[int] {
			switch m.op {
			case "increment":
				n++
			case "decrement":
				n--
			case "reset":
				n = initial
			case "stop":
				return runtime.Stop[int](nil)
			}
			m.reply.Send(n)
			return runtime.Continue(n)
		},
	}
}

func TestCounterActor(t *testing.T) {
	me := attach(t)
	counter, err := runtime.Start(counterSpec(10))
	if err != nil {
		t.Fatal(err)
	}
	call := func(op string) int {
		t.Helper()
		n, err := runtime.Call(me, counter, func(r runtime.Subject[int]) counterMsg { return counterMsg{op, r} }, patience)
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		return n
	}
	steps := []struct {
		op   string
		want int
	}{
		{"get", 10}, {"increment", 11}, {"increment", 12}, {"decrement", 11}, {"reset", 10}, {"decrement", 9}, {"get", 9},
	}
	for _, s := range steps {
		if got := call(s.op); got != s.want {
			t.Errorf("%s = %d, want %d", s.op, got, s.want)
		}
	}
	// Casts are plain sends; a Call after them sees their effect.
	for i := 0; i < 100; i++ {
		counter.Send(counterMsg{op: "increment", reply: runtime.NewSubject[int](me)})
	}
	if got := call("get"); got != 109 {
		t.Errorf("after 100 casts get = %d, want 109", got)
	}
	mon := me.Monitor(counter.Owner())
	counter.Send(counterMsg{op: "stop"})
	if d := awaitDown(t, me, mon); d.Reason != runtime.Normal {
		t.Errorf("Stop(nil) exited with %v, want normal", d.Reason)
	}
}

// The seed's cache actor: get, put, delete, size, with a maximum size that
// evicts the oldest key.
type cacheMsg struct {
	op, key, value string
	reply          runtime.Subject[cacheReply]
}

type cacheReply struct {
	value string
	found bool
	size  int
}

type cacheState struct {
	max   int
	items map[string]string
	order []string
}

func cacheSpec(max int) runtime.Spec[*cacheState, cacheMsg] {
	return runtime.Spec[*cacheState, cacheMsg]{
		Init: func(*runtime.Process, runtime.Subject[cacheMsg], *runtime.Selector[cacheMsg]) (*cacheState, error) {
			return &cacheState{max: max, items: map[string]string{}}, nil
		},
		Loop: func(_ *runtime.Process, m cacheMsg, c *cacheState) runtime.Next[*cacheState] {
			var r cacheReply
			switch m.op {
			case "get":
				r.value, r.found = c.items[m.key]
			case "put":
				if _, ok := c.items[m.key]; !ok {
					if len(c.items) == c.max {
						delete(c.items, c.order[0])
						c.order = c.order[1:]
					}
					c.order = append(c.order, m.key)
				}
				c.items[m.key] = m.value
			case "delete":
				_, r.found = c.items[m.key]
				delete(c.items, m.key)
				for i, k := range c.order {
					if k == m.key {
						c.order = append(c.order[:i], c.order[i+1:]...)
						break
					}
				}
			}
			r.size = len(c.items)
			m.reply.Send(r)
			return runtime.Continue(c)
		},
	}
}

func TestCacheActor(t *testing.T) {
	me := attach(t)
	cache, err := runtime.Start(cacheSpec(2))
	if err != nil {
		t.Fatal(err)
	}
	defer stop(t, cache.Owner())
	steps := []struct {
		op, key, value string
		want           cacheReply
	}{
		{"get", "a", "", cacheReply{}},
		{"put", "a", "1", cacheReply{size: 1}},
		{"get", "a", "", cacheReply{value: "1", found: true, size: 1}},
		{"put", "a", "2", cacheReply{size: 1}},
		{"put", "b", "3", cacheReply{size: 2}},
		{"put", "c", "4", cacheReply{size: 2}}, // evicts a
		{"get", "a", "", cacheReply{size: 2}},
		{"get", "c", "", cacheReply{value: "4", found: true, size: 2}},
		{"delete", "b", "", cacheReply{found: true, size: 1}},
		{"delete", "b", "", cacheReply{size: 1}},
		{"size", "", "", cacheReply{size: 1}},
	}
	for _, s := range steps {
		got, err := runtime.Call(me, cache, func(r runtime.Subject[cacheReply]) cacheMsg {
			return cacheMsg{s.op, s.key, s.value, r}
		}, patience)
		if err != nil {
			t.Fatalf("%s %s: %v", s.op, s.key, err)
		}
		if got != s.want {
			t.Errorf("%s %s %s = %+v, want %+v", s.op, s.key, s.value, got, s.want)
		}
	}
}

func TestActorInit(t *testing.T) {
	type never struct{}
	loop := func(_ *runtime.Process, _ never, s string) runtime.Next[string] { return runtime.Continue(s) }
	tests := []struct {
		name string
		init func(*runtime.Process, runtime.Subject[never], *runtime.Selector[never]) (string, error)
		want error // nil: the start succeeds
	}{
		{"ok", func(*runtime.Process, runtime.Subject[never], *runtime.Selector[never]) (string, error) {
			return "ready", nil
		}, nil},
		{"error", func(*runtime.Process, runtime.Subject[never], *runtime.Selector[never]) (string, error) {
			return "", boom
		}, boom},
		{"panic", func(*runtime.Process, runtime.Subject[never], *runtime.Selector[never]) (string, error) { panic(boom) }, boom},
		{"exits", func(p *runtime.Process, _ runtime.Subject[never], _ *runtime.Selector[never]) (string, error) {
			p.SendExit(p.Self(), runtime.Shutdown)
			return "", nil
		}, runtime.Shutdown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			me := attach(t)
			s, err := runtime.Start(runtime.Spec[string, never]{Init: tt.init, Loop: loop})
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if !s.Owner().Alive() {
					t.Error("started actor is dead")
				}
				stop(t, s.Owner())
				return
			}
			var ie *runtime.InitError
			if !errors.As(err, &ie) || !errors.Is(err, tt.want) {
				t.Fatalf("Start: %v, want an *InitError with %v", err, tt.want)
			}
			if ie.Pid.IsZero() {
				t.Error("the InitError names no process")
			}
			if !s.IsZero() {
				t.Error("a failed Start returned a subject")
			}
			// The actor is dead, with the reason.
			mon := me.Monitor(ie.Pid)
			if d := awaitDown(t, me, mon); !errors.Is(d.Reason, tt.want) && d.Reason != runtime.NoProc {
				t.Errorf("actor exited with %v", d.Reason)
			}
			if !errors.Is(ie.Pid.Reason(), tt.want) {
				t.Errorf("actor's reason %v, want %v", ie.Pid.Reason(), tt.want)
			}
		})
	}
}

// The init timeout on a fake clock: the start fails exactly when the clock
// passes InitTimeout (DefaultInitTimeout when zero), and the stuck init is
// abandoned as a stray until it returns.
func TestActorInitTimeout(t *testing.T) {
	for _, timeout := range []time.Duration{0, 300 * time.Millisecond} {
		t.Run(timeout.String(), func(t *testing.T) {
			clock := runtime.NewFakeClock(time.Unix(0, 0))
			release := make(chan struct{})
			inInit := make(chan runtime.Pid, 1)
			returned := make(chan struct{})
			type result struct {
				s   runtime.Subject[int]
				err error
			}
			done := make(chan result, 1)
			go func() {
				s, err := runtime.Start(runtime.Spec[int, int]{
					Init: func(p *runtime.Process, _ runtime.Subject[int], _ *runtime.Selector[int]) (int, error) {
						defer close(returned)
						inInit <- p.Self()
						<-release
						return 0, nil
					},
					InitTimeout: timeout,
					Loop:        func(_ *runtime.Process, _ int, s int) runtime.Next[int] { return runtime.Continue(s) },
				}, runtime.WithClock(clock))
				done <- result{s, err}
			}()
			pid := <-inInit
			base := strayBase(t)
			want := timeout
			if want == 0 {
				want = runtime.DefaultInitTimeout
			}
			if !clock.AwaitTimers(1, patience) {
				t.Fatal("Start set no timer")
			}
			clock.Advance(want - time.Nanosecond)
			if clock.Timers() != 1 {
				t.Fatal("the init timer fired early")
			}
			clock.Advance(time.Nanosecond)
			var r result
			select {
			case r = <-done:
			case <-time.After(patience):
				t.Fatal("Start did not return at its init timeout")
			}
			var ie *runtime.InitError
			if !errors.As(r.err, &ie) || !errors.Is(r.err, runtime.ErrTimeout) || ie.Pid != pid {
				t.Fatalf("Start: %v, want an *InitError for %v with ErrTimeout", r.err, pid)
			}
			if pid.Alive() {
				t.Error("the timed-out actor is alive")
			}
			if n := runtime.Strays(); n != base+1 {
				t.Errorf("Strays() = %d, want %d: the stuck init is not reported", n, base+1)
			}
			close(release)
			<-returned
			eventually(t, "Strays back to its base", func() bool { return runtime.Strays() == base })
		})
	}
}

// A linked start that fails leaves the parent alive: it gets no exit signal.
func TestStartLinkFailureDoesNotKillParent(t *testing.T) {
	clock := runtime.NewFakeClock(time.Unix(0, 0))
	release := make(chan struct{})
	defer close(release)
	tests := []struct {
		name string
		init func(*runtime.Process, runtime.Subject[int], *runtime.Selector[int]) (int, error)
		tick bool // advance the clock past the init timeout
		want error
	}{
		{"error", func(*runtime.Process, runtime.Subject[int], *runtime.Selector[int]) (int, error) { return 0, boom }, false, boom},
		{"panic", func(*runtime.Process, runtime.Subject[int], *runtime.Selector[int]) (int, error) { panic(boom) }, false, boom},
		{"timeout", func(*runtime.Process, runtime.Subject[int], *runtime.Selector[int]) (int, error) {
			<-release
			return 0, nil
		}, true, runtime.ErrTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			me := attach(t)
			results := runtime.NewSubject[error](me)
			parent := runtime.Spawn(func(p *runtime.Process) {
				_, err := runtime.StartLink(p, runtime.Spec[int, int]{
					Init:        tt.init,
					InitTimeout: time.Second,
					Loop:        func(_ *runtime.Process, _ int, s int) runtime.Next[int] { return runtime.Continue(s) },
				})
				var ie *runtime.InitError
				if errors.As(err, &ie) {
					// Exit signals come before Downs: once the Down is
					// here, a signal would have killed us.
					runtime.NewSelector[int]().
						SelectingProcessDown(p.Monitor(ie.Pid), func(runtime.Down) int { return 0 }).
						Select(p, patience)
				}
				results.Send(err)
				recvOne(p, runtime.NewSubject[int](p))
			}, runtime.WithClock(clock))
			defer stop(t, parent)
			mon := me.Monitor(parent)
			if tt.tick {
				if !clock.AwaitTimers(1, patience) {
					t.Fatal("no init timer")
				}
				clock.Advance(time.Second)
			}
			sel := runtime.Selecting(runtime.NewSelector[error](), results, func(err error) error { return err }).
				SelectingProcessDown(mon, func(d runtime.Down) error { return &runtime.CallError{Pid: d.Pid, Reason: d.Reason} })
			err, _ := sel.Select(me, patience)
			var ce *runtime.CallError
			if errors.As(err, &ce) {
				t.Fatalf("the failed start killed its parent: %v", ce.Reason)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("StartLink: %v, want %v", err, tt.want)
			}
		})
	}
}

// The seed's timed actor: it ticks on a timer it sets itself and stops after
// three ticks.
func TestTimedActorStopsItself(t *testing.T) {
	clock := runtime.NewFakeClock(time.Unix(0, 0))
	me := attach(t)
	ticks := runtime.NewSubject[int](me)
	type tick struct{}
	s, err := runtime.Start(runtime.Spec[int, tick]{
		Init: func(_ *runtime.Process, self runtime.Subject[tick], _ *runtime.Selector[tick]) (int, error) {
			runtime.SendAfter(self, tick{}, time.Second)
			return 0, nil
		},
		Loop: func(p *runtime.Process, _ tick, n int) runtime.Next[int] {
			n++
			ticks.Send(n)
			if n == 3 {
				return runtime.Stop[int](nil)
			}
			return runtime.Continue(n)
		},
	}, runtime.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	mon := me.Monitor(s.Owner())
	for want := 1; want <= 3; want++ {
		if !clock.AwaitTimers(1, patience) {
			t.Fatalf("tick %d: no timer", want)
		}
		clock.Advance(time.Second)
		if got := recv(t, me, ticks); got != want {
			t.Fatalf("tick %d, want %d", got, want)
		}
		if want < 3 {
			runtime.SendAfter(s, tick{}, time.Second)
		}
	}
	if d := awaitDown(t, me, mon); d.Reason != runtime.Normal {
		t.Errorf("timed actor exited with %v, want normal", d.Reason)
	}
}

// A Call to a process that dies before it replies returns a *CallError with
// its reason, whichever way it dies.
func TestCallToProcessThatDies(t *testing.T) {
	type req struct {
		how   string
		reply runtime.Subject[int]
	}
	tests := []struct {
		how  string
		want error
	}{
		{"stop", boom},
		{"panic", boom},
		{"killed", runtime.Killed},
		{"returns", runtime.Normal},
	}
	for _, tt := range tests {
		t.Run(tt.how, func(t *testing.T) {
			me := attach(t)
			inLoop := make(chan runtime.Pid, 1)
			s, err := runtime.Start(runtime.Spec[struct{}, req]{
				Loop: func(p *runtime.Process, m req, st struct{}) runtime.Next[struct{}] {
					switch m.how {
					case "stop":
						return runtime.Stop[struct{}](boom)
					case "panic":
						panic(boom)
					case "returns":
						return runtime.Stop[struct{}](nil)
					}
					inLoop <- p.Self()
					recvOne(p, runtime.NewSubject[int](p)) // until killed
					return runtime.Continue(st)
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if tt.how == "killed" {
				go func() { runtime.Exit(<-inLoop, runtime.Killed) }()
			}
			_, err = runtime.Call(me, s, func(r runtime.Subject[int]) req { return req{tt.how, r} }, patience)
			var ce *runtime.CallError
			if !errors.As(err, &ce) || !errors.Is(err, tt.want) || ce.Pid != s.Owner() {
				t.Errorf("Call: %v, want a *CallError from %v with %v", err, s.Owner(), tt.want)
			}
			if n := me.Self().MailboxLen(); n != 0 {
				t.Errorf("the failed Call left %d messages", n)
			}
		})
	}
}

func TestCallToDeadProcess(t *testing.T) {
	me := attach(t)
	s, err := runtime.Start(counterSpec(0))
	if err != nil {
		t.Fatal(err)
	}
	runtime.Exit(s.Owner(), runtime.Killed)
	_, err = runtime.Call(me, s, func(r runtime.Subject[int]) counterMsg { return counterMsg{"get", r} }, patience)
	if !errors.Is(err, runtime.NoProc) {
		t.Errorf("Call to a dead actor: %v, want NoProc", err)
	}
	var zero runtime.Subject[counterMsg]
	_, err = runtime.Call(me, zero, func(r runtime.Subject[int]) counterMsg { return counterMsg{"get", r} }, patience)
	if !errors.Is(err, runtime.NoProc) {
		t.Errorf("Call to the zero subject: %v, want NoProc", err)
	}
}

// A Call that times out leaves nothing behind: the late reply never reaches
// the caller's mailbox, and the next Call gets its own reply.
func TestCallTimeoutThenLateReply(t *testing.T) {
	clock := runtime.NewFakeClock(time.Unix(0, 0))
	me := attach(t)
	held := runtime.NewSubject[runtime.Subject[int]](me)
	type req struct {
		hold  bool
		reply runtime.Subject[int]
	}
	callee, err := runtime.Start(runtime.Spec[struct{}, req]{
		Loop: func(_ *runtime.Process, m req, st struct{}) runtime.Next[struct{}] {
			if m.hold {
				held.Send(m.reply) // the test replies, late
			} else {
				m.reply.Send(2)
			}
			return runtime.Continue(st)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop(t, callee.Owner())

	type outcome struct {
		v   int
		err error
	}
	outcomes := runtime.NewSubject[outcome](me)
	caller, next := inbox(t, me, func(fn func(*runtime.Process)) runtime.Pid {
		return runtime.Spawn(fn, runtime.WithClock(clock))
	}, func(p *runtime.Process, in runtime.Subject[bool]) {
		for {
			hold, err := runtime.Receive(p, in, runtime.Forever)
			if err != nil {
				return
			}
			v, err := runtime.Call(p, callee, func(r runtime.Subject[int]) req { return req{hold, r} }, time.Second)
			outcomes.Send(outcome{v, err})
		}
	})
	defer stop(t, caller)

	next.Send(true)
	late := recv(t, me, held)
	if !clock.AwaitTimers(1, patience) {
		t.Fatal("Call set no timer")
	}
	clock.Advance(time.Second)
	if o := recv(t, me, outcomes); !errors.Is(o.err, runtime.ErrTimeout) {
		t.Fatalf("Call: %+v, want ErrTimeout", o)
	}
	late.Send(1)
	if n := caller.MailboxLen(); n != 0 {
		t.Errorf("the late reply reached the caller: MailboxLen %d", n)
	}
	next.Send(false)
	if o := recv(t, me, outcomes); o.err != nil || o.v != 2 {
		t.Errorf("the next Call got %+v, want 2", o)
	}
	if n := clock.Timers(); n != 0 {
		t.Errorf("%d timers left on the clock", n)
	}
}

// An idle actor holds no goroutine: 10,000 of them leave the goroutine count
// where it was, before and after each has handled a message.
func TestIdleActorsHoldNoGoroutine(t *testing.T) {
	me := attach(t)
	const n = 10_000
	base := goruntime.NumGoroutine()
	flat := func(what string) {
		t.Helper()
		eventually(t, what, func() bool { return goruntime.NumGoroutine() <= base+10 })
	}
	type ping struct{ reply runtime.Subject[int] }
	var inits atomic.Int64
	actors := make([]runtime.Subject[ping], n)
	for i := range actors {
		i := i
		s, err := runtime.Start(runtime.Spec[int, ping]{
			Init: func(*runtime.Process, runtime.Subject[ping], *runtime.Selector[ping]) (int, error) {
				inits.Add(1)
				return i, nil
			},
			Loop: func(_ *runtime.Process, m ping, i int) runtime.Next[int] {
				m.reply.Send(i)
				return runtime.Continue(i)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		actors[i] = s
	}
	if inits.Load() != n {
		t.Fatalf("%d inits ran", inits.Load())
	}
	flat("goroutines back to the base after starting the actors")
	replies := runtime.NewSubject[int](me)
	for _, a := range actors {
		a.Send(ping{replies})
	}
	seen := make([]bool, n)
	for range actors {
		seen[recv(t, me, replies)] = true
	}
	for i, ok := range seen {
		if !ok {
			t.Fatalf("actor %d did not answer", i)
		}
	}
	flat("goroutines back to the base after every actor handled a message")
	mons := make([]runtime.Monitor, n)
	for i, a := range actors {
		mons[i] = me.Monitor(a.Owner())
		runtime.Exit(a.Owner(), runtime.Killed)
	}
	for _, m := range mons {
		if d := awaitDown(t, me, m); d.Reason != runtime.Killed {
			t.Fatalf("idle actor exited with %v", d.Reason)
		}
	}
	if s := runtime.Strays(); s != 0 {
		t.Errorf("killing idle actors made %d strays", s)
	}
}

// Once Loop has returned Stop, the actor handles no other message, however
// many arrive while it stops.
func TestActorStopIsFinal(t *testing.T) {
	me := attach(t)
	for round := 0; round < 200; round++ {
		var handled atomic.Int64
		s, err := runtime.Start(runtime.Spec[struct{}, int]{
			Loop: func(_ *runtime.Process, _ int, st struct{}) runtime.Next[struct{}] {
				handled.Add(1)
				return runtime.Stop[struct{}](nil)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		mon := me.Monitor(s.Owner())
		var wg sync.WaitGroup
		for g := 0; g < 2; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					s.Send(i)
				}
			}()
		}
		wg.Wait()
		awaitDown(t, me, mon)
		eventually(t, "the actor's goroutines to end", func() bool { return runtime.Strays() == 0 })
		if h := handled.Load(); h != 1 {
			t.Fatalf("round %d: Loop ran %d times, want once", round, h)
		}
	}
}

func TestActorLoopPanics(t *testing.T) {
	me := attach(t)
	s, err := runtime.Start(runtime.Spec[int, int]{
		Loop: func(_ *runtime.Process, m int, _ int) runtime.Next[int] { panic(boom) },
	})
	if err != nil {
		t.Fatal(err)
	}
	mon := me.Monitor(s.Owner())
	s.Send(1)
	d := awaitDown(t, me, mon)
	var pe *runtime.PanicError
	if !errors.As(d.Reason, &pe) || !errors.Is(d.Reason, boom) || len(pe.Stack()) == 0 {
		t.Errorf("actor exited with %v, want a *PanicError with a stack", d.Reason)
	}
}

// An actor traps exits and monitors through the selector Init gets.
func TestActorTrapsExitsAndMonitors(t *testing.T) {
	me := attach(t)
	linked, watched := spawnWaiting(), spawnWaiting()
	events := runtime.NewSubject[string](me)
	type msg struct {
		exit *runtime.ExitMessage
		down *runtime.Down
	}
	s, err := runtime.Start(runtime.Spec[struct{}, msg]{
		Init: func(p *runtime.Process, _ runtime.Subject[msg], sel *runtime.Selector[msg]) (struct{}, error) {
			p.TrapExits(true)
			p.Link(linked)
			sel.SelectingTrappedExits(func(m runtime.ExitMessage) msg { return msg{exit: &m} })
			sel.SelectingProcessDown(p.Monitor(watched), func(d runtime.Down) msg { return msg{down: &d} })
			return struct{}{}, nil
		},
		Loop: func(_ *runtime.Process, m msg, st struct{}) runtime.Next[struct{}] {
			switch {
			case m.exit != nil:
				events.Send("exit " + m.exit.Reason.Error())
			case m.down != nil:
				events.Send("down " + m.down.Reason.Error())
			}
			return runtime.Continue(st)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop(t, s.Owner())
	runtime.Exit(linked, boom)
	if got := recv(t, me, events); got != "exit boom" {
		t.Errorf("got %q", got)
	}
	runtime.Exit(watched, runtime.Shutdown)
	if got := recv(t, me, events); got != "down shutdown" {
		t.Errorf("got %q", got)
	}
	if !s.Owner().Alive() {
		t.Errorf("the trapping actor died: %v", s.Owner().Reason())
	}
}

// Init may add subjects to the selector only if the actor owns them:
// another process's subject is refused when the actor starts.
func TestActorSelectorWithForeignSubject(t *testing.T) {
	me := attach(t)
	foreign := runtime.NewSubject[int](me)
	_, err := runtime.Start(runtime.Spec[struct{}, int]{
		Init: func(_ *runtime.Process, _ runtime.Subject[int], sel *runtime.Selector[int]) (struct{}, error) {
			runtime.Selecting(sel, foreign, func(v int) int { return v })
			return struct{}{}, nil
		},
		Loop: func(_ *runtime.Process, _ int, st struct{}) runtime.Next[struct{}] { return runtime.Continue(st) },
	})
	if !errors.Is(err, runtime.ErrNotOwner) {
		t.Errorf("Start: %v, want ErrNotOwner", err)
	}
}

// The seed's round-robin pool: a pool actor hands each request to the next
// worker; the worker replies to the caller directly. A second pool calls
// its workers itself, from inside its Loop.
func TestRoundRobinPool(t *testing.T) {
	me := attach(t)
	type job struct{ reply runtime.Subject[int] }
	const size = 3
	workers := make([]runtime.Subject[job], size)
	for i := range workers {
		i := i
		w, err := runtime.Start(runtime.Spec[struct{}, job]{
			Loop: func(_ *runtime.Process, j job, st struct{}) runtime.Next[struct{}] {
				j.reply.Send(i)
				return runtime.Continue(st)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		workers[i] = w
		defer stop(t, w.Owner())
	}
	forward := func(_ *runtime.Process, j job, next int) runtime.Next[int] {
		workers[next].Send(j)
		return runtime.Continue((next + 1) % size)
	}
	relay := func(p *runtime.Process, j job, next int) runtime.Next[int] {
		v, err := runtime.Call(p, workers[next], func(r runtime.Subject[int]) job { return job{r} }, patience)
		if err != nil {
			return runtime.Stop[int](err)
		}
		j.reply.Send(v)
		return runtime.Continue((next + 1) % size)
	}
	for name, loop := range map[string]func(*runtime.Process, job, int) runtime.Next[int]{"forward": forward, "relay": relay} {
		t.Run(name, func(t *testing.T) {
			pool, err := runtime.Start(runtime.Spec[int, job]{Loop: loop})
			if err != nil {
				t.Fatal(err)
			}
			defer stop(t, pool.Owner())
			for i := 0; i < 2*size; i++ {
				got, err := runtime.Call(me, pool, func(r runtime.Subject[int]) job { return job{r} }, patience)
				if err != nil {
					t.Fatal(err)
				}
				if got != i%size {
					t.Errorf("request %d went to worker %d, want %d", i, got, i%size)
				}
			}
		})
	}
}

// Link, monitor, trap exits and kill work the same for an actor as for a
// spawned process; an actor linked to a crashing process dies with it.
func TestStartLinkActorDiesWithParent(t *testing.T) {
	me := attach(t)
	started := runtime.NewSubject[runtime.Pid](me)
	parent, crash := inbox(t, me, spawn, func(p *runtime.Process, in runtime.Subject[error]) {
		s, err := runtime.StartLink(p, counterSpec(0))
		if err != nil {
			return
		}
		started.Send(s.Owner())
		if err, _ := runtime.Receive(p, in, patience); err != nil {
			panic(err)
		}
	})
	child := recv(t, me, started)
	pm, cm := me.Monitor(parent), me.Monitor(child)
	crash.Send(boom)
	awaitDown(t, me, pm)
	if d := awaitDown(t, me, cm); !errors.Is(d.Reason, boom) {
		t.Errorf("linked actor exited with %v, want the parent's panic", d.Reason)
	}
}

// An actor whose Loop is stuck outside the runtime when it is killed: it is
// dead at once, its monitors fire, Strays counts its goroutine, and once Loop
// returns it handles nothing more.
func TestActorKilledWhileLoopIsOutsideTheRuntime(t *testing.T) {
	me := attach(t)
	base := strayBase(t)
	release := make(chan struct{})
	inLoop := make(chan struct{}, 1)
	var handled atomic.Int64
	s, err := runtime.Start(runtime.Spec[struct{}, int]{
		Loop: func(_ *runtime.Process, _ int, st struct{}) runtime.Next[struct{}] {
			handled.Add(1)
			inLoop <- struct{}{}
			<-release
			return runtime.Continue(st)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mon := me.Monitor(s.Owner())
	s.Send(1)
	<-inLoop
	s.Send(2) // queued behind the stuck message
	runtime.Exit(s.Owner(), boom)
	if d := awaitDown(t, me, mon); d.Reason != boom {
		t.Errorf("reason %v, want boom", d.Reason)
	}
	if n := runtime.Strays(); n != base+1 {
		t.Errorf("Strays() = %d, want %d", n, base+1)
	}
	close(release)
	eventually(t, "Strays back to its base", func() bool { return runtime.Strays() == base })
	if h := handled.Load(); h != 1 {
		t.Errorf("Loop ran %d times, want once (the killed actor went on)", h)
	}
}
