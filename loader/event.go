package loader

import (
	"strings"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// EventType names an event of the stream. The names are public API: they
// are what logs and `otpctl events` print.
type EventType string

// The events. The first five are the runtime's lifecycle events; the reload
// events are emitted by the reload (through Running.Emit).
const (
	EventStarted      EventType = EventType(runtime.EventStarted)     // a node started (or restarted)
	EventExited       EventType = EventType(runtime.EventExited)      // a node exited by itself
	EventTerminated   EventType = EventType(runtime.EventTerminated)  // a node was stopped by its supervisor (or the tree stopped)
	EventStartFailed  EventType = EventType(runtime.EventStartFailed) // a node's start failed
	EventGiveUp       EventType = EventType(runtime.EventGiveUp)      // a supervisor passed its restart intensity
	EventReload       EventType = "reload"                            // a reload applied a plan
	EventReloadFailed EventType = "reload_failed"                     // a reload was refused; nothing changed
)

// Event is one event of a running tree: the lifecycle of its nodes, and
// its reloads. The root supervisor has events too: started once the whole
// tree is up, and at the end terminated (the tree was stopped: Shutdown or
// Halt) or exited (it stopped by itself: it gave up, or auto_shutdown).
type Event struct {
	Type EventType
	// Time is read from the tree's clock.
	Time time.Time
	// Path is the node's path (for give_up, the supervisor's own; for
	// reload and reload_failed, the root's); Kind
	// is a worker's kind, or a supervisor's strategy ("dynamic" for a
	// dynamic supervisor).
	Path string
	Kind string
	// Pid is the node's process; OSPid, for an exec worker, its
	// operating-system process (zero otherwise).
	Pid   runtime.Pid
	OSPid int
	// Reason, for exited, terminated, start_failed and give_up, is the exit
	// reason as text (see ReasonText); Err is the reason itself, for
	// errors.Is and errors.As.
	Reason string
	Err    error
	// Cause and Trigger say why a started or terminated happened: Cause is
	// boot, crash, sibling, escalation, reload, operator or shutdown, and
	// Trigger the path whose exit set it off (empty for boot, operator,
	// reload and shutdown). A give_up's Trigger is the child whose exit
	// passed the intensity.
	Cause   runtime.Cause
	Trigger string
	// NotStopped is set on a terminated in-process worker that was killed
	// while its goroutine ran outside the runtime: it is abandoned, not
	// stopped (Go cannot kill a goroutine).
	NotStopped bool
	// Added, Removed, Changed and Updated are the paths a reload started,
	// stopped, restarted and updated in place, and Failed those of them
	// whose start failed (left failed). Errors are the FILE:LINE:COL
	// problems of a refused reload (reload_failed), or, on a reload, the
	// operations the runtime refused (none is expected: they would be a
	// bug).
	Added, Removed, Changed, Updated []string
	Failed                           []string
	Errors                           []string
}

// ReasonText renders an exit reason as events and logs show it: the error's
// own text, verbatim, so that one rule covers every reason. The atoms read
// normal, shutdown and killed; a panic reads "panic: VALUE"; an exec worker's
// exit reads "exit status 2" or "signal: terminated" (as its kind words it);
// a reason given to Kill as text reads as that text; any other error reads as
// its message. Nil reads "".
func ReasonText(reason error) string {
	if reason == nil {
		return ""
	}
	return reason.Error()
}

// KillReason turns the text of `otpctl kill --reason` into an exit reason:
// "" and "killed" are runtime.Killed, "normal" runtime.Normal, "shutdown"
// runtime.Shutdown, and "shutdown:TERM" OTP's {shutdown, Term} (a
// *runtime.ShutdownError: not abnormal); any other text is an abnormal
// reason. Each reads as the text.
func KillReason(text string) error {
	switch text {
	case "", string(runtime.Killed):
		return runtime.Killed
	case string(runtime.Normal):
		return runtime.Normal
	case string(runtime.Shutdown):
		return runtime.Shutdown
	}
	if term, ok := strings.CutPrefix(text, string(runtime.Shutdown)+":"); ok {
		return &runtime.ShutdownError{Term: term}
	}
	return &OperatorReason{Text: text}
}

// OperatorReason is an abnormal exit reason given as text by an operator
// (`otpctl kill --reason TEXT`).
type OperatorReason struct{ Text string }

// Error returns the text.
func (e *OperatorReason) Error() string { return e.Text }
