package runtime_test

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/otpctl/otpctl/runtime"
)

// spawnPair spawns a parent that spawns a linked child; it returns both
// pids and the child's inbox. A message to the child makes it panic with
// that error (or return, for nil). The parent traps exits when trap is set
// and forwards every exit message it gets to exits.
func spawnPair(t *testing.T, me *runtime.Process, trap bool, exits runtime.Subject[runtime.ExitMessage]) (parent, child runtime.Pid, crash runtime.Subject[error]) {
	t.Helper()
	type pair struct {
		child runtime.Pid
		crash runtime.Subject[error]
	}
	ready := runtime.NewSubject[pair](me)
	parent = runtime.Spawn(func(p *runtime.Process) {
		p.TrapExits(trap)
		kids := runtime.NewSubject[runtime.Subject[error]](p)
		child := runtime.SpawnLink(p, func(c *runtime.Process) {
			in := runtime.NewSubject[error](c)
			kids.Send(in)
			if err, _ := runtime.Receive(c, in, runtime.Forever); err != nil {
				panic(err)
			}
		})
		in, _ := runtime.Receive(p, kids, patience)
		ready.Send(pair{child, in})
		sel := runtime.NewSelector[runtime.ExitMessage]().
			SelectingTrappedExits(func(m runtime.ExitMessage) runtime.ExitMessage { return m })
		for {
			m, _ := sel.Select(p, runtime.Forever)
			exits.Send(m)
		}
	})
	pr := recv(t, me, ready)
	return parent, pr.child, pr.crash
}

func TestLinkedProcessesCrashTogether(t *testing.T) {
	me := attach(t)
	exits := runtime.NewSubject[runtime.ExitMessage](me)
	parent, child, crash := spawnPair(t, me, false, exits)
	pm, cm := me.Monitor(parent), me.Monitor(child)
	crash.Send(boom)
	cd, pd := awaitDown(t, me, cm), awaitDown(t, me, pm)
	var pe *runtime.PanicError
	if !errors.As(cd.Reason, &pe) || !errors.Is(cd.Reason, boom) {
		t.Errorf("child exited with %v, want its panic", cd.Reason)
	}
	if pd.Reason != cd.Reason {
		t.Errorf("parent exited with %v, want the child's reason %v", pd.Reason, cd.Reason)
	}

	// And the other way: the parent's crash takes the child.
	parent, child, _ = spawnPair(t, me, false, exits)
	cm = me.Monitor(child)
	runtime.Exit(parent, boom)
	if d := awaitDown(t, me, cm); d.Reason != boom {
		t.Errorf("child of a crashed parent exited with %v, want boom", d.Reason)
	}
}

func TestNormalExitDoesNotPropagate(t *testing.T) {
	me := attach(t)
	exits := runtime.NewSubject[runtime.ExitMessage](me)
	parent, child, crash := spawnPair(t, me, false, exits)
	defer stop(t, parent)
	mon := me.Monitor(child)
	crash.Send(nil) // the child returns: Normal
	if reason := awaitDown(t, me, mon).Reason; reason != runtime.Normal {
		t.Fatalf("child exited with %v", reason)
	}
	// The child's exit signal was delivered before its Down: the parent
	// has seen it and lives.
	if !parent.Alive() {
		t.Errorf("a normal exit killed the linked parent: %v", parent.Reason())
	}
	runtime.Exit(parent, runtime.Normal) // Exit with Normal is ignored too
	if !parent.Alive() {
		t.Errorf("Exit(normal) killed a process that does not trap exits: %v", parent.Reason())
	}
}

func TestTrappedExit(t *testing.T) {
	me := attach(t)
	exits := runtime.NewSubject[runtime.ExitMessage](me)
	parent, child, crash := spawnPair(t, me, true, exits)
	defer stop(t, parent)
	crash.Send(boom)
	m := recv(t, me, exits)
	if m.From != child || !errors.Is(m.Reason, boom) {
		t.Errorf("exit message %+v, want from %v with the child's panic", m, child)
	}
	if !parent.Alive() {
		t.Errorf("a trapping parent died: %v", parent.Reason())
	}
}

func TestTrapExitsToggledAtRunTime(t *testing.T) {
	me := attach(t)
	// The process under test links to two victims; a message toggles
	// trapping.
	type cmd struct {
		trap  bool
		reply runtime.Subject[bool]
	}
	victims := []runtime.Pid{spawnWaiting(), spawnWaiting()}
	defer stop(t, victims...)
	exits := runtime.NewSubject[runtime.ExitMessage](me)
	pid, in := inbox(t, me, spawn, func(p *runtime.Process, in runtime.Subject[cmd]) {
		for _, v := range victims {
			p.Link(v)
		}
		sel := runtime.Selecting(runtime.NewSelector[any](), in, func(c cmd) any { return c }).
			SelectingTrappedExits(func(m runtime.ExitMessage) any { return m })
		for {
			switch m, _ := sel.Select(p, runtime.Forever); m := m.(type) {
			case cmd:
				p.TrapExits(m.trap)
				m.reply.Send(true)
			case runtime.ExitMessage:
				exits.Send(m)
			}
		}
	})
	mon := me.Monitor(pid)
	set := func(trap bool) {
		if _, err := runtime.Call(me, in, func(r runtime.Subject[bool]) cmd { return cmd{trap, r} }, patience); err != nil {
			t.Fatal(err)
		}
	}
	set(true)
	runtime.Exit(victims[0], boom)
	if m := recv(t, me, exits); m.From != victims[0] || m.Reason != boom {
		t.Errorf("trapped %+v", m)
	}
	set(false)
	runtime.Exit(victims[1], boom)
	if d := awaitDown(t, me, mon); d.Reason != boom {
		t.Errorf("with trapping off the link killed it with %v, want boom", d.Reason)
	}
}

func TestKilled(t *testing.T) {
	tests := []struct {
		name string
		// kill ends the target (a trapping process linked to victim).
		kill     func(target, victim runtime.Pid)
		want     error // the target's exit reason; nil: it lives
		wantExit error // the exit message it traps, if it lives
	}{
		{"Exit killed cannot be trapped", func(target, _ runtime.Pid) { runtime.Exit(target, runtime.Killed) }, runtime.Killed, nil},
		{"killed via a link is trapped", func(_, victim runtime.Pid) { runtime.Exit(victim, runtime.Killed) }, nil, runtime.Killed},
		{"Exit shutdown is trapped", func(target, _ runtime.Pid) { runtime.Exit(target, runtime.Shutdown) }, nil, runtime.Shutdown},
		{"Exit normal is trapped", func(target, _ runtime.Pid) { runtime.Exit(target, runtime.Normal) }, nil, runtime.Normal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			me := attach(t)
			victim := spawnWaiting()
			defer stop(t, victim)
			exits := runtime.NewSubject[runtime.ExitMessage](me)
			ready := runtime.NewSubject[bool](me)
			target := runtime.Spawn(func(p *runtime.Process) {
				p.TrapExits(true)
				p.Link(victim)
				ready.Send(true)
				if m, err := trapped(p); err == nil {
					exits.Send(m)
				}
			})
			defer stop(t, target)
			mon := me.Monitor(target)
			recv(t, me, ready)
			tt.kill(target, victim)
			if tt.want != nil {
				if d := awaitDown(t, me, mon); d.Reason != tt.want {
					t.Errorf("target exited with %v, want %v", d.Reason, tt.want)
				}
				return
			}
			if m := recv(t, me, exits); m.Reason != tt.wantExit {
				t.Errorf("trapped %v, want %v", m.Reason, tt.wantExit)
			}
		})
	}
}

func TestExitSignalWithoutTrapping(t *testing.T) {
	tests := []struct {
		reason error
		dies   bool
	}{
		{runtime.Normal, false},
		{nil, false}, // no reason is Normal
		{runtime.Shutdown, true},
		{runtime.Killed, true},
		{boom, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.reason), func(t *testing.T) {
			me := attach(t)
			pid := spawnWaiting()
			defer stop(t, pid)
			mon := me.Monitor(pid)
			runtime.Exit(pid, tt.reason)
			if !tt.dies {
				if !pid.Alive() {
					t.Fatalf("died of %v", pid.Reason())
				}
				return
			}
			if d := awaitDown(t, me, mon); d.Reason != tt.reason {
				t.Errorf("exited with %v, want %v", d.Reason, tt.reason)
			}
		})
	}
}

func TestSendExitNamesTheSender(t *testing.T) {
	me := attach(t)
	me.TrapExits(true)
	sender, _ := inbox(t, me, spawn, func(p *runtime.Process, in runtime.Subject[struct{}]) {
		p.SendExit(me.Self(), boom)
		recvOne(p, runtime.NewSubject[int](p))
	})
	defer stop(t, sender)
	if m := awaitExit(t, me); m.From != sender || m.Reason != boom {
		t.Errorf("exit message %+v, want from %v with boom", m, sender)
	}
	runtime.Exit(me.Self(), boom)
	if m := awaitExit(t, me); !m.From.IsZero() || m.Reason != boom {
		t.Errorf("Exit's message %+v, want a zero From", m)
	}
}

func TestSendExitToSelf(t *testing.T) {
	me := attach(t)
	var after atomic.Bool
	_, reason := spawnGated(t, me, func(p *runtime.Process) {
		p.SendExit(p.Self(), runtime.Normal) // as Erlang's exit(self(), normal): it ends the process
		after.Store(true)
	})
	if reason != runtime.Normal {
		t.Errorf("reason %v, want normal", reason)
	}
	if after.Load() {
		t.Error("the process went on after sending itself an exit signal")
	}
}

func TestLinkToDeadProcess(t *testing.T) {
	for _, trap := range []bool{false, true} {
		t.Run(fmt.Sprintf("trap=%v", trap), func(t *testing.T) {
			me := attach(t)
			dead := runtime.Spawn(func(*runtime.Process) {})
			awaitDown(t, me, me.Monitor(dead))
			got := runtime.NewSubject[runtime.ExitMessage](me)
			_, reason := spawnGated(t, me, func(p *runtime.Process) {
				p.TrapExits(trap)
				p.Link(dead)
				if m, err := trapped(p); err == nil {
					got.Send(m)
				}
			})
			if !trap {
				if reason != runtime.NoProc {
					t.Errorf("linking to a dead process: exit %v, want noproc", reason)
				}
				return
			}
			if m := recv(t, me, got); m.From != dead || m.Reason != runtime.NoProc {
				t.Errorf("exit message %+v, want noproc from %v", m, dead)
			}
		})
	}
}

func TestUnlink(t *testing.T) {
	me := attach(t)
	victim := spawnWaiting()
	pid, in := inbox(t, me, spawn, func(p *runtime.Process, in runtime.Subject[runtime.Subject[bool]]) {
		p.Link(victim)
		r, _ := runtime.Receive(p, in, patience)
		p.Unlink(victim)
		r.Send(true)
		recvOne(p, runtime.NewSubject[int](p))
	})
	defer stop(t, pid)
	if _, err := runtime.Call(me, in, func(r runtime.Subject[bool]) runtime.Subject[bool] { return r }, patience); err != nil {
		t.Fatal(err)
	}
	mon := me.Monitor(victim)
	runtime.Exit(victim, boom)
	awaitDown(t, me, mon)
	if !pid.Alive() {
		t.Errorf("an unlinked process died with its former link: %v", pid.Reason())
	}
}

// A chain of processes, each linked to the next: killing the first kills
// them all. Spawned processes hold a goroutine each, and the race detector
// allows about 8,000 at once, so the chain of 10,000 is made of actors, and
// a shorter one of spawned processes.
func TestKillChainOfLinkedProcesses(t *testing.T) {
	t.Run("10000 actors", func(t *testing.T) {
		me := attach(t)
		const n = 10_000
		type linkTo struct {
			pid   runtime.Pid
			reply runtime.Subject[bool]
		}
		subs := make([]runtime.Subject[linkTo], n)
		for i := range subs {
			s, err := runtime.Start(runtime.Spec[struct{}, linkTo]{
				Loop: func(p *runtime.Process, m linkTo, st struct{}) runtime.Next[struct{}] {
					p.Link(m.pid)
					m.reply.Send(true)
					return runtime.Continue(st)
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			subs[i] = s
		}
		acks := runtime.NewSubject[bool](me)
		for i := 1; i < n; i++ {
			subs[i].Send(linkTo{subs[i-1].Owner(), acks})
		}
		for i := 1; i < n; i++ {
			recv(t, me, acks)
		}
		last := me.Monitor(subs[n-1].Owner())
		runtime.Exit(subs[0].Owner(), boom)
		if d := awaitDown(t, me, last); d.Reason != boom {
			t.Errorf("the last of the chain exited with %v, want boom", d.Reason)
		}
		for i, s := range subs {
			if s.Owner().Alive() {
				t.Fatalf("actor %d of the chain is alive", i)
			}
		}
	})
	t.Run("1000 spawned", func(t *testing.T) {
		me := attach(t)
		const n = 1000
		pids := make(chan runtime.Pid, n)
		var link func(p *runtime.Process, left int)
		link = func(p *runtime.Process, left int) {
			pids <- p.Self()
			if left > 1 {
				runtime.SpawnLink(p, func(c *runtime.Process) { link(c, left-1) })
			}
			recvOne(p, runtime.NewSubject[int](p))
		}
		first := runtime.Spawn(func(p *runtime.Process) { link(p, n) })
		all := make([]runtime.Pid, 0, n)
		for len(all) < n {
			all = append(all, <-pids)
		}
		last := me.Monitor(all[n-1])
		runtime.Exit(first, boom)
		if d := awaitDown(t, me, last); d.Reason != boom {
			t.Errorf("the last of the chain exited with %v, want boom", d.Reason)
		}
		for i, pid := range all {
			if pid.Alive() {
				t.Fatalf("process %d of the chain is alive", i)
			}
		}
	})
}

// trapped waits, inside a process, for one trapped exit message.
func trapped(p *runtime.Process) (runtime.ExitMessage, error) {
	return runtime.NewSelector[runtime.ExitMessage]().
		SelectingTrappedExits(func(m runtime.ExitMessage) runtime.ExitMessage { return m }).
		Select(p, patience)
}

func linked(a, b runtime.Pid) bool {
	for _, q := range runtime.LinksOf(a) {
		if q == b {
			return true
		}
	}
	return false
}

// A process killed while it links to another: either the link never took
// effect (the other is alive and holds no link to the dead process) or the
// other got the exit signal. A link to a dead process must not be left
// behind in the other's table, where it would never fire.
func TestLinkWhileKilled(t *testing.T) {
	me := attach(t)
	for i := 0; i < 300; i++ {
		q := spawnWaiting()
		go1 := make(chan struct{})
		finished := make(chan struct{})
		p := runtime.Spawn(func(p *runtime.Process) {
			defer close(finished)
			close(go1)
			p.Link(q)
			recvOne(p, runtime.NewSubject[int](p))
		})
		<-go1
		mon := me.Monitor(p)
		runtime.Exit(p, boom)
		awaitDown(t, me, mon)
		// A kill that lands inside Link is repaired by p's own goroutine
		// on its way out, which may come after the Down: wait for it.
		<-finished
		if q.Alive() && linked(q, p) {
			t.Fatalf("round %d: %v is alive and still linked to the dead %v", i, q, p)
		}
		if len(runtime.LinksOf(p)) != 0 {
			t.Fatalf("round %d: the dead %v still has links", i, p)
		}
		stop(t, q)
	}
}

// The other way round: a process links to one that is being killed; it
// always learns of the death (here, dies of it).
func TestLinkToProcessBeingKilled(t *testing.T) {
	me := attach(t)
	for i := 0; i < 300; i++ {
		q := spawnWaiting()
		linkNow := make(chan struct{})
		p := runtime.Spawn(func(p *runtime.Process) {
			<-linkNow
			p.Link(q)
			recvOne(p, runtime.NewSubject[int](p))
		})
		mon := me.Monitor(p)
		go func() { runtime.Exit(q, boom) }()
		close(linkNow)
		d := awaitDown(t, me, mon)
		if d.Reason != boom && d.Reason != runtime.NoProc {
			t.Fatalf("round %d: linker exited with %v, want boom or noproc", i, d.Reason)
		}
	}
}

// SpawnLink and StartLink publish the child in the parent's link table
// before the child runs; a parent killed at that moment must not race with
// the child's set-up (the race detector checks this one).
func TestSpawnLinkWhileParentKilled(t *testing.T) {
	me := attach(t)
	for i := 0; i < 100; i++ {
		kids := make(chan runtime.Pid, 2)
		finished := make(chan struct{})
		parent := runtime.Spawn(func(p *runtime.Process) {
			defer close(finished)
			kids <- runtime.SpawnLink(p, func(c *runtime.Process) { recvOne(c, runtime.NewSubject[int](c)) })
			s, err := runtime.StartLink(p, counterSpec(0))
			if err == nil {
				kids <- s.Owner()
			}
			recvOne(p, runtime.NewSubject[int](p))
		})
		mon := me.Monitor(parent)
		runtime.Exit(parent, boom)
		awaitDown(t, me, mon)
		<-finished // the parent's goroutine may run on until its next runtime call
		close(kids)
		for kid := range kids {
			if d := awaitDown(t, me, me.Monitor(kid)); d.Reason != boom && d.Reason != runtime.NoProc {
				t.Fatalf("round %d: child exited with %v", i, d.Reason)
			}
		}
	}
}
