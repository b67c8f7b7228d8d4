package loader

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/otpctl/otpctl/internal/testrec"
	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/spec"
	"github.com/otpctl/otpctl/workers"
)

// testKinds is a private registry of small kinds:
//   - echo: an actor that replies with the request, or with its args when
//     asked "args";
//   - failing: its start fails with "boom";
//   - stubborn: traps exits and never stops by itself;
//   - osproc: an echo that reports OS pid 4242;
//   - counter: an actor that counts the "inc" requests it got and replies
//     with the count to any other.
func testKinds() *workers.Registry {
	reg := workers.NewRegistry()
	reg.Register(workers.Kind{Name: "counter", Args: `{"type":"object","properties":{"step":{"type":"integer"}},"additionalProperties":false}`,
		Start: startCounter})
	reg.Register(workers.Kind{Name: "echo", Doc: "replies with what it got",
		Args:  `{"type":"object","properties":{"tag":{"type":"string"},"n":{"type":"integer"}},"additionalProperties":false}`,
		Start: startEcho(0)})
	reg.Register(workers.Kind{Name: "osproc", Start: startEcho(4242)})
	reg.Register(workers.Kind{Name: "failing", Start: func(*runtime.Process, workers.Worker) (workers.Instance, error) {
		return workers.Instance{}, errors.New("boom")
	}})
	reg.Register(workers.Kind{Name: "stubborn", Start: func(parent *runtime.Process, w workers.Worker) (workers.Instance, error) {
		ready := make(chan struct{})
		pid := runtime.SpawnLink(parent, func(p *runtime.Process) {
			p.TrapExits(true)
			close(ready)
			runtime.Receive(p, runtime.NewSubject[int](p), runtime.Forever)
		})
		<-ready
		return workers.Instance{Pid: pid}, nil
	}})
	return reg
}

func startEcho(osPid int) workers.StartFunc {
	return func(parent *runtime.Process, w workers.Worker) (workers.Instance, error) {
		var args struct {
			Tag string `json:"tag"`
			N   int    `json:"n"`
		}
		if err := workers.DecodeArgs(w.Args, &args); err != nil {
			return workers.Instance{}, err
		}
		if args.Tag == "boom" {
			return workers.Instance{}, errors.New("tag boom is refused")
		}
		self, err := runtime.StartLink(parent, runtime.Spec[json.RawMessage, workers.Request]{
			Init: func(*runtime.Process, runtime.Subject[workers.Request], *runtime.Selector[workers.Request]) (json.RawMessage, error) {
				return w.Args, nil
			},
			Loop: func(_ *runtime.Process, req workers.Request, a json.RawMessage) runtime.Next[json.RawMessage] {
				if string(req.Body) == `"args"` {
					req.Reply.Send(workers.Reply{Body: a})
				} else if string(req.Body) == `"refuse"` {
					req.Reply.Send(workers.Reply{Error: "refused by echo"})
				} else {
					req.Reply.Send(workers.Reply{Body: req.Body})
				}
				return runtime.Continue(a)
			},
		})
		if err != nil {
			return workers.Instance{}, err
		}
		return workers.Instance{Pid: self.Owner(), Requests: self, OSPid: osPid}, nil
	}
}

func startCounter(parent *runtime.Process, w workers.Worker) (workers.Instance, error) {
	self, err := runtime.StartLink(parent, runtime.Spec[int, workers.Request]{
		Init: func(*runtime.Process, runtime.Subject[workers.Request], *runtime.Selector[workers.Request]) (int, error) {
			return 0, nil
		},
		Loop: func(_ *runtime.Process, req workers.Request, n int) runtime.Next[int] {
			if string(req.Body) == `"inc"` {
				n++
			}
			req.Reply.Send(workers.Reply{Body: json.RawMessage(fmt.Sprint(n))})
			return runtime.Continue(n)
		},
	})
	if err != nil {
		return workers.Instance{}, err
	}
	return workers.Instance{Pid: self.Owner(), Requests: self}, nil
}

// w is a worker node; its path is set by tree.
func w(name, kind string) *spec.Node {
	return &spec.Node{Name: name, Restart: spec.Permanent, Shutdown: spec.DefaultWorkerShutdown,
		Worker: &spec.Worker{Kind: kind, Base: kind, Args: json.RawMessage(`{}`)}}
}

// sup is a supervisor node with max_frequency 3 in 5s.
func sup(name, strategy string, children ...*spec.Node) *spec.Node {
	return &spec.Node{Name: name, Restart: spec.Permanent, Shutdown: spec.Infinity,
		Supervisor: &spec.Supervisor{Strategy: strategy, MaxFrequency: 3, Period: 5 * time.Second, AutoShutdown: spec.Never, Children: children}}
}

func dyn(name, kind string, args string, max int) *spec.Node {
	return &spec.Node{Name: name, Restart: spec.Permanent, Shutdown: spec.Infinity,
		Supervisor: &spec.Supervisor{Strategy: spec.OneForOne, MaxFrequency: 3, Period: 5 * time.Second, AutoShutdown: spec.Never,
			Dynamic: &spec.Dynamic{Kind: kind, Base: kind, Args: json.RawMessage(args), Restart: spec.Permanent, Shutdown: spec.DefaultWorkerShutdown, MaxChildren: max}}}
}

// tree makes a tree of root, setting every node's path.
func tree(root *spec.Node) *spec.Tree {
	var set func(n *spec.Node, path string)
	set = func(n *spec.Node, path string) {
		n.Path = path
		if n.Supervisor != nil {
			for _, c := range n.Supervisor.Children {
				set(c, path+"/"+c.Name)
			}
		}
	}
	set(root, root.Name)
	return &spec.Tree{Name: root.Name, File: root.Name + ".yaml", Files: []string{root.Name + ".yaml"}, Root: root}
}

// recorder keeps the events of a tree (its Add is the Events hook) and
// lets a test wait for one.
type recorder struct{ testrec.Log[live.Event] }

func newRecorder() *recorder { return &recorder{} }

// lines returns the events as "type path reason cause trigger" lines,
// from index from on.
func (r *recorder) lines(from int) []string {
	var out []string
	for _, e := range r.Since(from) {
		out = append(out, line(e))
	}
	return out
}

func line(e live.Event) string {
	s := string(e.Type) + " " + e.Path
	for _, f := range []string{e.Reason, string(e.Cause), e.Trigger} {
		if f != "" {
			s += " " + f
		}
	}
	return strings.TrimSpace(s)
}

// wait waits up to 10s for an event at or after index from whose line
// starts with prefix, and returns its index.
func (r *recorder) wait(t *testing.T, from int, prefix string) int {
	t.Helper()
	i, err := r.Wait(from, 10*time.Second, func(e live.Event) bool { return strings.HasPrefix(line(e), prefix) })
	if err != nil {
		t.Fatalf("no event %q after #%d in 10s; got:\n%s", prefix, from, strings.Join(r.lines(0), "\n"))
	}
	return i
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// start starts t with the test kinds and a recorder, and shuts it down at
// the end of the test.
func start(t *testing.T, st *spec.Tree, clock runtime.Clock) (*Running, *recorder) {
	t.Helper()
	rec := newRecorder()
	r, err := Start(context.Background(), st, Options{Registry: testKinds(), Clock: clock, Events: rec.Add, Log: quiet})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { shutdown(t, r) })
	return r, rec
}

// startFile loads file with the test kinds and starts it as start does.
func startFile(t *testing.T, file string) (*Running, *recorder) {
	t.Helper()
	st, err := spec.Load(file, testKinds())
	if err != nil {
		t.Fatal(err)
	}
	return start(t, st, nil)
}

func shutdown(t *testing.T, r *Running) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Shutdown(ctx); err != nil {
		r.Halt()
		<-r.Done()
		t.Errorf("Shutdown: %v", err)
	}
}

func node(t *testing.T, r *Running, path string) *live.Node {
	t.Helper()
	snap, err := r.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	n := snap.Find(path)
	if n == nil {
		t.Fatalf("no node %s in the snapshot", path)
	}
	return n
}

func summary(n *live.Node) string {
	var b strings.Builder
	n.Walk(func(m *live.Node) {
		fmt.Fprintf(&b, "%s %s %s %s\n", m.Path, kindCell(m), m.Strategy, m.State)
	})
	return b.String()
}

// kindCell is a node's kind as events name it (kindOf): a worker's kind, a
// supervisor's strategy, or dynamic.
func kindCell(n *live.Node) string {
	switch {
	case !n.IsSupervisor():
		return n.Kind
	case n.Dynamic:
		return KindDynamic
	}
	return n.Strategy
}
