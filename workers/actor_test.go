package workers_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/workers"
)

type stop struct{ reason error }

// testActor keeps a list of strings.
var testActor = workers.Actor[[]string]{
	Init: func(c *workers.Context, w workers.Worker) ([]string, error) {
		var a struct {
			Fail string `json:"fail"`
		}
		if err := workers.DecodeArgs(w.Args, &a); err != nil {
			return nil, err
		}
		if a.Fail != "" {
			return nil, errors.New(a.Fail)
		}
		return []string{w.Path}, nil
	},
	Ops: map[string]workers.Op[[]string]{
		"add": func(c *workers.Context, req json.RawMessage, s []string) (any, []string, error) {
			var r struct {
				Item string `json:"item"`
			}
			if err := workers.DecodeRequest(req, &r); err != nil {
				return nil, s, err
			}
			if r.Item == "" {
				return nil, append(s, "never kept"), errors.New("item is empty")
			}
			s = append(s, r.Item)
			return s, s, nil
		},
		"stop_later": func(c *workers.Context, req json.RawMessage, s []string) (any, []string, error) {
			c.After(time.Hour, stop{errors.New("asked to stop")})
			return "ok", s, nil
		},
	},
	Info: func(c *workers.Context, msg any, s []string) ([]string, error) {
		return s, msg.(stop).reason
	},
}

func call(t *testing.T, p *runtime.Process, inst workers.Instance, body string) string {
	t.Helper()
	out, err := workers.Call(p, inst, json.RawMessage(body), 5*time.Second)
	if err != nil {
		var re *workers.ReplyError
		if !errors.As(err, &re) {
			t.Fatalf("call %s: %v is not a ReplyError", body, err)
		}
		return "error: " + err.Error()
	}
	return string(out)
}

func TestActorRequests(t *testing.T) {
	p, detach := runtime.Attach()
	defer detach()
	inst, err := testActor.Start(p, workers.Worker{Path: "a/list"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { p.Unlink(inst.Pid); runtime.Exit(inst.Pid, runtime.Killed) }()
	for _, tc := range []struct{ req, want string }{
		{`{"op":"add","item":"x"}`, `["a/list","x"]`},
		{`{"op":"add","item":""}`, `error: item is empty`},
		{`{"op":"add","item":"y"}`, `["a/list","x","y"]`}, // the failed op kept no state
		{`{"op":"add","itme":"z"}`, `error: request: json: unknown field "itme"`},
		{`{"op":"nope"}`, `error: unknown op "nope" (ops: add, stop_later)`},
		{`{"op":3}`, `error: a request is a JSON object with an "op" (ops: add, stop_later)`},
		{`[1,2]`, `error: a request is a JSON object with an "op" (ops: add, stop_later)`},
		{`{}`, `error: a request is a JSON object with an "op" (ops: add, stop_later)`},
	} {
		if got := call(t, p, inst, tc.req); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.req, got, tc.want)
		}
	}
	if inst.OSPid != 0 {
		t.Errorf("OSPid = %d for an actor", inst.OSPid)
	}
}

// Init's error is the start's error as the kind wrote it; the parent gets no
// exit signal for the failed child.
func TestActorInitError(t *testing.T) {
	p, detach := runtime.Attach()
	defer detach()
	p.TrapExits(true)
	_, err := testActor.Start(p, workers.Worker{Path: "a/list", Args: json.RawMessage(`{"fail":"no database"}`)})
	if err == nil || err.Error() != "no database" {
		t.Fatalf("start error %v, want no database", err)
	}
	_, err = testActor.Start(p, workers.Worker{Path: "a/list", Args: json.RawMessage(`{"flail":"x"}`)})
	if err == nil || err.Error() != `args: json: unknown field "flail"` {
		t.Fatalf("start error %v, want the unknown field", err)
	}
	sel := runtime.NewSelector[runtime.ExitMessage]().SelectingTrappedExits(func(m runtime.ExitMessage) runtime.ExitMessage { return m })
	if m, err := sel.Select(p, 0); err == nil {
		t.Fatalf("parent got an exit signal %v", m)
	}
}

// Info's error stops the actor with that reason, on the actor's clock.
func TestActorInfoStops(t *testing.T) {
	clock := runtime.NewFakeClock(time.Unix(0, 0))
	p, detach := runtime.Attach(runtime.WithClock(clock))
	defer detach()
	p.TrapExits(true)
	inst, err := testActor.Start(p, workers.Worker{Path: "a/list"})
	if err != nil {
		t.Fatal(err)
	}
	if got := call(t, p, inst, `{"op":"stop_later"}`); got != `"ok"` {
		t.Fatalf("stop_later: %s", got)
	}
	if !clock.AwaitTimers(1, 10*time.Second) {
		t.Fatal("no timer")
	}
	clock.Advance(time.Hour)
	sel := runtime.NewSelector[runtime.ExitMessage]().SelectingTrappedExits(func(m runtime.ExitMessage) runtime.ExitMessage { return m })
	m, err := sel.Select(p, runtime.Forever)
	if err != nil || m.From != inst.Pid || m.Reason.Error() != "asked to stop" {
		t.Fatalf("exit %v from %v (%v), want asked to stop from %v", m.Reason, m.From, err, inst.Pid)
	}
}

// An actor with neither Ops nor Other takes no requests.
func TestActorNotCallable(t *testing.T) {
	p, detach := runtime.Attach()
	defer detach()
	inst, err := workers.Actor[int]{}.Start(p, workers.Worker{Path: "a/quiet"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { p.Unlink(inst.Pid); runtime.Exit(inst.Pid, runtime.Killed) }()
	if _, err := workers.Call(p, inst, json.RawMessage(`{"op":"x"}`), time.Second); !errors.Is(err, workers.ErrNotCallable) {
		t.Fatalf("call: %v, want ErrNotCallable", err)
	}
}

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{`"500ms"`, 500 * time.Millisecond, ""},
		{`"1m30s"`, 90 * time.Second, ""},
		{`5`, 5 * time.Second, ""},
		{`0`, 0, ""},
		{`"0"`, 0, ""},
		{`"5"`, 0, "missing unit"},
		{`-1`, 0, "cannot unmarshal -1 into"},
		{`1.5`, 0, "cannot unmarshal 1.5 into"},
		{`"-2s"`, 0, "negative"},
		{`true`, 0, "cannot unmarshal true into"},
		{`9223372037`, 0, "more than the longest duration"},
		{`"2562048h"`, 0, "more than the longest duration"},
	} {
		var d workers.Duration
		err := json.Unmarshal([]byte(tc.in), &d)
		switch {
		case tc.err == "" && (err != nil || time.Duration(d) != tc.want):
			t.Errorf("%s: %v, %v; want %v", tc.in, time.Duration(d), err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want %q", tc.in, err, tc.err)
		}
	}
	b, _ := json.Marshal(workers.Duration(1500 * time.Millisecond))
	if string(b) != `"1.5s"` {
		t.Errorf("marshal: %s", b)
	}
}
