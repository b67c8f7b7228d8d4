package loader_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/otpctl/otpctl/loader"
	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/spec"
	"github.com/otpctl/otpctl/workers"
)

// A tree with one echo worker: started, called, killed (and restarted by
// its supervisor), then shut down.
func Example() {
	reg := workers.NewRegistry()
	reg.Register(workers.Kind{Name: "echo", Start: func(parent *runtime.Process, w workers.Worker) (workers.Instance, error) {
		self, err := runtime.StartLink(parent, runtime.Spec[struct{}, workers.Request]{
			Loop: func(_ *runtime.Process, req workers.Request, s struct{}) runtime.Next[struct{}] {
				req.Reply.Send(workers.Reply{Body: req.Body})
				return runtime.Continue(s)
			},
		})
		return workers.Instance{Pid: self.Owner(), Requests: self}, err
	}})
	tree := &spec.Tree{Name: "demo", Root: &spec.Node{
		Name: "demo", Path: "demo", Restart: spec.Permanent, Shutdown: spec.Infinity,
		Supervisor: &spec.Supervisor{Strategy: spec.OneForOne, MaxFrequency: 3, Period: 5 * time.Second, Children: []*spec.Node{
			{Name: "echo", Path: "demo/echo", Restart: spec.Permanent, Shutdown: spec.DefaultWorkerShutdown,
				Worker: &spec.Worker{Kind: "echo", Base: "echo", Args: json.RawMessage(`{}`)}},
		}},
	}}

	events := make(chan loader.Event, 100)
	r, err := loader.Start(context.Background(), tree, loader.Options{
		Registry: reg,
		Events:   func(e loader.Event) { events <- e }, // buffered: never blocks here
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	reply, _ := r.Call("demo/echo", json.RawMessage(`{"hello":"world"}`), time.Second)
	fmt.Println("reply:", string(reply))
	r.Kill("demo/echo", "boom")
	for e := range events {
		show(e)
		if e.Type == loader.EventStarted && e.Cause == runtime.CauseCrash {
			break
		}
	}
	r.Shutdown(context.Background())
	close(events)
	for e := range events {
		show(e)
	}
	// Output:
	// reply: {"hello":"world"}
	// started demo/echo boot
	// started demo boot
	// exited demo/echo boom
	// started demo/echo crash
	// terminated demo/echo shutdown shutdown
	// terminated demo shutdown shutdown
}

func show(e loader.Event) {
	fmt.Println(strings.Join(strings.Fields(fmt.Sprint(e.Type, " ", e.Path, " ", e.Reason, " ", e.Cause)), " "))
}
