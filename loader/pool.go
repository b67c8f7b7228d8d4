package loader

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/otpctl/otpctl/control"
	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/schema"
	"github.com/otpctl/otpctl/spec"
	"github.com/otpctl/otpctl/workers"
)

// A pool of the tree file runs as a runtime.Pool whose members are
// workers of its kind, the children "1" … "size" of its supervisor: they
// are steered by path as any worker (shop/pool/2), a call to the pool's
// own path is dispatched to one of them, and Scale (or a reload that
// changes the size) resizes it in place.

// pool is a running pool: its members take the JSON requests of `otpctl
// call`.
type pool = runtime.Pool[workers.Request]

// poolStart starts the pool at n's path, whose members are of kind k. As
// supervisorStart, it reads the node from the running spec when it
// starts, so that a pool restarted after a reload or a Scale starts as
// they left it.
func (r *Running) poolStart(n *spec.Node, k *workers.Kind) func(*runtime.Process) (runtime.Pid, error) {
	path := n.Path
	return func(parent *runtime.Process) (runtime.Pid, error) {
		gen := r.cur.Load()
		cur := gen.sups[path]
		if cur == nil || cur.Supervisor == nil || cur.Supervisor.Pool == nil {
			cur = n
		}
		ps := cur.Supervisor.Pool
		d, err := runtime.ParseDispatch(ps.Dispatch)
		if err != nil {
			return runtime.Pid{}, err
		}
		p, err := runtime.StartPool(parent, runtime.PoolSpec[workers.Request]{
			Flags: runtimeFlags(cur.Supervisor), Path: path, Size: ps.Size, Dispatch: d,
			Restart: restartType(ps.Restart), Shutdown: runtime.ShutdownPolicy(ps.Shutdown), Kind: ps.Kind,
			Events: r.onEvent,
			Start: func(parent *runtime.Process, index int) (runtime.Member[workers.Request], error) {
				w := workers.Worker{Path: path + "/" + strconv.Itoa(index), Args: spec.MemberArgs(ps.Args, index), Index: index}
				inst, err := r.startWorker(parent, k, w, ps.Kind)
				return runtime.Member[workers.Request]{Pid: inst.Pid, Subject: inst.Requests}, err
			},
		})
		if err != nil {
			return runtime.Pid{}, err
		}
		pid := p.Supervisor().Pid()
		r.mu.Lock()
		r.sups[pid] = gen
		r.pools[pid] = p
		r.mu.Unlock()
		return pid, nil
	}
}

// livePool returns the running pool that t is, or nil.
func (r *Running) livePool(t target) *pool {
	if t.root || t.info.Pid.IsZero() {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pools[t.info.Pid]
}

// callPool sends a call to the pool p at path to one of its members, by
// its dispatch; the member's reply (or refusal, or exit) is the answer.
func (r *Running) callPool(path string, p *pool, body json.RawMessage, timeout time.Duration) (json.RawMessage, error) {
	m, err := p.Pick()
	if err != nil {
		if len(p.Members()) > 0 {
			return nil, &PathError{"call", path, explain(workers.ErrNotCallable, "the pool's members take no requests")}
		}
		return nil, &PathError{"call", path, explain(ErrNotRunning, "no member of the pool is running")}
	}
	proc, detach := runtime.Attach()
	defer detach()
	rep, err := workers.Call(proc, workers.Instance{Pid: m.Pid, Requests: m.Subject}, body, timeout)
	if err != nil {
		return nil, &PathError{"call", path + "/" + strconv.Itoa(m.Index), err}
	}
	return rep, nil
}

// Scale resizes the pool at path to size members, in place, as a reload
// of its size would: new members start at the end, surplus ones stop from
// the end, the others are not touched. The running spec records the new
// size, so that the pool keeps it if it is restarted, and a reload of the
// file sets the file's size again. size is 1 to schema.MaxPoolSize(). It
// returns the size before. The members' events say cause operator. A member that fails to start is removed again
// and the pool keeps the members it had started (a *runtime.StartError).
func (r *Running) Scale(path string, size int) (int, error) {
	fail := func(err error) (int, error) { return 0, &PathError{"scale", path, err} }
	if size < 1 || size > schema.MaxPoolSize() {
		return fail(explain(ErrInvalid, "size %d: a pool has 1 to %d members", size, schema.MaxPoolSize()))
	}
	r.reloadMu.Lock() // as a reload, which sets the running spec too
	defer r.reloadMu.Unlock()
	t, err := r.resolve(path)
	if err != nil {
		return fail(err)
	}
	if n := r.node(path); n == nil || n.Supervisor == nil || n.Supervisor.Pool == nil || t.root {
		return fail(explain(ErrRefused, "not a pool"))
	}
	p := r.livePool(t)
	if p == nil {
		return fail(explain(ErrNotRunning, "it is %s", t.info.State))
	}
	old := p.Size()
	r.setSpec(resized(r.Spec(), path, size))
	if err := p.Resize(size, runtime.CauseOperator); err != nil {
		return old, &PathError{"scale", path, friendly(err)}
	}
	return old, nil
}

// resizePool sets the running pool of the supervisor s to the size and
// dispatch of the tree file's pool ps (a reload's Updated change).
func (r *Running) resizePool(s *runtime.Supervisor, ps *spec.Pool) error {
	r.mu.Lock()
	p := r.pools[s.Pid()]
	r.mu.Unlock()
	if p == nil {
		return runtime.ErrNoSupervisor // exited: it restarts from the new spec
	}
	if d, err := runtime.ParseDispatch(ps.Dispatch); err == nil {
		p.SetDispatch(d)
	}
	return p.Resize(ps.Size, runtime.CauseReload)
}

// resized is t with the pool at path size members strong: the nodes from
// the root down to it are copied, the rest is shared (a spec.Tree is never
// changed in place).
func resized(t *spec.Tree, path string, size int) *spec.Tree {
	var copyDown func(n *spec.Node) *spec.Node
	copyDown = func(n *spec.Node) *spec.Node {
		c, s := *n, *n.Supervisor
		c.Supervisor = &s
		if n.Path == path {
			p := *s.Pool
			p.Size = size
			s.Pool = &p
			return &c
		}
		s.Children = slices.Clone(s.Children)
		for i, k := range s.Children {
			if k.Supervisor != nil && (k.Path == path || strings.HasPrefix(path, k.Path+"/")) {
				s.Children[i] = copyDown(k)
			}
		}
		return &c
	}
	nt := *t
	nt.Root = copyDown(t.Root)
	return &nt
}

// fillPool adds what a snapshot says of a pool to n, when the tree file
// declares one at its path: its members' kind, its size and dispatch (the
// running pool's, if it runs). It runs with r.mu held.
func (r *Running) fillPool(n *live.Node) {
	sn := r.node(n.Path)
	if sn == nil || sn.Supervisor == nil || sn.Supervisor.Pool == nil {
		return
	}
	ps := sn.Supervisor.Pool
	n.Pool, n.Kind, n.Size, n.Dispatch = true, ps.Kind, ps.Size, ps.Dispatch
	if p := r.pools[n.Proc]; p != nil {
		n.Size, n.Dispatch = p.Size(), p.Dispatch().String()
	}
}

// Scale is POST /v1/scale: Running.Scale.
func (b *backend) Scale(path string, size int) (control.ScaleReply, error) {
	old, err := b.tree.Scale(path, size)
	if err != nil {
		return control.ScaleReply{}, apiError(err)
	}
	return control.ScaleReply{Path: path, Old: old, Size: size}, nil
}
