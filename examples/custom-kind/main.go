// Command custom-kind is otpctl with one more worker kind, "greeter", of
// its own. It registers the kind in init, as a Caddy plugin registers a
// module, then hands over to otpctl's own command line: every otpctl
// command works, and tree files may use greeter beside the built-in kinds.
//
//	go run ./examples/custom-kind run examples/custom-kind/tree.yaml
//	go run ./examples/custom-kind call greet/front '{"op":"greet","name":"Joe"}'
//	{"count":1,"message":"hello, Joe"}
package main

import (
	"encoding/json"
	"os"

	"github.com/otpctl/otpctl/cli"
	"github.com/otpctl/otpctl/workers"
	_ "github.com/otpctl/otpctl/workers/builtin" // exec, counter, cache, echo, ticker, crash
)

func init() {
	workers.Register(workers.Kind{
		Name: "greeter",
		Doc:  `greets by name: {"op":"greet","name":N} replies {"message":"hello, N","count":C}`,
		// Checked by validate and before every start. The default is for
		// people (otpctl kinds); initGreeter applies its own.
		Args: `{"type": "object", "additionalProperties": false, "properties": {
			"greeting": {"type": "string", "minLength": 1, "default": "hello", "description": "the word it greets with"}}}`,
		Start: workers.Actor[greeter]{Init: initGreeter, Ops: map[string]workers.Op[greeter]{"greet": greet}}.Start,
	})
}

func main() { os.Exit(cli.Main(os.Args)) }

// greeter is a greeter's state: its args, and how many it has greeted since
// it started.
type greeter struct {
	Greeting string `json:"greeting"`
	count    int
}

func initGreeter(_ *workers.Context, w workers.Worker) (greeter, error) {
	g := greeter{Greeting: "hello"}
	return g, workers.DecodeArgs(w.Args, &g)
}

// greet answers {"op":"greet","name":N}.
func greet(_ *workers.Context, req json.RawMessage, g greeter) (any, greeter, error) {
	var r struct {
		Name string `json:"name"`
	}
	if err := workers.DecodeRequest(req, &r); err != nil {
		return nil, g, err
	}
	g.count++
	return map[string]any{"message": g.Greeting + ", " + r.Name, "count": g.count}, g, nil
}
