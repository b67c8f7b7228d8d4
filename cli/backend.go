package cli

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/otpctl/otpctl/control"
	"github.com/otpctl/otpctl/loader"
	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/spec"
)

// backend is a running tree as the control server sees it.
type backend struct {
	tree *loader.Running
	log  *control.EventLog
	// shutdown asks `run` to stop the tree; reload reloads the tree files
	// (nil: refused).
	shutdown func()
	reload   func() (control.ReloadReply, error)
}

var _ control.Backend = (*backend)(nil)

// NewBackend returns the control API of the running tree r as `otpctl run`
// serves it, for a program that runs a tree itself and serves it with
// control.NewServer: the live tree, steering, calls, and reload (r's
// ReloadFile, replying with the plan applied). Events come from log (nil:
// none are kept); Shutdown calls shutdown (nil: r.Shutdown, in the
// background).
func NewBackend(r *loader.Running, log *control.EventLog, shutdown func()) control.Backend {
	if log == nil {
		log = control.NewEventLog(1)
		log.Close()
	}
	if shutdown == nil {
		shutdown = func() { go r.Shutdown(context.Background()) }
	}
	return &backend{tree: r, log: log, shutdown: shutdown, reload: func() (control.ReloadReply, error) { return reloadFile(r) }}
}

func (b *backend) Tree() (*control.Node, error) {
	n, err := b.tree.Snapshot()
	if err != nil {
		return nil, apiError(err)
	}
	return toNode(n), nil
}

func (b *backend) Kill(path, reason string) error { return apiError(b.tree.Kill(path, reason)) }

func (b *backend) Stop(path string) error { return apiError(b.tree.Stop(path)) }

func (b *backend) Start(req control.StartRequest) (control.StartReply, error) {
	path, pid, err := b.tree.Start(req.Path, req.Name, req.Args)
	if err != nil {
		return control.StartReply{}, apiError(err)
	}
	return control.StartReply{Path: path, Pid: pid.String()}, nil
}

func (b *backend) Restart(path string) (control.StartReply, error) {
	path, pid, err := b.tree.Restart(path)
	if err != nil {
		return control.StartReply{}, apiError(err)
	}
	return control.StartReply{Path: path, Pid: pid.String()}, nil
}

func (b *backend) Call(path string, request json.RawMessage, timeout time.Duration) (json.RawMessage, error) {
	rep, err := b.tree.Call(path, request, timeout)
	if err != nil {
		return nil, apiError(err)
	}
	return rep, nil
}

func (b *backend) Reload() (control.ReloadReply, error) {
	if b.reload == nil {
		return control.ReloadReply{}, control.Errorf(control.CodeRefused, "reload is not available here")
	}
	return b.reload()
}

func (b *backend) Shutdown() { b.shutdown() }

func (b *backend) EventLog() *control.EventLog { return b.log }

// apiError maps a loader error to the API's codes: no such node is
// not_found, a wrong request bad_request, a call that timed out timeout,
// and any other refusal refused, each with the loader's one-line message.
func apiError(err error) error {
	if err == nil {
		return nil
	}
	code := control.CodeRefused
	switch {
	case errors.Is(err, loader.ErrNotFound):
		code = control.CodeNotFound
	case errors.Is(err, loader.ErrInvalid):
		code = control.CodeBadRequest
	case errors.Is(err, runtime.ErrTimeout):
		code = control.CodeTimeout
	}
	return control.Errorf(code, "%s", err.Error())
}

// toEvent is e as the event log keeps it.
func toEvent(e loader.Event) control.Event {
	ce := control.Event{
		Time: e.Time, Event: string(e.Type), Path: e.Path, Kind: e.Kind, OSPid: e.OSPid, Reason: e.Reason,
		Cause: string(e.Cause), Trigger: e.Trigger, NotStopped: e.NotStopped,
		Added: e.Added, Removed: e.Removed, Changed: e.Changed, Updated: e.Updated, Failed: e.Failed, Errors: e.Errors,
	}
	if !e.Pid.IsZero() {
		ce.Pid = e.Pid.String()
	}
	return ce
}

// toNode is a loader snapshot as the API shows it.
func toNode(n *loader.Node) *control.Node {
	cn := &control.Node{
		Path: n.Path, Name: n.Name, Type: n.Type.String(), State: string(n.State),
		OSPid: n.OSPid, Restarts: n.Restarts, Mailbox: n.Mailbox,
		Restart: n.Restart.String(), Shutdown: shortShutdown(n.Shutdown),
	}
	if !n.Pid.IsZero() {
		cn.Pid = n.Pid.String()
	}
	if !n.LastRestart.IsZero() {
		t := n.LastRestart
		cn.LastRestart = &t
	}
	if !n.Started.IsZero() {
		t := n.Started
		cn.Started = &t
	}
	if n.Type == runtime.SupervisorChild {
		cn.Strategy = n.Strategy
		cn.Dynamic, cn.MaxChildren = n.Dynamic, n.MaxChildren
		if n.Dynamic {
			cn.Kind = n.Template
		}
		if n.State == runtime.StateRunning && n.Budget.Period > 0 {
			cn.Budget = &control.Budget{Used: n.Budget.Used, Max: n.Budget.Max, Period: spec.FormatDuration(n.Budget.Period)}
		}
	} else {
		cn.Kind = n.Kind
	}
	for _, c := range n.Children {
		cn.Children = append(cn.Children, toNode(c))
	}
	return cn
}

func shortShutdown(s runtime.ShutdownPolicy) string {
	if s < 0 {
		return s.String()
	}
	return spec.FormatDuration(time.Duration(s))
}
