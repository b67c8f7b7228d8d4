package builtin

import (
	"encoding/json"
	"time"

	"github.com/otpctl/otpctl/workers"
)

type tick struct{}

// Ticker is the ticker kind: it logs a "heartbeat" record (with the tick
// count) every interval, and answers {"op":"get"} with {"ticks":N}.
func Ticker() workers.Kind {
	type args struct {
		Interval workers.Duration `json:"interval"`
	}
	type state struct {
		interval time.Duration
		ticks    int64
	}
	parse := func(raw json.RawMessage) (args, error) {
		a := args{Interval: workers.Duration(time.Second)}
		if err := workers.DecodeArgs(raw, &a); err != nil {
			return a, err
		}
		if a.Interval <= 0 {
			return a, &workers.ArgError{Pointer: "/interval", Message: "must be more than 0"}
		}
		return a, nil
	}
	return workers.Kind{
		Name: "ticker",
		Doc:  "logs a heartbeat every interval; get replies {\"ticks\":N}",
		Args: `{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "interval": ` + positiveDurationSchema(`"1s"`, "the time between heartbeats (more than 0)") + `
  }
}`,
		Start: workers.Actor[*state]{
			Init: func(c *workers.Context, w workers.Worker) (*state, error) {
				a, err := parse(w.Args)
				if err != nil {
					return nil, err
				}
				c.After(time.Duration(a.Interval), tick{})
				return &state{interval: time.Duration(a.Interval)}, nil
			},
			Info: func(c *workers.Context, _ any, s *state) (*state, error) {
				s.ticks++
				c.Log.Info("heartbeat", "tick", s.ticks)
				c.After(s.interval, tick{})
				return s, nil
			},
			Ops: map[string]workers.Op[*state]{
				"get": func(_ *workers.Context, req json.RawMessage, s *state) (any, *state, error) {
					if err := workers.DecodeRequest(req, &struct{}{}); err != nil {
						return nil, s, err
					}
					return map[string]int64{"ticks": s.ticks}, s, nil
				},
			},
		}.Start,
		Check: checkWith(parse),
	}
}

// durationSchema is workers.DurationSchema with a default (JSON text, or
// "" for none) and a description.
func durationSchema(def, desc string) string {
	return durationSchemaOf(def, desc, false)
}

// positiveDurationSchema is durationSchema for a duration that must be more
// than 0 (an interval): a zero, however written (0, "0s", "0ms"), is refused
// by the schema, so `otpctl validate` reports it rather than the start.
func positiveDurationSchema(def, desc string) string {
	return durationSchemaOf(def, desc, true)
}

func durationSchemaOf(def, desc string, positive bool) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(workers.DurationSchema), &m); err != nil {
		panic(err)
	}
	if def != "" {
		m["default"] = json.RawMessage(def)
	}
	if positive {
		m["not"] = map[string]any{"anyOf": []any{
			map[string]any{"const": 0},
			map[string]any{"type": "string", "pattern": `^(0+(\.0+)?(ns|us|µs|ms|s|m|h)?)+$`},
		}}
		m["x-message"] = "must be a duration more than 0, such as 500ms, 5s or 2m, or a whole number of seconds"
	}
	m["description"] = desc
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}
