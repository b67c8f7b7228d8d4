package loader_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/loader"
	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/spec"
	"github.com/otpctl/otpctl/workers"
	_ "github.com/otpctl/otpctl/workers/builtin" // echo, counter, …
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

	events := make(chan live.Event, 100)
	r, err := loader.Start(context.Background(), tree, loader.Options{
		Registry: reg,
		Events:   func(e live.Event) { events <- e }, // buffered: never blocks here
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
		if e.Type == runtime.EventStarted && e.Cause == runtime.CauseCrash {
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

func show(e live.Event) {
	fmt.Println(strings.Join(strings.Fields(fmt.Sprint(e.Type, " ", e.Path, " ", e.Reason, " ", e.Cause)), " "))
}

// A reload applies only the difference: here one counter's args change, so
// that counter alone restarts (under one_for_all, whose crash would restart
// all), a worker is added, and the untouched one keeps its pid.
func ExampleRunning_Reload() {
	v1 := `version: 1
name: app
supervisor:
  strategy: one_for_all
  children:
    - {name: a, kind: echo}
    - {name: b, kind: counter}
`
	v2 := strings.Replace(v1, "{name: b, kind: counter}", "{name: b, kind: counter, args: {initial: 5}}\n    - {name: c, kind: echo}", 1)
	old, err := spec.Parse("app.yaml", []byte(v1), workers.Default)
	if err != nil {
		fmt.Println(err)
		return
	}
	events := make(chan live.Event, 100)
	r, err := loader.Start(context.Background(), old, loader.Options{Events: func(e live.Event) { events <- e }})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Shutdown(context.Background())
	before, _ := r.Snapshot()

	next, err := spec.Parse("app.yaml", []byte(v2), workers.Default)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := r.Reload(next)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(res.Plan)
	after, _ := r.Snapshot()
	fmt.Println("a kept its pid:", before.Find("app/a").Proc == after.Find("app/a").Proc)
	for e := range events {
		if e.Type == loader.EventReload {
			fmt.Println("reload event: changed", e.Changed, "added", e.Added)
			break
		}
	}
	// Output:
	// ~ app/b (args changed (initial): restart)
	// + app/c (added)
	// 2 unchanged
	// a kept its pid: true
	// reload event: changed [app/b] added [app/c]
}
