package live

import (
	"strings"
	"testing"

	"github.com/otpctl/otpctl/runtime"
)

// The readiness rule of GET /readyz, node by node.
func TestReady(t *testing.T) {
	cases := []struct {
		state   runtime.ChildState
		restart string
		ready   bool
	}{
		{runtime.StateRunning, "permanent", true},
		{runtime.StateRunning, "temporary", true},
		{runtime.StateStopped, "permanent", false}, // stopped by an operator, or not started yet
		{runtime.StateStopped, "", false},          // the default restart type is permanent
		{runtime.StateStopped, "transient", true},  // exited normally: done
		{runtime.StateStopped, "temporary", true},  // exited: never restarted
		{runtime.StateStarting, "permanent", false},
		{runtime.StateStarting, "temporary", false}, // an exec child whose ready check has not passed
		{runtime.StateRestarting, "permanent", false},
		{runtime.StateRestarting, "transient", false},
		{runtime.StateFailed, "permanent", false},
		{runtime.StateFailed, "temporary", false},
	}
	for _, c := range cases {
		n := &Node{Path: "app/x", State: c.state, Restart: c.restart}
		if got := n.Ready(); got != c.ready {
			t.Errorf("%s %s: Ready %v, want %v", c.restart, c.state, got, c.ready)
		}
	}
}

// NotReady walks the whole tree: workers and supervisors, nested ones and
// a dynamic supervisor's children, and lists the nodes in tree order.
func TestNotReady(t *testing.T) {
	node := func(path, state, restart string, children ...*Node) *Node {
		return &Node{Path: path, State: runtime.ChildState(state), Restart: restart, Children: children}
	}
	cases := []struct {
		name string
		tree *Node
		want string
	}{
		{"all running", node("app", "running", "permanent",
			node("app/a", "running", "permanent"),
			node("app/s", "running", "permanent", node("app/s/b", "running", "transient"))), ""},
		{"a permanent worker stopped", node("app", "running", "permanent",
			node("app/a", "stopped", "permanent"), node("app/b", "running", "permanent")), "app/a stopped"},
		{"temporary and transient children that exited", node("app", "running", "permanent",
			node("app/job", "stopped", "temporary"), node("app/once", "stopped", "transient")), ""},
		{"restarting and failed", node("app", "running", "permanent",
			node("app/a", "restarting", "permanent"), node("app/b", "failed", "transient")), "app/a restarting, app/b failed"},
		{"nested supervisor", node("app", "running", "permanent",
			node("app/s", "running", "permanent",
				node("app/s/t", "running", "permanent", node("app/s/t/w", "starting", "permanent")))), "app/s/t/w starting"},
		{"a stopped supervisor", node("app", "running", "permanent",
			node("app/s", "stopped", "permanent"), node("app/u", "stopped", "transient")), "app/s stopped"},
		{"dynamic children", node("app", "running", "permanent",
			node("app/jobs", "running", "permanent",
				node("app/jobs/echo-1", "running", "temporary"), node("app/jobs/echo-2", "restarting", "transient"))), "app/jobs/echo-2 restarting"},
		{"an unhealthy worker", node("app", "running", "permanent",
			&Node{Path: "app/web", State: "running", Restart: "permanent", Health: &Health{Status: HealthUnhealthy, Failures: 3}},
			&Node{Path: "app/db", State: "running", Restart: "permanent", Health: &Health{Status: "starting", Failures: 1}},
			&Node{Path: "app/mq", State: "running", Restart: "permanent", Health: &Health{Status: "healthy"}}),
			"app/web unhealthy"},
		{"the tree still starting", node("app", "starting", "permanent",
			node("app/a", "running", "permanent"), node("app/b", "starting", "permanent"), node("app/c", "stopped", "permanent")),
			"app starting, app/b starting, app/c stopped"},
	}
	for _, c := range cases {
		var got []string
		for _, n := range c.tree.NotReady() {
			got = append(got, n.Path+" "+n.ReadyState())
		}
		if g := strings.Join(got, ", "); g != c.want {
			t.Errorf("%s: not ready %q, want %q", c.name, g, c.want)
		}
	}
}
