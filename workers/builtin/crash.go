package builtin

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/workers"
)

// Crash is the crash kind, for demos and fault tests: it exits with reason
// after `after` (default 1s); or, when probability is set, with that
// probability at each tick of interval (and after `after` too, if that is
// set as well). It takes no requests.
func Crash() workers.Kind {
	type args struct {
		Reason      string            `json:"reason"`
		After       *workers.Duration `json:"after"`
		Probability *float64          `json:"probability"`
		Interval    workers.Duration  `json:"interval"`
		Seed        *uint64           `json:"seed"`
	}
	type state struct {
		reason   error
		p        float64
		interval time.Duration
		rnd      *rand.Rand
	}
	type deadline struct{}
	parse := func(raw json.RawMessage) (args, error) {
		a := args{Reason: "crash", Interval: workers.Duration(time.Second)}
		if err := workers.DecodeArgs(raw, &a); err != nil {
			return a, err
		}
		if a.Reason == "" {
			return a, &workers.ArgError{Pointer: "/reason", Message: "must not be empty"}
		}
		if a.Probability != nil {
			if *a.Probability < 0 || *a.Probability > 1 {
				return a, &workers.ArgError{Pointer: "/probability", Message: fmt.Sprintf("must be between 0 and 1, not %v", *a.Probability)}
			}
			return a, positiveArg("/interval", a.Interval)
		}
		return a, nil
	}
	return workers.Kind{
		Name: "crash",
		Doc:  "exits with reason after a time, or with a probability per tick (fault tests)",
		Args: argsSchema(
			`"reason": {"type": "string", "minLength": 1, "default": "crash", "description": "the exit reason: normal, shutdown, shutdown:TEXT (OTP's {shutdown, Term}), killed, or any other text (an abnormal exit)"}`,
			`"after": `+durationSchema(`"1s"`, "exit this long after start (the default applies only when probability is not set)"),
			`"probability": {"type": "number", "minimum": 0, "maximum": 1, "description": "the chance of exiting at each tick of interval"}`,
			`"interval": `+positiveDurationSchema(`"1s"`, "the time between probability ticks (more than 0)"),
			`"seed": {"type": "integer", "minimum": 0, "description": "seeds the random draws, for reproducible runs (default: random)"}`,
		),
		Start: workers.Actor[*state]{
			Init: func(c *workers.Context, w workers.Worker) (*state, error) {
				a, err := parse(w.Args)
				if err != nil {
					return nil, err
				}
				s := &state{reason: Reason(a.Reason), interval: time.Duration(a.Interval)}
				if a.Probability != nil {
					s.p = *a.Probability
					seed := rand.Uint64()
					if a.Seed != nil {
						seed = *a.Seed
					}
					s.rnd = rand.New(rand.NewPCG(seed, seed))
					c.After(s.interval, tick{})
				}
				if a.After != nil || a.Probability == nil {
					after := time.Second
					if a.After != nil {
						after = time.Duration(*a.After)
					}
					c.After(after, deadline{})
				}
				return s, nil
			},
			Info: func(c *workers.Context, msg any, s *state) (*state, error) {
				switch msg.(type) {
				case deadline:
					return s, s.reason
				case tick:
					if s.rnd.Float64() < s.p {
						return s, s.reason
					}
					c.After(s.interval, tick{})
				}
				return s, nil
			},
		}.Start,
		Check: checkWith(parse),
	}
}

// Reason turns a reason's text into an exit reason: "normal", "shutdown"
// and "killed" are the runtime's atoms, "shutdown:TEXT" OTP's
// {shutdown, Term} (a *runtime.ShutdownError, not abnormal), anything else
// an abnormal error with that text. Each reads as the text.
func Reason(text string) error {
	switch text {
	case string(runtime.Normal):
		return runtime.Normal
	case string(runtime.Shutdown):
		return runtime.Shutdown
	case string(runtime.Killed):
		return runtime.Killed
	}
	if term, ok := strings.CutPrefix(text, string(runtime.Shutdown)+":"); ok {
		return &runtime.ShutdownError{Term: term}
	}
	return errors.New(text)
}
