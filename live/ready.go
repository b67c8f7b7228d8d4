package live

import "github.com/otpctl/otpctl/runtime"

// Ready reports whether n itself is ready, as GET /readyz and `otpctl
// health --ready` judge every node of the tree: a running node is ready; a
// stopped one is ready unless it is permanent (a transient or temporary
// child that exited and is not restarted is done, not down; a dynamic
// supervisor's children follow their template's restart type); a starting
// node (an exec child whose ready check has not passed yet), a restarting
// one, a failed one and a running one whose health is unhealthy are not. Its children are not looked at: see
// NotReady.
func (n *Node) Ready() bool {
	switch n.State {
	case runtime.StateRunning:
		return n.Health == nil || n.Health.Status != HealthUnhealthy
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

// ReadyState names why n is not Ready, as GET /readyz lists it: its state,
// or "unhealthy" for a running node that failed its health check.
func (n *Node) ReadyState() string {
	if n.State == runtime.StateRunning && n.Health != nil && n.Health.Status == HealthUnhealthy {
		return HealthUnhealthy
	}
	return string(n.State)
}
