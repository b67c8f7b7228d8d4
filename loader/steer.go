package loader

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/schema"
	"github.com/otpctl/otpctl/spec"
	"github.com/otpctl/otpctl/workers"
)

// Errors of steering. Each comes wrapped in a *PathError; check them with
// errors.Is. Refusals of the runtime come through as its own errors
// (runtime.ErrRunning, runtime.ErrMaxChildren, …), a failed start as a
// *runtime.StartError, a worker's refusal as a *workers.ReplyError.
var (
	// ErrNotFound: no node has that path (a dynamic supervisor's child
	// exists only while it runs).
	ErrNotFound = errors.New("no such node")
	// ErrNotRunning: the node exists but has no process now.
	ErrNotRunning = errors.New("not running")
	// ErrInvalid: the request itself is wrong (bad args, a bad name, name or
	// args for a node that is not a dynamic supervisor).
	ErrInvalid = errors.New("invalid request")
	// ErrRefused: the operation does not apply to that node (stopping the
	// root, killing a supervisor with a reason it cannot exit with, …).
	ErrRefused = errors.New("refused")
	// ErrStopped: the tree has stopped.
	ErrStopped = errors.New("the tree has stopped")
)

// PathError is a steering operation's failure on a path.
type PathError struct {
	Op   string // kill, stop, start, restart, call
	Path string
	Err  error
}

// Error reads "OP PATH: ERR".
func (e *PathError) Error() string { return e.Op + " " + e.Path + ": " + e.Err.Error() }

// Unwrap returns Err.
func (e *PathError) Unwrap() error { return e.Err }

// reasonError gives a runtime or sentinel error a message an operator
// reads, keeping it for errors.Is.
type reasonError struct {
	msg string
	err error
}

func (e *reasonError) Error() string { return e.msg }
func (e *reasonError) Unwrap() error { return e.err }

func explain(err error, format string, args ...any) error {
	return &reasonError{fmt.Sprintf(format, args...), err}
}

// friendly rewords the runtime's OTP-named errors for operators.
func friendly(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, runtime.ErrRunning):
		return explain(err, "it is running")
	case errors.Is(err, runtime.ErrRestarting):
		return explain(err, "it is being restarted by its supervisor")
	case errors.Is(err, runtime.ErrNotFound):
		return explain(ErrNotFound, "%v", ErrNotFound)
	case errors.Is(err, runtime.ErrStarted):
		return explain(err, "a child with that name is running")
	case errors.Is(err, runtime.ErrPresent):
		return explain(err, "a child with that name exists")
	case errors.Is(err, runtime.ErrMaxChildren):
		return explain(err, "the supervisor has max_children children")
	case errors.Is(err, runtime.ErrNoSupervisor):
		return explain(ErrNotRunning, "its supervisor is not running")
	}
	return err
}

// target is a node of the live tree found by path.
type target struct {
	root   bool
	parent *runtime.Supervisor // nil for the root
	info   runtime.ChildInfo
}

func (t target) supervisor() bool { return t.root || t.info.Type == runtime.SupervisorChild }

// resolve finds the node at path by walking the live supervisors from the
// root (which_children at each level).
func (r *Running) resolve(path string) (target, error) {
	select {
	case <-r.done:
		return target{}, ErrStopped
	default:
	}
	if path == r.rootPath {
		return target{root: true, info: runtime.ChildInfo{ID: r.rootPath, Pid: r.root.Pid(), State: runtime.StateRunning, Type: runtime.SupervisorChild}}, nil
	}
	rest, ok := strings.CutPrefix(path, r.rootPath+"/")
	if !ok || rest == "" {
		return target{}, ErrNotFound
	}
	sup := r.root
	segs := strings.Split(rest, "/")
	for i, seg := range segs {
		kids, err := sup.WhichChildren()
		if err != nil {
			if sup == r.root {
				return target{}, ErrStopped
			}
			return target{}, explain(ErrNotRunning, "%s is not running", sup.Path())
		}
		j := slices.IndexFunc(kids, func(c runtime.ChildInfo) bool { return c.ID == seg })
		if j < 0 {
			return target{}, ErrNotFound
		}
		ci := kids[j]
		if i == len(segs)-1 {
			return target{parent: sup, info: ci}, nil
		}
		if ci.Type != runtime.SupervisorChild {
			return target{}, ErrNotFound
		}
		next, ok := runtime.SupervisorOf(ci.Pid)
		if ci.Pid.IsZero() || !ok {
			return target{}, explain(ErrNotRunning, "%s/%s is not running", sup.Path(), seg)
		}
		sup = next
	}
	return target{}, ErrNotFound // not reached
}

// supervisor returns the live handle of the supervisor at path (the root,
// or a running nested supervisor): the reload applies its plan through it.
func (r *Running) supervisor(path string) (*runtime.Supervisor, error) {
	t, err := r.resolve(path)
	if err != nil {
		return nil, &PathError{"supervisor", path, err}
	}
	if t.root {
		return r.root, nil
	}
	if !t.supervisor() {
		return nil, &PathError{"supervisor", path, explain(ErrRefused, "not a supervisor")}
	}
	s, ok := runtime.SupervisorOf(t.info.Pid)
	if !ok {
		return nil, &PathError{"supervisor", path, explain(ErrNotRunning, "%v", ErrNotRunning)}
	}
	return s, nil
}

// Kill makes the process at path exit with reason, the fault injection of
// `otpctl kill`; it returns once the exit is under way (the events report
// what follows). reason is read by KillReason: "" or killed, normal,
// shutdown, shutdown:TEXT (OTP's {shutdown, Term}), or any other text (an
// abnormal reason that reads as the text).
//
// A worker exits with the reason whatever it does: trapping exits does not
// save it and normal is not ignored (runtime.ForceExit), so that
// `kill --reason normal` tests a transient child. Its supervisor then sees
// it exit and applies its restart rules, as for a crash.
//
// A supervisor (the root included) exits only with one of two reasons, as
// in OTP: killed kills it at once (its workers die through their links and
// are reported terminated, killed, last started first, before its own exit;
// a nested supervisor stops its own children and reports itself; see
// package runtime, supervisor_killed.go) and shutdown stops it in order (its children in reverse
// order, within their shutdown settings); either way its parent then
// applies its restart rules. Any other reason is refused (ErrRefused).
// Killing the root with shutdown is Shutdown without the wait.
func (r *Running) Kill(path, reason string) error {
	t, err := r.resolve(path)
	if err != nil {
		return &PathError{"kill", path, err}
	}
	why := KillReason(reason)
	if t.supervisor() {
		if why != runtime.Killed && why != runtime.Shutdown {
			return &PathError{"kill", path, explain(ErrRefused, "a supervisor exits only with killed (at once) or shutdown (in order), not %q", reason)}
		}
		sup := r.root
		if !t.root {
			s, ok := runtime.SupervisorOf(t.info.Pid)
			if !ok {
				return &PathError{"kill", path, explain(ErrNotRunning, "%v", ErrNotRunning)}
			}
			sup = s
		}
		if why == runtime.Killed {
			runtime.Exit(sup.Pid(), runtime.Killed)
			return nil
		}
		if t.root {
			r.stopping.Store(true)
		}
		sup.Shutdown(asked) // asks, and returns at once
		return nil
	}
	if t.info.Pid.IsZero() {
		return &PathError{"kill", path, explain(ErrNotRunning, "it is %s", t.info.State)}
	}
	runtime.ForceExit(t.info.Pid, why)
	return nil
}

// Stop terminates the child at path (OTP's terminate_child): it is asked to
// stop within its shutdown setting, and its supervisor keeps its spec so
// that Start can start it again, except for a temporary child or a dynamic
// supervisor's child, which is removed. Not a crash: it is not counted
// against the intensity and restarts no sibling. A stopped child stays
// stopped; stopping it again is harmless. The root is stopped with
// Shutdown, not Stop.
func (r *Running) Stop(path string) error {
	t, err := r.resolve(path)
	if err != nil {
		return &PathError{"stop", path, err}
	}
	if t.root {
		return &PathError{"stop", path, explain(ErrRefused, "the root is stopped with shutdown")}
	}
	if err := t.parent.TerminateChild(t.info.ID); err != nil {
		return &PathError{"stop", path, friendly(err)}
	}
	return nil
}

// Start starts a child (OTP's restart_child and start_child) and returns
// its path and pid.
//
// On a stopped child of a static supervisor it starts it again in its
// place; name and args must then be empty. A running child is refused
// (runtime.ErrRunning), as is one its supervisor is restarting.
//
// On a dynamic supervisor it starts a new child from the template: named
// name, or <kind>-<n> with the next free n; with args merged over the
// template's (objects key by key, anything else replaced) and checked
// against the kind's args schema. A child that fails to start is not added
// (a *runtime.StartError); a full supervisor refuses (runtime.ErrMaxChildren).
//
// The start is an operator's: cause operator, not counted against the
// intensity.
func (r *Running) Start(path, name string, args json.RawMessage) (string, runtime.Pid, error) {
	t, err := r.resolve(path)
	if err != nil {
		return "", runtime.Pid{}, &PathError{"start", path, err}
	}
	if n := r.node(path); n != nil && n.Supervisor != nil && n.Supervisor.Dynamic != nil && t.supervisor() {
		return r.startDynamic(path, t, name, args)
	}
	if name != "" || len(args) > 0 {
		return "", runtime.Pid{}, &PathError{"start", path, explain(ErrInvalid, "a name and args are for a dynamic supervisor's new child, and this is not a dynamic supervisor")}
	}
	if t.root {
		return "", runtime.Pid{}, &PathError{"start", path, explain(runtime.ErrRunning, "the root is running")}
	}
	pid, err := t.parent.RestartChild(t.info.ID)
	if err != nil {
		return "", runtime.Pid{}, &PathError{"start", path, friendly(err)}
	}
	return path, pid, nil
}

func (r *Running) startDynamic(path string, t target, name string, args json.RawMessage) (string, runtime.Pid, error) {
	fail := func(err error) (string, runtime.Pid, error) {
		return "", runtime.Pid{}, &PathError{"start", path, err}
	}
	d := r.node(path).Supervisor.Dynamic
	if name != "" && !schema.ValidName(name) {
		return fail(explain(ErrInvalid, "name %q: a child's name matches %s", name, schema.NamePattern()))
	}
	merged, err := spec.MergeArgs(d.Args, args)
	if err != nil {
		return fail(explain(ErrInvalid, "args: %v", err))
	}
	k, err := r.reg.Lookup(d.Base)
	if err != nil {
		return fail(err)
	}
	if err := checkArgs(k, merged); err != nil {
		return fail(explain(ErrInvalid, "args: %v", err))
	}
	sup := r.root
	if !t.root {
		s, ok := runtime.SupervisorOf(t.info.Pid)
		if !ok {
			return fail(explain(ErrNotRunning, "%v", ErrNotRunning))
		}
		sup = s
	}
	for {
		id, seq := name, 0
		if id == "" {
			r.mu.Lock()
			r.dyn[path]++
			seq = r.dyn[path]
			r.mu.Unlock()
			id = fmt.Sprintf("%s-%d", d.Kind, seq)
		}
		child := path + "/" + id
		pid, err := sup.StartChild(runtime.ChildSpec{ID: id, Start: r.workerStart(k, child, d.Kind, merged)})
		if seq > 0 && (errors.Is(err, runtime.ErrStarted) || errors.Is(err, runtime.ErrPresent)) {
			continue // a child took that name: try the next number
		}
		if err != nil {
			if seq > 0 {
				// Give the number back, unless another start took the
				// next one meanwhile.
				r.mu.Lock()
				if r.dyn[path] == seq {
					r.dyn[path]--
				}
				r.mu.Unlock()
			}
			return fail(friendly(err))
		}
		return child, pid, nil
	}
}

// Restart stops the child at path and starts it again in its place, with
// the same spec (a dynamic supervisor's child keeps its name and args):
// Stop, then Start. An operator's restart: both events say cause operator,
// and it is not counted against the intensity. A stopped child is just
// started.
func (r *Running) Restart(path string) (string, runtime.Pid, error) {
	t, err := r.resolve(path)
	if err != nil {
		return "", runtime.Pid{}, &PathError{"restart", path, err}
	}
	if t.root {
		return "", runtime.Pid{}, &PathError{"restart", path, explain(ErrRefused, "the root cannot be restarted; stop the tree and run it again")}
	}
	parentPath := path[:strings.LastIndexByte(path, '/')]
	if n := r.node(parentPath); n != nil && n.Supervisor != nil && n.Supervisor.Dynamic != nil {
		r.mu.Lock()
		inst := r.insts[t.info.Pid]
		r.mu.Unlock()
		if inst == nil {
			return "", runtime.Pid{}, &PathError{"restart", path, explain(ErrNotRunning, "%v", ErrNotRunning)}
		}
		if err := t.parent.TerminateChild(t.info.ID); err != nil {
			return "", runtime.Pid{}, &PathError{"restart", path, friendly(err)}
		}
		pid, err := t.parent.StartChild(runtime.ChildSpec{ID: t.info.ID, Start: r.workerStart(inst.start, inst.path, inst.kind, inst.args)})
		if err != nil {
			return "", runtime.Pid{}, &PathError{"restart", path, friendly(err)}
		}
		return path, pid, nil
	}
	if t.info.State == runtime.StateRestarting {
		// Waiting for its backoff: start it (and its group) now. A
		// restart being retried after a failed start says
		// ErrRestarting, and is stopped and started as any.
		if pid, err := t.parent.RestartChild(t.info.ID); !errors.Is(err, runtime.ErrRestarting) {
			if err != nil {
				return "", runtime.Pid{}, &PathError{"restart", path, friendly(err)}
			}
			return path, pid, nil
		}
	}
	if err := t.parent.TerminateChild(t.info.ID); err != nil {
		return "", runtime.Pid{}, &PathError{"restart", path, friendly(err)}
	}
	pid, err := t.parent.RestartChild(t.info.ID)
	if err != nil {
		return "", runtime.Pid{}, &PathError{"restart", path, friendly(err)}
	}
	return path, pid, nil
}

// Call sends the JSON request body to the worker at path and waits up to
// timeout (zero: workers.DefaultCallTimeout) for its reply, measured on
// the real clock. A call to a pool goes to one of its members, chosen by
// its dispatch (a member being restarted is skipped). A worker that takes
// no requests, or a supervisor, gives
// workers.ErrNotCallable; a worker's refusal is a *workers.ReplyError; no
// reply in time is runtime.ErrTimeout; a worker that exits first gives a
// *runtime.CallError.
func (r *Running) Call(path string, body json.RawMessage, timeout time.Duration) (json.RawMessage, error) {
	if !json.Valid(body) {
		return nil, &PathError{"call", path, explain(ErrInvalid, "the request is not valid JSON")}
	}
	t, err := r.resolve(path)
	if err != nil {
		return nil, &PathError{"call", path, err}
	}
	if p := r.livePool(t); p != nil {
		return r.callPool(path, p, body, timeout)
	}
	if t.supervisor() {
		return nil, &PathError{"call", path, explain(workers.ErrNotCallable, "a supervisor takes no requests")}
	}
	if t.info.Pid.IsZero() {
		return nil, &PathError{"call", path, explain(ErrNotRunning, "it is %s", t.info.State)}
	}
	r.mu.Lock()
	inst := r.insts[t.info.Pid]
	r.mu.Unlock()
	if inst == nil {
		return nil, &PathError{"call", path, explain(ErrNotRunning, "%v", ErrNotRunning)}
	}
	p, detach := runtime.Attach()
	defer detach()
	rep, err := workers.Call(p, inst.Instance, body, timeout)
	if err != nil {
		return nil, &PathError{"call", path, err}
	}
	return rep, nil
}
