package runtime_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/otpctl/otpctl/runtime"
)

// poolMsg asks a member for its index; gate, when set, holds the member
// until it is closed.
type poolMsg struct {
	reply runtime.Subject[int]
	gate  chan struct{}
}

// poolOf starts a pool of size members that answer their index; hold,
// when it returns a channel for an index, makes that member's next start
// wait on it (a restart in progress).
func poolOf(t *testing.T, size int, d runtime.Dispatch, hold func(index int) chan struct{}) (*runtime.Pool[poolMsg], *recorder) {
	t.Helper()
	rec := newRecorder()
	pool, err := runtime.StartPool(nil, runtime.PoolSpec[poolMsg]{
		Flags: runtime.Flags{MaxFrequency: 10}, Path: "p", Size: size, Dispatch: d, Kind: "answer", Events: rec.hook,
		Start: func(parent *runtime.Process, index int) (runtime.Member[poolMsg], error) {
			if hold != nil {
				if gate := hold(index); gate != nil {
					<-gate
				}
			}
			s, err := runtime.StartLink(parent, runtime.Spec[struct{}, poolMsg]{
				Loop: func(_ *runtime.Process, m poolMsg, st struct{}) runtime.Next[struct{}] {
					if m.gate != nil {
						<-m.gate
					}
					if !m.reply.IsZero() {
						m.reply.Send(index)
					}
					return runtime.Continue(st)
				},
			})
			return runtime.Member[poolMsg]{Pid: s.Owner(), Subject: s}, err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Shutdown(context.Background()) })
	return pool, rec
}

func ask(reply runtime.Subject[int]) poolMsg { return poolMsg{reply: reply} }

// answers calls the pool n times and returns the members that answered.
func answers(t *testing.T, pool *runtime.Pool[poolMsg], n int) []int {
	t.Helper()
	me := attach(t)
	var got []int
	for range n {
		i, err := runtime.CallPool(me, pool, ask, patience)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, i)
	}
	return got
}

func pids(pool *runtime.Pool[poolMsg]) map[int]runtime.Pid {
	out := map[int]runtime.Pid{}
	for _, m := range pool.Members() {
		out[m.Index] = m.Pid
	}
	return out
}

func TestPoolRoundRobinTakesMembersInTurn(t *testing.T) {
	pool, _ := poolOf(t, 3, runtime.RoundRobin, nil)
	if got, want := answers(t, pool, 7), []int{1, 2, 3, 1, 2, 3, 1}; !slices.Equal(got, want) {
		t.Fatalf("round robin answered %v, want %v", got, want)
	}
	if pool.Size() != 3 || pool.Dispatch() != runtime.RoundRobin || pool.Dispatch().String() != "round_robin" {
		t.Fatalf("size %d, dispatch %v", pool.Size(), pool.Dispatch())
	}
}

func TestPoolRandomCoversEveryMember(t *testing.T) {
	pool, _ := poolOf(t, 4, runtime.Random, nil)
	seen := map[int]bool{}
	me := attach(t)
	for len(seen) < 4 { // random: every member comes up, sooner or later
		i, err := runtime.CallPool(me, pool, ask, patience)
		if err != nil {
			t.Fatal(err)
		}
		if i < 1 || i > 4 {
			t.Fatalf("member %d of a pool of 4", i)
		}
		seen[i] = true
	}
}

func TestPoolLeastBusyPicksTheShortestMailbox(t *testing.T) {
	pool, _ := poolOf(t, 3, runtime.LeastBusy, nil)
	gate := make(chan struct{})
	defer close(gate)
	ms := pool.Members()
	// Member 1 holds 3 queued messages, member 2 one, member 3 two (each
	// behind one it is stuck on).
	for i, queued := range []int{3, 1, 2} {
		for range queued + 1 {
			ms[i].Subject.Send(poolMsg{gate: gate})
		}
		eventually(t, "queued messages", func() bool { return ms[i].Pid.MailboxLen() == queued })
	}
	m, err := pool.Pick()
	if err != nil || m.Index != 2 {
		t.Fatalf("least_busy picked %d (%v), want 2", m.Index, err)
	}
	ms[1].Subject.Send(poolMsg{gate: gate})
	ms[1].Subject.Send(poolMsg{gate: gate})
	eventually(t, "member 2's mailbox", func() bool { return ms[1].Pid.MailboxLen() == 3 })
	if m, _ := pool.Pick(); m.Index != 3 {
		t.Fatalf("least_busy picked %d, want 3", m.Index)
	}
}

func TestPoolSkipsAMemberBeingRestarted(t *testing.T) {
	var held atomic.Pointer[chan struct{}]
	pool, rec := poolOf(t, 3, runtime.RoundRobin, func(index int) chan struct{} {
		if index == 2 {
			if g := held.Load(); g != nil {
				return *g
			}
		}
		return nil
	})
	gate := make(chan struct{})
	held.Store(&gate)
	old := pids(pool)
	runtime.Exit(old[2], runtime.Killed)
	rec.waitFor(t, 4) // 3 started, 2 exited: its restart now waits on gate
	for _, i := range answers(t, pool, 6) {
		if i == 2 {
			t.Fatal("member 2, being restarted, got a call")
		}
	}
	if got := len(pool.Members()); got != 2 {
		t.Fatalf("%d members running while one restarts, want 2", got)
	}
	close(gate)
	rec.waitFor(t, 5) // 2 restarted
	if got := answers(t, pool, 3); !slices.Contains(got, 2) {
		t.Fatalf("member 2 restarted but got no call: %v", got)
	}
	if now := pids(pool); now[1] != old[1] || now[3] != old[3] || now[2] == old[2] {
		t.Fatalf("pids %v → %v: only 2 should have changed", old, now)
	}
}

func TestPoolResizeKeepsTheOtherMembers(t *testing.T) {
	pool, rec := poolOf(t, 3, runtime.RoundRobin, nil)
	old := pids(pool)
	if err := pool.Resize(5, ""); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "started p/1 boot", "started p/2 boot", "started p/3 boot", "started p/4 operator", "started p/5 operator")
	grown := pids(pool)
	if len(grown) != 5 || pool.Size() != 5 {
		t.Fatalf("after growing to 5: %v", grown)
	}
	for i, pid := range old {
		if grown[i] != pid {
			t.Fatalf("member %d restarted by a grow", i)
		}
	}
	if err := pool.Resize(2, runtime.CauseReload); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "terminated p/5 reload (shutdown)", "terminated p/4 reload (shutdown)", "terminated p/3 reload (shutdown)")
	if got := pids(pool); len(got) != 2 || got[1] != old[1] || got[2] != old[2] {
		t.Fatalf("after shrinking to 2: %v, want members 1 and 2 as they were (%v)", got, old)
	}
	if got, want := answers(t, pool, 4), []int{1, 2, 1, 2}; !slices.Equal(got, want) {
		t.Fatalf("after shrinking, round robin answered %v, want %v", got, want)
	}
	if err := pool.Resize(0, ""); !errors.Is(err, runtime.ErrInvalidSpec) {
		t.Fatalf("Resize(0) = %v, want ErrInvalidSpec", err)
	}
	rec.noMore(t)
}

func TestPoolBroadcastReachesEveryMember(t *testing.T) {
	pool, _ := poolOf(t, 4, runtime.RoundRobin, nil)
	me := attach(t)
	replies := runtime.NewSubject[int](me)
	if n := pool.Broadcast(poolMsg{reply: replies}); n != 4 {
		t.Fatalf("broadcast sent %d, want 4", n)
	}
	var got []int
	for range 4 {
		got = append(got, recv(t, me, replies))
	}
	slices.Sort(got)
	if !slices.Equal(got, []int{1, 2, 3, 4}) {
		t.Fatalf("broadcast answered by %v", got)
	}
}

func TestPoolRefusesABadSpec(t *testing.T) {
	start := func(*runtime.Process, int) (runtime.Member[int], error) { return runtime.Member[int]{}, nil }
	for _, ps := range []runtime.PoolSpec[int]{
		{Path: "p", Size: 0, Start: start},
		{Path: "p", Size: 1},
		{Path: "p", Size: 1, Start: start, Dispatch: runtime.Dispatch(9)},
	} {
		if _, err := runtime.StartPool(nil, ps); !errors.Is(err, runtime.ErrInvalidSpec) {
			t.Errorf("%+v: %v, want ErrInvalidSpec", ps, err)
		}
	}
	for _, name := range []string{"round_robin", "random", "least_busy"} {
		if d, err := runtime.ParseDispatch(name); err != nil || d.String() != name {
			t.Errorf("ParseDispatch(%q) = %v, %v", name, d, err)
		}
	}
	if _, err := runtime.ParseDispatch("fastest"); err == nil {
		t.Error("ParseDispatch(fastest) = nil error")
	}
}

func TestPoolWithNoMemberRunning(t *testing.T) {
	pool, _ := poolOf(t, 1, runtime.RoundRobin, nil)
	pool.Supervisor().TerminateChild("1")
	if _, err := pool.Send(poolMsg{}); !errors.Is(err, runtime.ErrNoMember) {
		t.Fatalf("Send with no member running: %v, want ErrNoMember", err)
	}
	if _, err := runtime.CallPool(attach(t), pool, ask, patience); !errors.Is(err, runtime.ErrNoMember) {
		t.Fatalf("CallPool with no member running: %v, want ErrNoMember", err)
	}
}
