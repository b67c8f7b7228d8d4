package builtin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/workers"
	_ "github.com/otpctl/otpctl/workers/builtin" // registers the built-in kinds
)

// The built-in kinds are in workers.Default once the package is imported.
// Here a supervisor runs a counter, and requests reach it as `otpctl call`
// sends them.
func Example() {
	kind, err := workers.Default.Lookup("counter")
	if err != nil {
		fmt.Println(err)
		return
	}
	var inst workers.Instance
	sup, err := runtime.StartSupervisor(nil, runtime.SupervisorSpec{
		Flags: runtime.DefaultFlags(),
		Path:  "shop",
		Children: []runtime.ChildSpec{{ID: "counter", Kind: "counter", Start: func(p *runtime.Process) (runtime.Pid, error) {
			inst, err = kind.Start(p, workers.Worker{Path: "shop/counter", Args: json.RawMessage(`{"initial":41}`)})
			return inst.Pid, err
		}}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sup.Shutdown(context.Background())

	p, detach := runtime.Attach()
	defer detach()
	for _, req := range []string{`{"op":"increment"}`, `{"op":"get"}`, `{"op":"double"}`} {
		reply, err := workers.Call(p, inst, json.RawMessage(req), time.Second)
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(string(reply))
	}
	// Output:
	// {"value":42}
	// {"value":42}
	// error: unknown op "double" (ops: decrement, get, increment, reset)
}
