package loader

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/otpctl/otpctl/control"
	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/spec"
)

// backend is a running tree as the control server sees it.
type backend struct {
	tree *Running
	log  *control.EventLog
	// shutdown asks for the tree to stop.
	shutdown func()
}

var (
	_ control.Backend      = (*backend)(nil)
	_ control.StopReporter = (*backend)(nil)
	_ control.LogReader    = (*backend)(nil)
)

// NewBackend returns the control API of the running tree r, as `otpctl run`
// serves it and a program that runs a tree itself can serve it with
// control.NewServer: the live tree, steering, calls, and reload (ReloadFile,
// replying with the plan applied, or with every FILE:LINE:COL problem of
// files that do not validate). Events come from log (nil: none are kept;
// fill it from Options.Events); Shutdown calls shutdown (nil: r.Shutdown,
// in the background).
func NewBackend(r *Running, log *control.EventLog, shutdown func()) control.Backend {
	if log == nil {
		log = control.NewEventLog(1)
		log.Close()
	}
	if shutdown == nil {
		shutdown = func() { go r.Shutdown(context.Background()) }
	}
	return &backend{tree: r, log: log, shutdown: shutdown}
}

func (b *backend) Tree() (*live.Node, error) {
	n, err := b.tree.Snapshot()
	if err != nil {
		return nil, apiError(err)
	}
	return n, nil
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

func (b *backend) Reload() (control.ReloadReply, error) { return b.tree.ReloadReply() }

func (b *backend) Shutdown() { b.shutdown() }

func (b *backend) EventLog() *control.EventLog { return b.log }

// Logs serves GET /v1/logs (control.LogReader).
func (b *backend) Logs(q control.LogQuery) ([]control.LogLine, error) {
	lines, err := b.tree.Logs(q)
	return lines, apiError(err)
}

// FollowLogs wakes a GET /v1/logs?follow=1 stream when a line is kept.
func (b *backend) FollowLogs() (<-chan struct{}, func()) { return b.tree.FollowLogs() }

// Stopping tells GET /healthz and /readyz that the tree is stopping
// (control.StopReporter).
func (b *backend) Stopping() bool { return b.tree.Stopping() }

// ReloadReply reloads the tree files (ReloadFile) and answers as the control
// API does: the plan applied, or a control.Error (invalid, with every
// FILE:LINE:COL problem in its details, when the files do not validate).
// SIGHUP and POST /v1/reload both come here.
func (r *Running) ReloadReply() (control.ReloadReply, error) {
	res, err := r.ReloadFile()
	var ds spec.Diagnostics
	switch {
	case errors.As(err, &ds):
		problems := fmt.Sprintf("%d problems", len(ds))
		if len(ds) == 1 {
			problems = "1 problem"
		}
		e := control.Errorf(control.CodeInvalid, "the tree files do not validate (%s): nothing changed", problems)
		for _, d := range ds {
			e.Details = append(e.Details, d.Error())
		}
		return control.ReloadReply{}, e
	case err != nil:
		return control.ReloadReply{}, apiError(err)
	}
	p := res.Plan
	rep := control.ReloadReply{
		Lines: make([]string, len(p.Changes)), Unchanged: p.Unchanged,
		Added: p.Paths(spec.Added), Removed: p.Paths(spec.Removed),
		Changed: p.Paths(spec.Changed), Updated: p.Paths(spec.Updated), Failed: res.Failed,
	}
	for i := range p.Changes {
		rep.Lines[i] = p.Changes[i].String()
	}
	return rep, nil
}

// apiError maps a loader error to the control API's codes: no such node is
// not_found, a wrong request bad_request, a call that timed out timeout,
// and any other refusal refused, each with the loader's one-line message.
// Nil is nil.
func apiError(err error) error {
	if err == nil {
		return nil
	}
	code := control.CodeRefused
	switch {
	case errors.Is(err, ErrNotFound):
		code = control.CodeNotFound
	case errors.Is(err, ErrInvalid):
		code = control.CodeBadRequest
	case errors.Is(err, runtime.ErrTimeout):
		code = control.CodeTimeout
	}
	return control.Errorf(code, "%s", err.Error())
}
