package workers_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/workers"
)

// A custom actor kind in a few lines: a greeter that counts its greetings.
func ExampleActor() {
	greeter := workers.Kind{
		Name: "greeter",
		Doc:  "says hello; replies {\"greeting\":...,\"count\":N}",
		Args: `{"type":"object","additionalProperties":false,"properties":{"word":{"type":"string","default":"hello"}}}`,
		Start: workers.Actor[int]{
			Ops: map[string]workers.Op[int]{
				"greet": func(c *workers.Context, req json.RawMessage, n int) (any, int, error) {
					var r struct {
						Name string `json:"name"`
					}
					if err := workers.DecodeRequest(req, &r); err != nil {
						return nil, n, err
					}
					return map[string]any{"greeting": "hello " + r.Name, "count": n + 1}, n + 1, nil
				},
			},
		}.Start,
	}
	reg := workers.NewRegistry()
	reg.Register(greeter)

	// What a supervisor does with it: start it linked to itself, then
	// `otpctl call` sends it requests.
	p, detach := runtime.Attach()
	defer detach()
	kind, _ := reg.Lookup("greeter")
	inst, err := kind.Start(p, workers.Worker{Path: "app/greeter"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, req := range []string{`{"op":"greet","name":"Joe"}`, `{"op":"greet","name":"Mike"}`, `{"op":"wave"}`} {
		reply, err := workers.Call(p, inst, json.RawMessage(req), time.Second)
		fmt.Println(string(reply), err)
	}
	p.Unlink(inst.Pid)
	runtime.Exit(inst.Pid, runtime.Shutdown)
	// Output:
	// {"count":1,"greeting":"hello Joe"} <nil>
	// {"count":2,"greeting":"hello Mike"} <nil>
	//  unknown op "wave" (ops: greet)
}
