package loader

import (
	"strings"
	"syscall"

	"github.com/otpctl/otpctl/control"
	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/runtime"
)

// EventSignalled is the event of an operator's signal to an exec child
// (Running.Signal): its Signal field names it.
const EventSignalled runtime.EventType = "signalled"

// Signals are the signals Signal sends, by their short names, in the
// order `otpctl signal` lists them.
var Signals = []string{"HUP", "USR1", "USR2", "INT", "TERM", "QUIT", "WINCH"}

var signalNumbers = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2, "INT": syscall.SIGINT,
	"TERM": syscall.SIGTERM, "QUIT": syscall.SIGQUIT, "WINCH": syscall.SIGWINCH,
}

// ParseSignal reads a signal's name as Signal takes it: one of Signals, in
// any case, with or without SIG (HUP, SIGHUP, hup). It returns the short
// name and the signal; an error wrapping ErrInvalid lists Signals.
func ParseSignal(name string) (string, syscall.Signal, error) {
	short := strings.ToUpper(name)
	short = strings.TrimPrefix(short, "SIG")
	if sig, ok := signalNumbers[short]; ok {
		return short, sig, nil
	}
	return "", 0, explain(ErrInvalid, "%q is not a signal otpctl sends; one of %s", name, strings.Join(Signals, ", "))
}

// Signal sends the signal named sig (see ParseSignal) to the process group
// of the exec child at path, and reports a signalled event. Its supervisor
// is not involved: it is not a restart, and nothing is counted; should the
// child exit because of it (TERM), that exit is handled as any exit of
// the child by itself. A supervisor (a pool too), an actor, or a child
// that is not running is refused. It returns the short name and the OS pid.
func (r *Running) Signal(path, sig string) (string, int, error) {
	short, num, err := ParseSignal(sig)
	if err != nil {
		return "", 0, &PathError{"signal", path, err}
	}
	t, err := r.resolve(path)
	if err != nil {
		return "", 0, &PathError{"signal", path, err}
	}
	if t.supervisor() {
		return "", 0, &PathError{"signal", path, explain(ErrRefused, "a supervisor has no OS process to signal; signal its exec children")}
	}
	if t.info.Pid.IsZero() {
		return "", 0, &PathError{"signal", path, explain(ErrNotRunning, "it is %s", t.info.State)}
	}
	r.mu.Lock()
	inst := r.insts[t.info.Pid]
	r.mu.Unlock()
	switch {
	case inst == nil:
		return "", 0, &PathError{"signal", path, explain(ErrNotRunning, "%v", ErrNotRunning)}
	case inst.Signal == nil:
		return "", 0, &PathError{"signal", path, explain(ErrRefused, "kind %s runs inside otpctl, with no OS process to signal; only exec children take signals", inst.kind)}
	}
	if err := inst.Signal(num); err != nil {
		return "", 0, &PathError{"signal", path, explain(ErrNotRunning, "%v", err)}
	}
	r.Emit(live.Event{Type: EventSignalled, Path: path, Kind: inst.kind, Proc: t.info.Pid, OSPid: inst.OSPid, Signal: short})
	return short, inst.OSPid, nil
}

// Signal is POST /v1/signal: Running.Signal.
func (b *backend) Signal(path, sig string) (control.SignalReply, error) {
	short, osPid, err := b.tree.Signal(path, sig)
	if err != nil {
		return control.SignalReply{}, apiError(err)
	}
	return control.SignalReply{Path: path, Signal: short, OSPid: osPid}, nil
}

var _ control.Signaller = (*backend)(nil)
