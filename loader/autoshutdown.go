package loader

import (
	"errors"
	"path"

	"github.com/otpctl/otpctl/runtime"
)

// sigExit is a significant child's own exit.
type sigExit struct {
	path   string
	reason error
}

// noteEnding keeps what AutoShutdownCause and Stopping need from the
// runtime event re: a significant child's exit; a supervisor's new run,
// which forgets the exits of its last one; a child of the root terminated
// with cause shutdown, which only a stopping root does (an operator's stop
// is cause operator, a reload's reload). It runs on the supervisor's
// goroutine.
func (r *Running) noteEnding(re runtime.Event) {
	switch re.Type {
	case runtime.EventExited:
		r.noteSignificant(re.Path, re.Reason)
	case runtime.EventStarted:
		r.exitMu.Lock()
		delete(r.sigExits, re.Path)
		r.exitMu.Unlock()
	case runtime.EventTerminated:
		if re.Cause == runtime.CauseShutdown && path.Dir(re.Path) == r.rootPath {
			r.ending.Store(true)
		}
	}
}

// noteSignificant keeps the exit of the child at p, if it is significant
// to its supervisor, as that supervisor's latest (there is one entry per
// supervisor: the map is bounded by the tree). It runs on the
// supervisor's goroutine, before the supervisor acts on the exit.
func (r *Running) noteSignificant(p string, reason error) {
	parent, name := path.Dir(p), path.Base(p)
	sn := r.node(parent)
	if sn == nil || sn.Supervisor == nil {
		return
	}
	for _, c := range sn.Supervisor.Children {
		if c.Name == name && c.Significant {
			r.exitMu.Lock()
			r.sigExits[parent] = sigExit{p, reason}
			r.exitMu.Unlock()
			return
		}
	}
}

// AutoShutdownCause reports, once the tree has stopped, whether it
// stopped by itself through auto_shutdown (OTP's significant children),
// and if so which child's exit set that off and its exit reason
// (runtime.Normal, a kind's error such as an exec worker's "exit status
// 7", …). When that child is a supervisor that shut down by its own
// auto_shutdown, the child whose exit set that off is followed down, so
// the path is always the child that really ended the tree. `otpctl run`
// exits with that child's exit status. ok is false while the tree runs,
// and when it was stopped (Shutdown, Halt, a signal) or its root gave up.
func (r *Running) AutoShutdownCause() (path string, reason error, ok bool) {
	select {
	case <-r.done:
	default:
		return "", nil, false
	}
	if r.stopping.Load() || r.gaveUp.Load() || !errors.Is(r.root.Reason(), runtime.Shutdown) {
		return "", nil, false
	}
	r.exitMu.Lock()
	defer r.exitMu.Unlock()
	e, ok := r.sigExits[r.rootPath]
	if !ok {
		return "", nil, false
	}
	// A supervisor child that shut down: follow its own significant
	// child's exit (each step goes one level down, so this ends).
	for errors.Is(e.reason, runtime.Shutdown) {
		next, deeper := r.sigExits[e.path]
		if !deeper {
			break
		}
		e = next
	}
	return e.path, e.reason, true
}
