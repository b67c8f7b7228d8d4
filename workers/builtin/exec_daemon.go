package builtin

import (
	"fmt"

	"github.com/otpctl/otpctl/runtime"
)

// DaemonizedError is the exit reason of an exec worker's process that
// exited with status 0 while other processes it started still ran: it most
// likely forked into the background ("daemonized"), which a supervisor
// cannot watch. Those processes were killed with it.
type DaemonizedError struct {
	// Left is how many of its processes still ran.
	Left int
}

// Error says how many processes were left and what to do about it.
func (e *DaemonizedError) Error() string {
	return fmt.Sprintf("exit status 0 while %d of its processes still ran (stopped now): it may have daemonized: run it in the foreground", e.Left)
}

// daemonized is the exit reason of an exited message: a normal exit that
// left processes behind is a DaemonizedError.
func daemonized(msg execMsg) error {
	if msg.exited == runtime.Normal && msg.left > 0 {
		return &DaemonizedError{Left: msg.left}
	}
	return msg.exited
}
