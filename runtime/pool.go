package runtime

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// A pool is the seed's worker_pool: N identical members under one
// supervisor, and a dispatcher that hands each message to one of them (its
// distribute_work) or to all of them (Broadcast). The supervisor is the
// package's own Supervisor, with the pool's flags; the members are its
// children "1" … "N", so that everything a supervisor does (restarts,
// intensity, events, snapshots, Shutdown) a pool does the same way.
// Dispatching reads the members' table without asking the supervisor: it
// costs no request, and a member being restarted is skipped.

// ErrNoMember is returned when a pool has no member that can take a
// message: every one is being restarted, or stopped.
var ErrNoMember = errors.New("no pool member is running")

// Member is one running member of a pool.
type Member[M any] struct {
	// Index is the member's number, 1 … Size; its child ID is the index
	// in decimal.
	Index int
	// Pid is its process, linked to the pool's supervisor.
	Pid Pid
	// Subject takes its messages; zero for a member that takes none
	// (an OS process, say): such a member is never dispatched to.
	Subject Subject[M]
}

// PoolSpec describes a pool.
type PoolSpec[M any] struct {
	// Flags are the pool supervisor's: strategy (default OneForOne),
	// intensity, period. AutoShutdown must be Never: members are all
	// alike, so none is significant.
	Flags
	// Path names the pool's supervisor; member i's path is Path/i.
	Path string
	// Size is how many members it starts with (at least 1).
	Size int
	// Dispatch chooses the member of Send and CallPool. Default:
	// RoundRobin.
	Dispatch Dispatch
	// Restart, Shutdown and Kind are every member's, as a ChildSpec's.
	Restart  RestartType
	Shutdown ShutdownPolicy
	Kind     string
	// Start starts member index (1 … Size) linked to parent, as a
	// ChildSpec's Start does, and returns its process and subject. It
	// runs on the pool's supervisor's goroutine, for a first start, a
	// restart and a Resize alike.
	Start func(parent *Process, index int) (Member[M], error)
	// Events receives the supervisor's events, as SupervisorSpec.Events.
	Events func(Event)
}

// Pool is a handle on a running pool. Its methods are safe from any
// goroutine, but Resize, like the supervisor's API, not from a member's
// Start nor the Events hook.
type Pool[M any] struct {
	sup      *Supervisor
	start    func(*Process, int) (Member[M], error)
	restart  RestartType
	shutdown ShutdownPolicy
	kind     string
	dispatch atomic.Int32
	next     atomic.Uint64 // the round robin's counter

	resize sync.Mutex // one Resize at a time
	// slots holds one slot per member, index-1; it is replaced, never
	// changed in place (a Resize copies it), so a dispatch reads it
	// without a lock.
	slots atomic.Pointer[[]*poolSlot[M]]
}

// poolSlot is where a member's Start records the member it started.
type poolSlot[M any] struct{ m atomic.Pointer[Member[M]] }

// StartPool starts a pool linked to parent (nil: unlinked, as
// SpawnSupervisor) and returns once its members have started, as
// StartSupervisor does; a member that fails to start fails the pool's
// start with a *StartError. As a child of another supervisor, its Start is
// StartPool(parent, spec) and its Pid the pool's Supervisor().Pid(), of
// type SupervisorChild.
func StartPool[M any](parent *Process, spec PoolSpec[M], opts ...Option) (*Pool[M], error) {
	if spec.Size < 1 {
		return nil, fmt.Errorf("pool %s: size %d: at least 1: %w", spec.Path, spec.Size, ErrInvalidSpec)
	}
	if spec.Start == nil {
		return nil, fmt.Errorf("pool %s: missing_start: %w", spec.Path, ErrInvalidSpec)
	}
	if spec.Dispatch < RoundRobin || spec.Dispatch > LeastBusy {
		return nil, fmt.Errorf("pool %s: invalid dispatch %v: %w", spec.Path, spec.Dispatch, ErrInvalidSpec)
	}
	p := &Pool[M]{start: spec.Start, restart: spec.Restart, shutdown: spec.Shutdown, kind: spec.Kind}
	p.dispatch.Store(int32(spec.Dispatch))
	slots := make([]*poolSlot[M], spec.Size)
	children := make([]ChildSpec, spec.Size)
	for i := range slots {
		slots[i] = &poolSlot[M]{}
		children[i] = p.member(i+1, slots[i])
	}
	p.slots.Store(&slots)
	sup, err := StartSupervisor(parent, SupervisorSpec{Flags: spec.Flags, Path: spec.Path, Children: children, Events: spec.Events}, opts...)
	if err != nil {
		return nil, err
	}
	p.sup = sup
	return p, nil
}

// member is the child spec of member index, which records what it starts
// in slot.
func (p *Pool[M]) member(index int, slot *poolSlot[M]) ChildSpec {
	return ChildSpec{
		ID: strconv.Itoa(index), Restart: p.restart, Shutdown: p.shutdown, Kind: p.kind,
		Start: func(parent *Process) (Pid, error) {
			m, err := p.start(parent, index)
			if err != nil {
				return Pid{}, err
			}
			m.Index = index
			slot.m.Store(&m)
			return m.Pid, nil
		},
	}
}

// Supervisor returns the pool's supervisor: its Pid, Done, Snapshot and
// the rest of its API are the pool's.
func (p *Pool[M]) Supervisor() *Supervisor { return p.sup }

// Shutdown stops the pool as Supervisor.Shutdown does.
func (p *Pool[M]) Shutdown(ctx context.Context) error { return p.sup.Shutdown(ctx) }

// Size returns the number of members, running or not.
func (p *Pool[M]) Size() int { return len(*p.slots.Load()) }

// Dispatch returns how the pool chooses a member.
func (p *Pool[M]) Dispatch() Dispatch { return Dispatch(p.dispatch.Load()) }

// SetDispatch changes how the pool chooses a member, from the next
// message on.
func (p *Pool[M]) SetDispatch(d Dispatch) { p.dispatch.Store(int32(d)) }

// Members returns the members that run now, in index order (one being
// restarted is left out).
func (p *Pool[M]) Members() []Member[M] {
	slots := *p.slots.Load()
	out := make([]Member[M], 0, len(slots))
	for _, s := range slots {
		if m := s.m.Load(); m != nil && m.Pid.Alive() {
			out = append(out, *m)
		}
	}
	return out
}

// live returns slot's member if it can take a message now.
func (s *poolSlot[M]) live() *Member[M] {
	if m := s.m.Load(); m != nil && !m.Subject.IsZero() && m.Pid.Alive() {
		return m
	}
	return nil
}

// Pick chooses the member the next message goes to, by the pool's
// Dispatch, skipping the members that are not running (being restarted,
// or stopped): round robin then takes the next one in turn. ErrNoMember
// when none runs.
func (p *Pool[M]) Pick() (Member[M], error) {
	slots := *p.slots.Load()
	n := len(slots)
	if n == 0 {
		return Member[M]{}, ErrNoMember
	}
	var from int
	switch p.Dispatch() {
	case Random:
		from = rand.IntN(n)
	case LeastBusy:
		var best *Member[M]
		least := 0
		for _, s := range slots {
			if m := s.live(); m != nil {
				if l := m.Pid.MailboxLen(); best == nil || l < least {
					best, least = m, l
				}
			}
		}
		if best == nil {
			return Member[M]{}, ErrNoMember
		}
		return *best, nil
	default:
		from = int((p.next.Add(1) - 1) % uint64(n))
	}
	for k := range n {
		if m := slots[(from+k)%n].live(); m != nil {
			return *m, nil
		}
	}
	return Member[M]{}, ErrNoMember
}

// Send sends msg to one member, chosen by Pick, and returns it.
func (p *Pool[M]) Send(msg M) (Member[M], error) {
	m, err := p.Pick()
	if err == nil {
		m.Subject.Send(msg)
	}
	return m, err
}

// Broadcast sends msg to every member that runs now and returns how many
// it sent it to.
func (p *Pool[M]) Broadcast(msg M) int {
	k := 0
	for _, s := range *p.slots.Load() {
		if m := s.live(); m != nil {
			m.Subject.Send(msg)
			k++
		}
	}
	return k
}

// CallPool calls one member of pool, chosen by Pick, as Call calls an
// actor: the request makeRequest builds is sent to it, and the reply (or
// ErrTimeout, or a *CallError if that member exits first: the call is not
// tried again on another, since it may have been handled) is returned.
func CallPool[Req, Rep any](p *Process, pool *Pool[Req], makeRequest func(reply Subject[Rep]) Req, timeout time.Duration) (Rep, error) {
	m, err := pool.Pick()
	if err != nil {
		var zero Rep
		return zero, err
	}
	return Call(p, m.Subject, makeRequest, timeout)
}

// Resize makes the pool n members strong, in place: new members start at
// the end (n+1, …), in order, each start complete before the next; surplus
// ones stop from the end, each with its shutdown setting. The members that
// stay are not touched, and nothing counts against the intensity (as a
// reload's changes). A member that fails to start is removed again and
// Resize stops there, with the *StartError; the pool keeps the members it
// has. n must be at least 1. cause is what the members' started and
// terminated events say: CauseOperator (the zero value means it) for an
// operator's scale, CauseReload for a reload's.
func (p *Pool[M]) Resize(n int, cause Cause) error {
	if cause == "" {
		cause = CauseOperator
	}
	if n < 1 {
		return fmt.Errorf("pool %s: size %d: at least 1: %w", p.sup.Path(), n, ErrInvalidSpec)
	}
	p.resize.Lock()
	defer p.resize.Unlock()
	slots := *p.slots.Load()
	for i := len(slots); i < n; i++ {
		grown := append(slots[:len(slots):len(slots)], &poolSlot[M]{})
		p.slots.Store(&grown)
		_, err := p.sup.Apply(InsertChild{Pos: i, Spec: p.member(i+1, grown[i]), Cause: cause})
		if err != nil {
			p.sup.Apply(RemoveChild{ID: strconv.Itoa(i + 1), Cause: cause})
			p.slots.Store(&slots)
			return err
		}
		slots = grown
	}
	for i := len(slots); i > n; i-- {
		// The member leaves the dispatch first, then stops.
		shrunk := slots[: i-1 : i-1]
		p.slots.Store(&shrunk)
		if _, err := p.sup.Apply(RemoveChild{ID: strconv.Itoa(i), Cause: cause}); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		slots = shrunk
	}
	return nil
}

// Dispatch is how a pool chooses the member that gets a message:
// RoundRobin, the default (the zero value), takes the members in turn (1,
// 2, …, N, 1, …), as the seed's distribute_work; Random takes one at
// random; LeastBusy takes the one with the shortest mailbox (the first of
// those, in index order).
type Dispatch int

// The dispatches, as Dispatch says.
const (
	RoundRobin Dispatch = iota
	Random
	LeastBusy
)

var dispatchNames = [...]string{"round_robin", "random", "least_busy"}

// String returns the tree file's name: round_robin, random, least_busy.
func (d Dispatch) String() string { return enumName(dispatchNames[:], "Dispatch", int(d)) }

// ParseDispatch reads a dispatch name as String writes it.
func ParseDispatch(s string) (Dispatch, error) {
	for i, n := range dispatchNames {
		if n == s {
			return Dispatch(i), nil
		}
	}
	return 0, fmt.Errorf("dispatch %q: not one of round_robin, random, least_busy: %w", s, ErrInvalidSpec)
}
