package builtin

import (
	"encoding/json"

	"github.com/otpctl/otpctl/workers"
)

// Echo is the echo kind: it replies with the request it got, whatever it
// is.
func Echo() workers.Kind {
	return workers.Kind{
		Name: "echo",
		Doc:  "replies with the request it got",
		Args: workers.NoArgs,
		Start: workers.Actor[struct{}]{
			Other: func(_ *workers.Context, req json.RawMessage, s struct{}) (any, struct{}, error) {
				return req, s, nil
			},
		}.Start,
	}
}
