package loader

import (
	"fmt"
	"path/filepath"

	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/spec"
	"github.com/otpctl/otpctl/workers"
)

// KindDynamic is the Kind a dynamic supervisor has in events and snapshots.
const KindDynamic = "dynamic"

// KindPool is the Kind a pool's supervisor has in events.
const KindPool = "pool"

// runtimeFlags returns the runtime flags of a supervisor as a tree file
// declares them. Unknown names fall back to OTP's defaults (the checker
// refuses them before they get here).
func runtimeFlags(s *spec.Supervisor) runtime.Flags {
	f := runtime.Flags{MaxFrequency: s.MaxFrequency, Period: s.Period, Backoff: runtimeBackoff(s.Backoff)}
	switch s.Strategy {
	case spec.OneForAll:
		f.Strategy = runtime.OneForAll
	case spec.RestForOne:
		f.Strategy = runtime.RestForOne
	}
	switch s.AutoShutdown {
	case spec.AnySignificant:
		f.AutoShutdown = runtime.AnySignificant
	case spec.AllSignificant:
		f.AutoShutdown = runtime.AllSignificant
	}
	if s.Dynamic != nil {
		f.Strategy = runtime.OneForOne
	}
	return f
}

// restartType returns the runtime restart type of a tree file's restart
// value (permanent when empty or unknown).
func restartType(restart string) runtime.RestartType {
	switch restart {
	case spec.Transient:
		return runtime.Transient
	case spec.Temporary:
		return runtime.Temporary
	}
	return runtime.Permanent
}

// supervision returns how n's parent supervises it: its restart type,
// shutdown, significance and backoff, the settings a reload changes in
// place (the runtime.UpdateChild of n).
func supervision(n *spec.Node) runtime.UpdateChild {
	return runtime.UpdateChild{ID: n.Name, Restart: restartType(n.Restart), Shutdown: runtime.ShutdownPolicy(n.Shutdown),
		Significant: n.Significant, Backoff: runtimeBackoff(n.Backoff)}
}

// runtimeBackoff is a tree file's backoff for the runtime (nil: none).
func runtimeBackoff(b *spec.Backoff) runtime.Backoff {
	if b == nil {
		return runtime.Backoff{}
	}
	return runtime.Backoff{Initial: b.Initial, Max: b.Max, Factor: b.Factor, Jitter: b.Jitter, ResetAfter: b.ResetAfter}
}

// kindOf is what events and snapshots call a node: a worker's kind, a
// supervisor's strategy, or "dynamic".
func kindOf(n *spec.Node) string {
	switch {
	case n.Worker != nil:
		return n.Worker.Kind
	case n.Supervisor.Dynamic != nil:
		return KindDynamic
	case n.Supervisor.Pool != nil:
		return KindPool
	}
	return n.Supervisor.Strategy
}

// check makes sure every node of n's subtree is a worker of a registered
// kind or a supervisor, so that a start cannot fail for want of a kind.
func (r *Running) check(n *spec.Node) error {
	var err error
	n.Walk(func(m *spec.Node) {
		if err != nil {
			return
		}
		base := ""
		switch {
		case m.Worker != nil:
			base = m.Worker.Base
		case m.Supervisor != nil && m.Supervisor.Dynamic != nil:
			base = m.Supervisor.Dynamic.Base
		case m.Supervisor != nil && m.Supervisor.Pool != nil:
			base = m.Supervisor.Pool.Base
		case m.Supervisor != nil:
			return
		default:
			err = fmt.Errorf("%s: a node must be a worker or a supervisor", m.Path)
			return
		}
		if _, e := r.reg.Lookup(base); e != nil {
			err = fmt.Errorf("%s: %w", m.Path, e)
		}
	})
	return err
}

// childSpec returns the runtime child spec the running tree uses for n: for
// a worker, its kind's Start with n's path and args; for a supervisor, a
// Start that starts it (and its children) from the running spec. It is what
// a reload inserts or replaces. It fails on a worker of an unknown kind
// (see check for the whole subtree).
func (r *Running) childSpec(n *spec.Node) (runtime.ChildSpec, error) {
	u := supervision(n)
	cs := runtime.ChildSpec{ID: n.Name, Restart: u.Restart, Shutdown: u.Shutdown, Significant: u.Significant, Kind: kindOf(n), Backoff: u.Backoff}
	if n.Worker != nil {
		k, err := r.reg.Lookup(n.Worker.Base)
		if err != nil {
			return cs, fmt.Errorf("%s: %w", n.Path, err)
		}
		cs.Start = r.workerStart(k, n.Path, n.Worker.Kind, n.Worker.Args)
		return cs, nil
	}
	cs.Type = runtime.SupervisorChild
	cs.Start = r.supervisorStart(n)
	if n.Supervisor.Pool != nil {
		k, err := r.reg.Lookup(n.Supervisor.Pool.Base)
		if err != nil {
			return cs, fmt.Errorf("%s: %w", n.Path, err)
		}
		cs.Start = r.poolStart(n, k)
	}
	return cs, nil
}

// supervisorSpec builds the runtime spec of the supervisor n, children
// included.
func (r *Running) supervisorSpec(n *spec.Node) (runtime.SupervisorSpec, error) {
	s := n.Supervisor
	ss := runtime.SupervisorSpec{Flags: runtimeFlags(s), Path: n.Path, Events: r.onEvent}
	if d := s.Dynamic; d != nil {
		ss.Dynamic = dynamicSpec(d)
		return ss, nil
	}
	ss.Children = make([]runtime.ChildSpec, 0, len(s.Children))
	for _, c := range s.Children {
		cs, err := r.childSpec(c)
		if err != nil {
			return ss, err
		}
		ss.Children = append(ss.Children, cs)
	}
	return ss, nil
}

// dynamicSpec is the runtime template of a dynamic supervisor.
func dynamicSpec(d *spec.Dynamic) *runtime.DynamicSpec {
	return &runtime.DynamicSpec{
		Template: runtime.ChildSpec{
			ID: d.Kind, Restart: restartType(d.Restart), Shutdown: runtime.ShutdownPolicy(d.Shutdown),
			Kind: d.Kind,
			// Start stays nil: the loader names each child and gives
			// it its own Start (Running.Start).
		},
		MaxChildren: d.MaxChildren,
	}
}

// supervisorStart starts the nested supervisor at n's path. It reads the
// node from the running spec when it starts, not from n, so that a
// supervisor restarted after a reload changed it in place starts as the
// reload left it.
func (r *Running) supervisorStart(n *spec.Node) func(*runtime.Process) (runtime.Pid, error) {
	path := n.Path
	return func(parent *runtime.Process) (runtime.Pid, error) {
		gen := r.cur.Load()
		cur := gen.sups[path]
		if cur == nil || cur.Supervisor == nil {
			cur = n
		}
		ss, err := r.supervisorSpec(cur)
		if err != nil {
			return runtime.Pid{}, err
		}
		sup, err := runtime.StartSupervisor(parent, ss)
		if err != nil {
			return runtime.Pid{}, err
		}
		r.mu.Lock()
		r.sups[sup.Pid()] = gen
		r.mu.Unlock()
		return sup.Pid(), nil
	}
}

// workerStart starts an instance of kind k at path with args, and records
// it by pid (for Call and OS pids).
func (r *Running) workerStart(k *workers.Kind, path, kind string, args []byte) func(*runtime.Process) (runtime.Pid, error) {
	return func(parent *runtime.Process) (runtime.Pid, error) {
		inst, err := r.startWorker(parent, k, workers.Worker{Path: path, Args: args}, kind)
		return inst.Pid, err
	}
}

// startWorker starts w, an instance of kind k (named kind in the tree
// file), linked to parent, and records it by pid (for Call and OS pids).
func (r *Running) startWorker(parent *runtime.Process, k *workers.Kind, w workers.Worker, kind string) (workers.Instance, error) {
	w.Log = r.log.With("path", w.Path)
	w.Output = r.logs.ring(w.Path)
	if f := r.cur.Load().tree.File; f != "" {
		w.TreeDir = filepath.Dir(f)
	}
	inst, err := k.Start(parent, w)
	if err != nil {
		return workers.Instance{}, err
	}
	if !inst.Pid.IsZero() {
		r.mu.Lock()
		r.insts[inst.Pid] = &instance{Instance: inst, path: w.Path, kind: kind, args: w.Args, start: k}
		r.mu.Unlock()
	}
	return inst, nil
}

// instance is a started worker.
type instance struct {
	workers.Instance
	path, kind string
	args       []byte
	start      *workers.Kind
}
