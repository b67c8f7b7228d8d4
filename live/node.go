package live

import (
	"fmt"
	"slices"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// Node is one node of the live tree: what loader.Running.Snapshot returns,
// GET /v1/tree serves and `otpctl tree --json` prints. Read back from the
// API, Proc is zero; everything else is as the tree's process saw it.
type Node struct {
	Path string `json:"path"`
	Name string `json:"name"`
	// Type is "worker" or "supervisor" (runtime.ChildType's names); the
	// root is a supervisor.
	Type string `json:"type"`
	// Kind is a worker's kind (as the tree file writes it), or a dynamic
	// supervisor's or a pool's children's kind; Strategy is a supervisor's current
	// strategy (one_for_one for a dynamic one).
	Kind     string `json:"kind,omitempty"`
	Strategy string `json:"strategy,omitempty"`
	// State is running, starting, restarting, stopped or failed.
	State runtime.ChildState `json:"state"`
	// Pid is the node's process as text (empty when it is not running);
	// Proc is the process itself, set only in the process that runs the
	// tree. OSPid is an exec worker's operating-system process.
	Pid   string      `json:"pid,omitempty"`
	Proc  runtime.Pid `json:"-"`
	OSPid int         `json:"os_pid,omitempty"`
	// Restarts counts the node's starts after its first (crash, sibling,
	// operator and reload restarts alike); LastRestart is the time of the
	// latest (nil if none). Started is when the current process started
	// (nil when not running). Times read the tree's clock.
	Restarts    int        `json:"restarts"`
	LastRestart *time.Time `json:"last_restart,omitempty"`
	Started     *time.Time `json:"started,omitempty"`
	// CrashRestarts counts those of Restarts that its supervisor's
	// intensity counts (cause crash, sibling or escalation); the others
	// were an operator's (restart, stop then start) or a reload's.
	CrashRestarts int `json:"crash_restarts"`
	// LastExit is how and when its latest process ended (by itself or
	// stopped by its supervisor); nil when none has ended yet.
	LastExit *Exit `json:"last_exit,omitempty"`
	// Mailbox is the number of messages waiting in the node's process.
	Mailbox int `json:"mailbox"`
	// Restart, Shutdown and Significant are how its supervisor supervises
	// it (for the root: permanent, infinity, false). Shutdown reads
	// brutal_kill, infinity or a duration ("5s").
	Restart     string `json:"restart"`
	Shutdown    string `json:"shutdown,omitempty"`
	Significant bool   `json:"significant,omitempty"`
	// Backoff is the restart backoff in use (its own, its kind's or its
	// supervisor's default), as a tree file writes it; empty for none.
	// RestartDue and RestartIn are set while a restart waits for it
	// (state restarting): when it starts, and how long that was from the
	// snapshot, to the tenth of a second ("3.2s").
	Backoff    string     `json:"backoff,omitempty"`
	RestartDue *time.Time `json:"restart_due,omitempty"`
	RestartIn  string     `json:"restart_in,omitempty"`
	// A running supervisor's restart budget and auto_shutdown; Dynamic and
	// MaxChildren (zero: no limit) for a dynamic supervisor.
	Budget       *Budget `json:"budget,omitempty"`
	AutoShutdown string  `json:"auto_shutdown,omitempty"`
	Dynamic      bool    `json:"dynamic,omitempty"`
	MaxChildren  int     `json:"max_children,omitempty"`
	// Pool, Size and Dispatch for a pool (a supervisor whose children are
	// its members "1" … Size): how many members it has and how a call to
	// it chooses one (round_robin, random, least_busy).
	Pool     bool   `json:"pool,omitempty"`
	Size     int    `json:"size,omitempty"`
	Dispatch string `json:"dispatch,omitempty"`
	// Health is a running worker's health, as its health check (an exec
	// child's `health`) last saw it; nil without a check.
	Health *Health `json:"health,omitempty"`
	// Children of a running supervisor, in start order.
	Children []*Node `json:"children,omitempty"`
}

// Exit is how a node's process ended: its exit reason as text (as events
// write it: "exit status 1", "signal: terminated", "shutdown", "killed")
// and when, on the tree's clock.
type Exit struct {
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// States are the states a node can be in, as Node.State and /v1/wait
// name them.
var States = []string{
	string(runtime.StateRunning), string(runtime.StateStarting), string(runtime.StateRestarting),
	string(runtime.StateStopped), string(runtime.StateFailed),
}

// IsState reports whether s names one of States.
func IsState(s string) bool { return slices.Contains(States, s) }

// Budget is a supervisor's restart budget: Used restarts inside the current
// window of Period, against Max (max_frequency).
type Budget struct {
	Used   int    `json:"used"`
	Max    int    `json:"max"`
	Period string `json:"period"`
}

// String reads "budget 1/3 in 5s".
func (b Budget) String() string { return fmt.Sprintf("budget %d/%d in %s", b.Used, b.Max, b.Period) }

// Health is a worker's health: Status is starting (no probe has passed
// yet), healthy or unhealthy (its probes failed `failures` times in a row:
// it is being stopped, and its supervisor restarts it as after a crash);
// Last is the last probe's result ("ok", or why it failed), At when it
// ended, Failures how many probes in a row have failed and counted.
type Health struct {
	Status   string     `json:"status"`
	Last     string     `json:"last,omitempty"`
	At       *time.Time `json:"at,omitempty"`
	Failures int        `json:"failures"`
}

// HealthUnhealthy is the Health.Status of a worker that failed its health
// check.
const HealthUnhealthy = "unhealthy"

// IsSupervisor reports whether n is a supervisor (the root included).
func (n *Node) IsSupervisor() bool { return n.Type == runtime.SupervisorChild.String() }

// Find returns the node at path under n (n itself included), or nil.
func (n *Node) Find(path string) *Node {
	if n == nil {
		return nil
	}
	if n.Path == path {
		return n
	}
	for _, c := range n.Children {
		if len(path) > len(c.Path) && path[len(c.Path)] != '/' {
			continue
		}
		if f := c.Find(path); f != nil {
			return f
		}
	}
	return nil
}

// Walk calls f for n and every node below it, depth first in start order.
func (n *Node) Walk(f func(*Node)) {
	if n == nil {
		return
	}
	f(n)
	for _, c := range n.Children {
		c.Walk(f)
	}
}
