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
		return a, positiveArg("/interval", a.Interval)
	}
	return workers.Kind{
		Name: "ticker",
		Doc:  "logs a heartbeat every interval; get replies {\"ticks\":N}",
		Args: argsSchema(
			`"interval": ` + positiveDurationSchema(`"1s"`, "the time between heartbeats (more than 0)"),
		),
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
