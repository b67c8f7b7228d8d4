package control

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Node is one node of the live tree, as `otpctl tree --json` prints it.
type Node struct {
	Path string `json:"path"`
	Name string `json:"name"`
	// Type is "worker" or "supervisor".
	Type string `json:"type"`
	// Kind is a worker's kind; Strategy a supervisor's.
	Kind     string `json:"kind,omitempty"`
	Strategy string `json:"strategy,omitempty"`
	// State is running, starting, restarting, stopped or failed.
	State string `json:"state"`
	Pid   string `json:"pid,omitempty"`
	// OSPid is an exec worker's operating-system process id.
	OSPid       int        `json:"os_pid,omitempty"`
	Restarts    int        `json:"restarts"`
	LastRestart *time.Time `json:"last_restart,omitempty"`
	Started     *time.Time `json:"started,omitempty"`
	Mailbox     int        `json:"mailbox"`
	Restart     string     `json:"restart,omitempty"`
	Shutdown    string     `json:"shutdown,omitempty"`
	// Budget is a supervisor's restart budget.
	Budget      *Budget `json:"budget,omitempty"`
	Dynamic     bool    `json:"dynamic,omitempty"`
	MaxChildren int     `json:"max_children,omitempty"`
	Children    []*Node `json:"children,omitempty"`
}

// States are the states a node can be in, as Node.State and /v1/wait
// name them: running, starting, restarting, stopped, failed.
var States = []string{"running", "starting", "restarting", "stopped", "failed"}

// IsState reports whether s is one of States.
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

// Find returns the node at path under n (n itself included).
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

// Walk calls f for n and every node below it, depth first in order.
func (n *Node) Walk(f func(*Node)) {
	if n == nil {
		return
	}
	f(n)
	for _, c := range n.Children {
		c.Walk(f)
	}
}

// Event is one entry of the event log, as `otpctl events --json` and the
// JSON log print it.
type Event struct {
	Seq        uint64    `json:"seq"`
	Time       time.Time `json:"time"`
	Event      string    `json:"event"`
	Path       string    `json:"path,omitempty"`
	Kind       string    `json:"kind,omitempty"`
	Pid        string    `json:"pid,omitempty"`
	OSPid      int       `json:"os_pid,omitempty"` // an exec worker's OS process
	Reason     string    `json:"reason,omitempty"`
	Cause      string    `json:"cause,omitempty"`
	Trigger    string    `json:"trigger,omitempty"`
	NotStopped bool      `json:"not_stopped,omitempty"`
	// Reload events list what changed (and the paths whose start
	// failed); reload_failed lists the errors.
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
	Changed []string `json:"changed,omitempty"`
	Updated []string `json:"updated,omitempty"`
	Failed  []string `json:"failed,omitempty"`
	Errors  []string `json:"errors,omitempty"`
}

// KillRequest is the body of POST /v1/kill.
type KillRequest struct {
	Path   string `json:"path"`
	Reason string `json:"reason,omitempty"` // default "killed"
}

// PathRequest is the body of POST /v1/stop and /v1/restart.
type PathRequest struct {
	Path string `json:"path"`
}

// StartRequest is the body of POST /v1/start.
type StartRequest struct {
	Path string          `json:"path"`
	Name string          `json:"name,omitempty"` // dynamic supervisors: the new child's name
	Args json.RawMessage `json:"args,omitempty"` // dynamic supervisors: merged over the template's args
}

// StartReply is the reply of POST /v1/start and /v1/restart.
type StartReply struct {
	Path string `json:"path"`
	Pid  string `json:"pid"`
}

// CallRequest is the body of POST /v1/call.
type CallRequest struct {
	Path    string          `json:"path"`
	Request json.RawMessage `json:"request"`
	Timeout string          `json:"timeout,omitempty"` // a Go duration; default 5s
}

// ReloadReply is the reply of POST /v1/reload: the plan that was applied,
// one line per path that changed, and the count left unchanged.
type ReloadReply struct {
	Lines     []string `json:"lines"`
	Unchanged int      `json:"unchanged"`
	Added     []string `json:"added,omitempty"`
	Removed   []string `json:"removed,omitempty"`
	Changed   []string `json:"changed,omitempty"`
	Updated   []string `json:"updated,omitempty"`
	Failed    []string `json:"failed,omitempty"`
}

// Error codes of the API.
const (
	CodeBadRequest = "bad_request" // malformed JSON, missing fields, bad values
	CodeNotFound   = "not_found"   // no node at that path
	CodeRefused    = "refused"     // the operation does not apply (running, not a supervisor, …)
	CodeTimeout    = "timeout"     // a wait or a call timed out
	CodeInvalid    = "invalid"     // a reload whose files do not validate
	CodeBusy       = "busy"        // too many streams or waits are open (MaxStreams, MaxWaits); 503
	// CodeSlowFollower is the code of the last line of an event stream
	// the server cut off: its reader fell behind the kept events, or did
	// not take a write for the server's WriteTimeout.
	CodeSlowFollower = "slow_follower"
	CodeInternal     = "internal"
)

// Error is an error the API answered with.
type Error struct {
	Status  int      `json:"-"`
	Code    string   `json:"code"`
	Message string   `json:"error"`
	Details []string `json:"details,omitempty"` // e.g. every FILE:LINE:COL of a refused reload
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// Errorf makes an *Error with a code; the status follows from the code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Status: statusOf(code), Code: code, Message: fmt.Sprintf(format, args...)}
}

func statusOf(code string) int {
	switch code {
	case CodeBadRequest:
		return 400
	case CodeNotFound:
		return 404
	case CodeRefused:
		return 409
	case CodeTimeout:
		return 408
	case CodeInvalid:
		return 422
	case CodeBusy:
		return 503
	}
	return 500
}
