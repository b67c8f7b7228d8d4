package live

import (
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// Event is one event of a running tree: the lifecycle of its nodes, and its
// reloads. It is what loader.Options.Events receives, the control API's
// event log keeps (GET /v1/events) and `otpctl events --json` and the JSON
// log print. The root supervisor has events too: started once the whole
// tree is up, and at the end terminated (the tree was stopped) or exited (it
// stopped by itself: it gave up, or auto_shutdown).
type Event struct {
	// Seq is the event's number in the control API's event log (zero
	// before the log numbers it).
	Seq uint64 `json:"seq"`
	// Time is read from the tree's clock.
	Time time.Time `json:"time"`
	// Type is one of runtime's lifecycle events (started, exited,
	// terminated, start_failed, give_up), a reload's (loader.EventReload,
	// loader.EventReloadFailed) or an operator's signal
	// (loader.EventSignalled).
	Type runtime.EventType `json:"event"`
	// Path is the node's path (for give_up, the supervisor's own; for
	// reload and reload_failed, the root's); Kind is a worker's kind, or a
	// supervisor's strategy ("dynamic" for a dynamic supervisor).
	Path string `json:"path,omitempty"`
	Kind string `json:"kind,omitempty"`
	// Pid is the node's process as text; Proc the process itself (zero
	// when read back from the API). OSPid is an exec worker's
	// operating-system process.
	Pid   string      `json:"pid,omitempty"`
	Proc  runtime.Pid `json:"-"`
	OSPid int         `json:"os_pid,omitempty"`
	// Reason, for exited, terminated, start_failed and give_up, is the exit
	// reason as text (the error's own text); Err is the reason itself, for
	// errors.Is and errors.As (nil when read back from the API).
	Reason string `json:"reason,omitempty"`
	Err    error  `json:"-"`
	// Cause and Trigger say why a started or terminated happened: Cause is
	// boot, crash, sibling, escalation, reload, operator or shutdown, and
	// Trigger the path whose exit set it off (empty for boot, operator,
	// reload and shutdown). A give_up's Trigger is the child whose exit
	// passed the intensity.
	Cause   runtime.Cause `json:"cause,omitempty"`
	Trigger string        `json:"trigger,omitempty"`
	// NotStopped is set on a terminated in-process worker that was killed
	// while its goroutine ran outside the runtime: it is abandoned, not
	// stopped (Go cannot kill a goroutine).
	NotStopped bool `json:"not_stopped,omitempty"`
	// Signal is a signalled event's signal (HUP, USR1, …): an operator
	// sent it to the exec worker's process group (`otpctl signal`).
	Signal string `json:"signal,omitempty"`
	// Restart and StartedIn are a started's (runtime.Event's): the node had
	// started before, and how long its start took (its time to ready).
	// They are for the process that runs the tree (its metrics read them)
	// and are not in the JSON.
	Restart   bool          `json:"-"`
	StartedIn time.Duration `json:"-"`
	// Added, Removed, Changed and Updated are the paths a reload started,
	// stopped, restarted and updated in place, and Failed those of them
	// whose start failed (left failed). Errors are the FILE:LINE:COL
	// problems of a refused reload (reload_failed), or, on a reload, the
	// operations the runtime refused (none is expected: they would be a
	// bug).
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
	Changed []string `json:"changed,omitempty"`
	Updated []string `json:"updated,omitempty"`
	Failed  []string `json:"failed,omitempty"`
	Errors  []string `json:"errors,omitempty"`
}
