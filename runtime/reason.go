package runtime

import (
	"errors"
	"fmt"
	goruntime "runtime"
)

// Atom is an exit reason that is just a name, like an Erlang atom. Atoms are
// comparable, so errors.Is(reason, Normal) works.
type Atom string

// Error returns the atom's name.
func (a Atom) Error() string { return string(a) }

// The exit reasons the runtime gives meaning to.
const (
	// Normal is the reason of a process that returned or stopped by itself.
	// It does not propagate along links.
	Normal Atom = "normal"
	// Shutdown is the reason a supervisor uses to stop a child. It is not
	// abnormal for restart purposes (a transient child is not restarted).
	Shutdown Atom = "shutdown"
	// Killed is the reason of a process that was killed. Sent with Exit it
	// cannot be trapped; arriving along a link it is an ordinary signal.
	Killed Atom = "killed"
	// NoProc is the reason given for a process that was already dead: in a
	// Down of a monitor set on a dead process, or the exit signal of a link
	// to one.
	NoProc Atom = "noproc"
)

// PanicError is the exit reason of a process whose function panicked. The
// panic never takes the program down; it becomes this reason.
type PanicError struct {
	Value any // what was passed to panic
	// pcs are the program counters of the goroutine's stack at the panic,
	// innermost first: recording them is cheap, formatting them is not, so
	// Stack formats them only when asked.
	pcs []uintptr
}

// maxPanicFrames bounds the frames a PanicError records.
const maxPanicFrames = 64

// newPanicError is the reason of a panic with value r. It must be called
// from the function deferred by the panicking goroutine, which recovered r.
func newPanicError(r any) *PanicError {
	// The buffer is on the heap: on this goroutine's stack, deep in a
	// panic, it would make the stack grow (a copy of the whole stack).
	// Most stacks fit in a small one; a deep one is read again.
	pcs := make([]uintptr, 16)
	// Skip runtime.Callers, newPanicError and the deferred function;
	// Stack drops the frames of the panic machinery.
	n := goruntime.Callers(3, pcs)
	if n == len(pcs) {
		pcs = make([]uintptr, maxPanicFrames)
		n = goruntime.Callers(3, pcs)
	}
	return &PanicError{Value: r, pcs: pcs[:n:n]}
}

// Stack returns the goroutine's stack at the panic, for the log: one
// function per frame, innermost first, each followed by its file and line,
// as in a Go panic's trace. It is empty for a PanicError made by hand.
func (e *PanicError) Stack() []byte {
	var all []goruntime.Frame
	frames := goruntime.CallersFrames(e.pcs)
	for more := len(e.pcs) > 0; more; {
		var f goruntime.Frame
		f, more = frames.Next()
		all = append(all, f)
	}
	// The leading frames, up to runtime.gopanic, are the panic's own.
	for i, f := range all {
		if f.Function == "runtime.gopanic" {
			all = all[i+1:]
			break
		}
	}
	var b []byte
	for _, f := range all {
		b = fmt.Appendf(b, "%s(...)\n\t%s:%d\n", f.Function, f.File, f.Line)
	}
	return b
}

// Error reads "panic: VALUE".
func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	if err, ok := e.Value.(error); ok {
		return err
	}
	return nil
}

// ShutdownError is OTP's {shutdown, Term}: a shutdown that says why. It
// reads "shutdown:TERM" and is Shutdown for errors.Is, so it is not
// abnormal: a transient child that exits with it is not restarted, and a
// significant child that exits with it counts for AutoShutdown, as after
// Shutdown. Along a link it is an exit signal like any reason but Normal.
type ShutdownError struct {
	Term string // why, as text
}

// Error reads "shutdown:TERM".
func (e *ShutdownError) Error() string { return string(Shutdown) + ":" + e.Term }

// Unwrap returns Shutdown, so errors.Is(reason, Shutdown) holds.
func (e *ShutdownError) Unwrap() error { return Shutdown }

// IsAbnormal reports whether reason is abnormal in OTP's sense: anything but
// nil, Normal and Shutdown (or an error wrapping Shutdown, such as a
// *ShutdownError). Transient children are restarted only after an abnormal
// exit.
func IsAbnormal(reason error) bool {
	return reason != nil && !errors.Is(reason, Normal) && !errors.Is(reason, Shutdown)
}

// Errors returned by runtime calls.
var (
	// ErrTimeout is returned by Receive, Select and Call when the timeout passes.
	ErrTimeout = errors.New("timeout")
	// ErrNotOwner is returned by Receive on a subject another process owns.
	ErrNotOwner = errors.New("subject is owned by another process")
	// ErrExited is returned by blocking calls on an attached process that has
	// exited (a spawned process unwinds instead of seeing it).
	ErrExited = errors.New("process has exited")
)

// CallError is returned by Call when the called process exits (or was already
// dead) before it replied.
type CallError struct {
	Pid    Pid   // the called process
	Reason error // its exit reason; NoProc when it was not alive
}

// Error says which process exited and why.
func (e *CallError) Error() string {
	return fmt.Sprintf("call to %v: process exited: %v", e.Pid, e.Reason)
}

// Unwrap returns the exit reason, so errors.Is(err, NoProc) works.
func (e *CallError) Unwrap() error { return e.Reason }
