package otptest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/runtime"
)

// Snapshot is a picture of the live tree, as `otpctl tree` shows it: each
// node's state, pid, restart count, and each supervisor's restart budget.
// Its accessors take a path and fail the test when no node has it.
type Snapshot struct {
	// Root is the loader's picture, for what the accessors do not give.
	Root *live.Node
	tb   testing.TB
}

// Snapshot returns the tree as it is once it has settled (see AssertQuiet):
// what the test has done so far is reflected in it. The test fails if the
// tree has stopped or does not settle within the timeout.
func (tr *Tree) Snapshot() *Snapshot {
	tr.tb.Helper()
	snap, why := tr.settled()
	if why != "" {
		tr.tb.Fatalf("otptest: Snapshot: the tree did not settle: %s", why)
	}
	if snap == nil {
		tr.tb.Fatalf("otptest: Snapshot: %s has stopped (%v)", tr.Path(), tr.r.Reason())
	}
	return &Snapshot{Root: snap, tb: tr.tb}
}

// Has reports whether a node has path (a temporary child that exited, or a
// dynamic supervisor's stopped child, has none).
func (s *Snapshot) Has(path string) bool { return s.Root.Find(path) != nil }

// Node returns the node at path.
func (s *Snapshot) Node(path string) *live.Node {
	s.tb.Helper()
	n := s.Root.Find(path)
	if n == nil {
		s.tb.Fatalf("otptest: no node %s in the tree:\n%s", path, indent(s.String()))
	}
	return n
}

// Pid returns the process of the node at path (zero when it is not
// running).
func (s *Snapshot) Pid(path string) runtime.Pid {
	s.tb.Helper()
	return s.Node(path).Proc
}

// State returns the state of the node at path: running, starting, restarting,
// stopped or failed.
func (s *Snapshot) State(path string) runtime.ChildState {
	s.tb.Helper()
	return s.Node(path).State
}

// Restarts returns how many times the node at path has been started after
// its first start (crash, sibling, operator and reload restarts alike).
func (s *Snapshot) Restarts(path string) int {
	s.tb.Helper()
	return s.Node(path).Restarts
}

// Budget returns the restart budget of the supervisor at path: the
// restarts inside its current period, against max_frequency.
func (s *Snapshot) Budget(path string) live.Budget {
	s.tb.Helper()
	n := s.Node(path)
	if !n.IsSupervisor() {
		s.tb.Fatalf("otptest: Budget: %s is a worker, not a supervisor", path)
	}
	if n.Budget == nil {
		return live.Budget{}
	}
	return *n.Budget
}

// Pool returns the size and dispatch of the pool at path (its members are
// its Children, "1" … size).
func (s *Snapshot) Pool(path string) (size int, dispatch string) {
	s.tb.Helper()
	n := s.Node(path)
	if !n.Pool {
		s.tb.Fatalf("otptest: Pool: %s is not a pool", path)
	}
	return n.Size, n.Dispatch
}

// Children lists the children of the supervisor at path in start order,
// each as NAME:STATE: "a:running b:stopped c:running".
func (s *Snapshot) Children(path string) string {
	s.tb.Helper()
	var out []string
	for _, c := range s.Node(path).Children {
		out = append(out, c.Name+":"+string(c.State))
	}
	return strings.Join(out, " ")
}

// String renders the tree, one node a line, indented by depth:
//
//	shop one_for_one running <0.5> budget 1/3 in 5s
//	  db echo running <0.6> restarts 1
//	  pool pool echo×2 round_robin running <0.7> budget 0/1 in 5s
//	    1 echo running <0.8>
func (s *Snapshot) String() string {
	var b strings.Builder
	var walk func(n *live.Node, depth int)
	walk = func(n *live.Node, depth int) {
		kind := n.Kind
		switch {
		case n.Pool:
			kind = fmt.Sprintf("pool %s×%d %s", n.Kind, n.Size, n.Dispatch)
		case n.IsSupervisor() && n.Strategy != "" && !n.Dynamic:
			kind = n.Strategy
		}
		fmt.Fprintf(&b, "%s%s %s %s", strings.Repeat("  ", depth), n.Name, kind, n.State)
		if n.Pid != "" {
			fmt.Fprintf(&b, " %s", n.Pid)
		}
		if n.Restarts > 0 {
			fmt.Fprintf(&b, " restarts %d", n.Restarts)
		}
		if n.Budget != nil {
			fmt.Fprintf(&b, " %s", n.Budget)
		}
		b.WriteString("\n")
		for _, c := range n.Children {
			walk(c, depth+1)
		}
	}
	walk(s.Root, 0)
	return strings.TrimRight(b.String(), "\n")
}
