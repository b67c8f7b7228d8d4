package loader

import (
	"time"

	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/spec"
)

// Node is one node of the live tree, as Snapshot returns it: what
// `otpctl tree` shows.
type Node struct {
	// Path and Name: the node's path, and its last element.
	Path, Name string
	// Type is runtime.Worker or runtime.SupervisorChild (the root is a
	// supervisor).
	Type runtime.ChildType
	// Kind is a worker's kind (as the tree file writes it), or
	// KindDynamic for a dynamic supervisor; Strategy is a supervisor's
	// current strategy.
	Kind     string
	Strategy string
	State    runtime.ChildState
	// Pid is the node's process (zero when it is not running); OSPid an
	// exec worker's operating-system process (zero otherwise).
	Pid   runtime.Pid
	OSPid int
	// Restarts counts the node's starts after its first (crash, sibling,
	// operator and reload restarts alike); LastRestart is the time of the
	// latest, zero if none. Started is when the current process started
	// (zero when not running). Times read the tree's clock.
	Restarts    int
	LastRestart time.Time
	Started     time.Time
	// Mailbox is the number of messages waiting in the node's process.
	Mailbox int
	// Restart, Shutdown and Significant are how its supervisor supervises
	// it (for the root: permanent, infinity, false).
	Restart     runtime.RestartType
	Shutdown    runtime.ShutdownPolicy
	Significant bool
	// A running supervisor's flags, restart budget (restarts inside the
	// current period against max_frequency) and, for a dynamic one,
	// max_children (zero: no limit).
	Flags       runtime.Flags
	Budget      runtime.Budget
	Dynamic     bool
	MaxChildren int
	// Template is a dynamic supervisor's children's kind.
	Template string
	// Children of a running supervisor, in start order.
	Children []*Node
}

// Walk calls f for n and every node below it, depth first in start order.
func (n *Node) Walk(f func(*Node)) {
	f(n)
	for _, c := range n.Children {
		c.Walk(f)
	}
}

// Find returns the node at path under n (n included), or nil.
func (n *Node) Find(path string) *Node {
	var found *Node
	n.Walk(func(m *Node) {
		if found == nil && m.Path == path {
			found = m
		}
	})
	return found
}

// Snapshot returns the live tree as it is now: each supervisor's subtree is
// a consistent picture taken by its own goroutine (runtime.Supervisor's
// Snapshot), with the workers' OS pids added. It fails with ErrStopped once
// the tree has stopped.
func (r *Running) Snapshot() (*Node, error) {
	ss, err := r.root.Snapshot()
	if err != nil {
		return nil, ErrStopped
	}
	root := &Node{
		Path: r.rootPath, Name: r.rootPath, Type: runtime.SupervisorChild, State: runtime.StateStarting,
		Pid: r.root.Pid(), Mailbox: r.root.Pid().MailboxLen(),
		Restart: runtime.Permanent, Shutdown: runtime.Infinity,
	}
	if r.isUp() {
		root.State, root.Started = runtime.StateRunning, r.started
	}
	if rn := r.node(r.rootPath); rn != nil {
		root.Kind = kindOf(rn)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fillSupervisor(root, &ss)
	return root, nil
}

// fillSupervisor adds a supervisor snapshot's flags and children to n. It
// runs with r.mu held (for the OS pids).
func (r *Running) fillSupervisor(n *Node, ss *runtime.SupervisorSnapshot) {
	n.Strategy = ss.Flags.Strategy.String()
	n.Flags, n.Budget, n.Dynamic, n.MaxChildren = ss.Flags, ss.Budget, ss.Dynamic, ss.MaxChildren
	if sn := r.node(n.Path); ss.Dynamic && sn != nil && sn.Supervisor != nil && sn.Supervisor.Dynamic != nil {
		n.Template = sn.Supervisor.Dynamic.Kind
	}
	n.Children = make([]*Node, 0, len(ss.Children))
	for i := range ss.Children {
		c := &ss.Children[i]
		cn := &Node{
			Path: c.Path, Name: c.ID, Type: c.Type, Kind: c.Kind, State: c.State, Pid: c.Pid,
			Restarts: c.Restarts, LastRestart: c.LastRestart, Mailbox: c.Mailbox,
			Restart: c.Restart, Shutdown: c.Shutdown, Significant: c.Significant,
		}
		if !c.Pid.IsZero() && c.State == runtime.StateRunning {
			cn.Started = c.Started
			if inst := r.insts[c.Pid]; inst != nil {
				cn.OSPid = inst.OSPid
			}
		}
		if c.Type == runtime.SupervisorChild {
			if c.Supervisor != nil {
				r.fillSupervisor(cn, c.Supervisor)
				if !cn.Dynamic {
					// Its strategy as it is now: a reload may have
					// changed it since its parent started it.
					cn.Kind = cn.Strategy
				}
			} else if sn := r.node(c.Path); sn != nil && sn.Supervisor != nil {
				cn.Strategy = sn.Supervisor.Strategy
				if d := sn.Supervisor.Dynamic; d != nil {
					cn.Dynamic, cn.Template, cn.Strategy = true, d.Kind, spec.OneForOne
				}
			}
		}
		n.Children = append(n.Children, cn)
	}
}
