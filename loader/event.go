package loader

import (
	"strings"

	"github.com/otpctl/otpctl/runtime"
)

// The reload's events, emitted through Running.Emit beside the runtime's
// lifecycle events (runtime.EventStarted, …) in live.Event's Type.
const (
	EventReload       runtime.EventType = "reload"        // a reload applied a plan
	EventReloadFailed runtime.EventType = "reload_failed" // a reload was refused; nothing changed
)

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
