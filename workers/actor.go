package workers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// Actor describes an in-process worker kind that answers JSON requests
// (`otpctl call`) by their "op" field. Its Start method is the kind's
// StartFunc: it starts a runtime actor linked to the parent, which holds no
// goroutine while its mailbox is empty.
//
//	workers.Register(workers.Kind{
//		Name:  "greeter",
//		Doc:   "says hello",
//		Start: workers.Actor[int]{Ops: map[string]workers.Op[int]{
//			"hello": func(c *workers.Context, req json.RawMessage, n int) (any, int, error) {
//				return map[string]int{"greeted": n + 1}, n + 1, nil
//			},
//		}}.Start,
//	})
//
// A request that is not a JSON object with a string "op", or whose op is
// not in Ops, is handled by Other; without Other it gets an error reply that
// names the valid ops. An actor with neither Ops nor Other takes no
// requests (Call returns ErrNotCallable).
type Actor[S any] struct {
	// Init makes the initial state, usually from w.Args (see DecodeArgs).
	// An error fails the start. Nil starts with the zero state and takes
	// no args (any field is an error).
	Init func(c *Context, w Worker) (S, error)
	// Ops handles requests by op name. The reply is marshalled to JSON; an
	// error becomes an error reply and leaves the state as it was.
	Ops map[string]Op[S]
	// Other, when set, handles the requests Ops does not.
	Other Op[S]
	// Info handles the messages the actor sent itself with Context.After
	// (ticks, timeouts). A non-nil error stops the actor with that reason
	// (runtime.Normal and runtime.Shutdown are normal exits).
	Info func(c *Context, msg any, state S) (S, error)
	// InitTimeout bounds Init (zero: runtime.DefaultInitTimeout).
	InitTimeout time.Duration
}

// Op handles one request: req is the whole request object. It returns the
// reply, the next state and an error for the caller.
type Op[S any] func(c *Context, req json.RawMessage, state S) (reply any, next S, err error)

// Context is an Actor's handle on itself, given to each of its functions.
type Context struct {
	// Process is the actor's own process.
	Process *runtime.Process
	// Path is the worker's path in the tree.
	Path string
	// Log is the worker's logger (it carries the path).
	Log  *slog.Logger
	self runtime.Subject[actorMsg]
}

// After sends msg to the actor's Info after d, by the actor's clock
// (runtime.SendAfter). Stopping the timer cancels it.
func (c *Context) After(d time.Duration, msg any) runtime.Timer {
	return runtime.SendAfter(c.self, actorMsg{info: msg}, d)
}

type actorMsg struct {
	req  *Request
	info any
}

type actorState[S any] struct {
	c     *Context
	state S
}

// Start starts the actor linked to parent; it is the kind's StartFunc.
// A failed Init is returned as its own error (not wrapped in a
// *runtime.InitError), so the supervisor's start_failed reads as the kind
// wrote it.
func (a Actor[S]) Start(parent *runtime.Process, w Worker) (Instance, error) {
	log := w.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var reqs runtime.Subject[Request]
	self, err := runtime.StartLink(parent, runtime.Spec[*actorState[S], actorMsg]{
		InitTimeout: a.InitTimeout,
		Init: func(p *runtime.Process, self runtime.Subject[actorMsg], sel *runtime.Selector[actorMsg]) (*actorState[S], error) {
			if a.Ops != nil || a.Other != nil {
				reqs = runtime.NewSubject[Request](p)
				runtime.Selecting(sel, reqs, func(r Request) actorMsg { return actorMsg{req: &r} })
			}
			st := &actorState[S]{c: &Context{Process: p, Path: w.Path, Log: log, self: self}}
			if a.Init == nil {
				return st, DecodeArgs(w.Args, &struct{}{})
			}
			s, err := a.Init(st.c, w)
			if err != nil {
				return nil, err
			}
			st.state = s
			return st, nil
		},
		Loop: a.loop,
	})
	if err != nil {
		var ie *runtime.InitError
		if errors.As(err, &ie) && !errors.Is(ie.Reason, runtime.ErrTimeout) {
			return Instance{}, ie.Reason
		}
		return Instance{}, err
	}
	return Instance{Pid: self.Owner(), Requests: reqs}, nil
}

func (a Actor[S]) loop(_ *runtime.Process, msg actorMsg, st *actorState[S]) runtime.Next[*actorState[S]] {
	if msg.req == nil {
		if a.Info == nil {
			return runtime.Continue(st)
		}
		next, err := a.Info(st.c, msg.info, st.state)
		if err != nil {
			return runtime.Stop[*actorState[S]](err)
		}
		st.state = next
		return runtime.Continue(st)
	}
	req := msg.req
	op := a.Other
	var head struct {
		Op *string `json:"op"`
	}
	if err := json.Unmarshal(req.Body, &head); err == nil && head.Op != nil {
		if f, ok := a.Ops[*head.Op]; ok {
			op = f
		} else if op == nil {
			req.Reply.Send(Reply{Error: fmt.Sprintf("unknown op %q (ops: %s)", *head.Op, a.opNames())})
			return runtime.Continue(st)
		}
	}
	if op == nil {
		req.Reply.Send(Reply{Error: fmt.Sprintf(`a request is a JSON object with an "op" (ops: %s)`, a.opNames())})
		return runtime.Continue(st)
	}
	reply, next, err := op(st.c, req.Body, st.state)
	if err != nil {
		req.Reply.Send(Reply{Error: err.Error()})
		return runtime.Continue(st)
	}
	body, err := json.Marshal(reply)
	if err != nil {
		req.Reply.Send(Reply{Error: fmt.Sprintf("reply: %v", err)})
		return runtime.Continue(st)
	}
	st.state = next
	req.Reply.Send(Reply{Body: body})
	return runtime.Continue(st)
}

func (a Actor[S]) opNames() string {
	names := make([]string, 0, len(a.Ops))
	for n := range a.Ops {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// DecodeRequest decodes a request's fields other than "op" into v, strictly
// (an unknown field is an error), as DecodeArgs does for args.
func DecodeRequest(req json.RawMessage, v any) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(req, &fields); err != nil {
		return fmt.Errorf("request: %w", err)
	}
	delete(fields, "op")
	b, err := json.Marshal(fields)
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("request: %w", err)
	}
	return nil
}
