package control

import (
	"encoding/json"
	"fmt"
)

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
	// CodeUnauthorized (401) answers a request to the TCP listener
	// without the token it needs (see RequireToken).
	CodeUnauthorized = "unauthorized"
	// CodeSlowFollower is the code of the last line of an event stream
	// the server cut off: its reader fell behind the kept events, or did
	// not take a write for the server's WriteTimeout.
	CodeSlowFollower = "slow_follower"
	// CodeUnavailable is the code of a 503 from GET /healthz (the tree
	// is stopping) or GET /readyz (that, or nodes are not ready).
	CodeUnavailable = "unavailable"
	CodeInternal    = "internal"
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
	case CodeBusy, CodeUnavailable:
		return 503
	case CodeUnauthorized:
		return 401
	}
	return 500
}

// Health statuses of GET /healthz and GET /readyz.
const (
	HealthOK       = "ok"        // 200: the instance is up (healthz), or every node is ready (readyz)
	HealthStopping = "stopping"  // 503: the tree is stopping, or has stopped
	HealthNotReady = "not ready" // 503 (readyz): NotReady lists the nodes that are not
)

// HealthReply is the body of GET /healthz and GET /readyz:
// {"status":"ok"} with 200, or with 503 the status, the house error's code
// (CodeUnavailable) and message, and for readyz the nodes that are not
// ready: at most MaxNotReady of them, in tree order, and the count of the
// others in More.
type HealthReply struct {
	Status   string         `json:"status"`
	Code     string         `json:"code,omitempty"`
	Message  string         `json:"error,omitempty"`
	NotReady []NotReadyNode `json:"not_ready,omitempty"`
	More     int            `json:"more,omitempty"`
}

// NotReadyNode is a node that is not ready (live.Node.Ready): its path and
// state.
type NotReadyNode struct {
	Path  string `json:"path"`
	State string `json:"state"`
}
