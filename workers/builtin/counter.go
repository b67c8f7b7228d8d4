package builtin

import (
	"encoding/json"

	"github.com/otpctl/otpctl/workers"
)

// Counter is the counter kind: an integer that requests change and read.
// Ops: increment, decrement, get, reset (back to initial); each replies
// {"value":N}.
func Counter() workers.Kind {
	type args struct {
		Initial int64 `json:"initial"`
	}
	type state struct{ initial, value int64 }
	parse := func(raw json.RawMessage) (args, error) {
		var a args
		err := workers.DecodeArgs(raw, &a)
		return a, err
	}
	value := func(s state) any { return map[string]int64{"value": s.value} }
	op := func(f func(state) state) workers.Op[state] {
		return func(_ *workers.Context, req json.RawMessage, s state) (any, state, error) {
			if err := workers.DecodeRequest(req, &struct{}{}); err != nil {
				return nil, s, err
			}
			s = f(s)
			return value(s), s, nil
		}
	}
	return workers.Kind{
		Name: "counter",
		Doc:  "an integer: increment, decrement, get, reset; replies {\"value\":N}",
		Args: argsSchema(
			`"initial": {"type": "integer", "default": 0, "description": "the value at start and after reset"}`,
		),
		Start: workers.Actor[state]{
			Init: func(_ *workers.Context, w workers.Worker) (state, error) {
				a, err := parse(w.Args)
				if err != nil {
					return state{}, err
				}
				return state{initial: a.Initial, value: a.Initial}, nil
			},
			Ops: map[string]workers.Op[state]{
				"increment": op(func(s state) state { s.value++; return s }),
				"decrement": op(func(s state) state { s.value--; return s }),
				"get":       op(func(s state) state { return s }),
				"reset":     op(func(s state) state { s.value = s.initial; return s }),
			},
		}.Start,
		Check: checkWith(parse),
	}
}

// checkWith makes a kind's Check of the parser its Start uses.
func checkWith[A any](parse func(json.RawMessage) (A, error)) workers.CheckFunc {
	return func(raw json.RawMessage) error {
		_, err := parse(raw)
		return err
	}
}
