package loader

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/spec"
	"github.com/otpctl/otpctl/workers"
)

func shop() *spec.Tree {
	return tree(sup("shop", spec.OneForOne,
		w("db", "echo"),
		sup("workers", spec.RestForOne, w("w1", "echo"), w("w2", "osproc")),
		dyn("jobs", "echo", `{"tag":"job"}`, 2),
		w("web", "echo"),
	))
}

func TestStartBuildsTheTreeInOrder(t *testing.T) {
	r, rec := start(t, shop(), nil)
	want := []string{
		"started shop/db boot",
		"started shop/workers/w1 boot",
		"started shop/workers/w2 boot",
		"started shop/workers boot",
		"started shop/jobs boot",
		"started shop/web boot",
		"started shop boot",
	}
	if got := rec.lines(0); !slices.Equal(got, want) {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	snap, err := r.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	wantTree := `shop one_for_one one_for_one running
shop/db echo  running
shop/workers rest_for_one rest_for_one running
shop/workers/w1 echo  running
shop/workers/w2 osproc  running
shop/jobs dynamic one_for_one running
shop/web echo  running
`
	if got := summary(snap); got != wantTree {
		t.Fatalf("snapshot:\n%s\nwant:\n%s", got, wantTree)
	}
	if w2 := snap.Find("shop/workers/w2"); w2.OSPid != 4242 {
		t.Errorf("w2's OS pid = %d, want 4242", w2.OSPid)
	}
	if jobs := snap.Find("shop/jobs"); !jobs.Dynamic || jobs.MaxChildren != 2 || jobs.Kind != "echo" {
		t.Errorf("jobs: dynamic %v max_children %d template %q", jobs.Dynamic, jobs.MaxChildren, jobs.Kind)
	}
	if b := snap.Budget; b.Used != 0 || b.Max != 3 || b.Period != "5s" {
		t.Errorf("root budget = %+v", b)
	}
	if snap.Proc.IsZero() || snap.Started == nil || snap.Find("shop/db").Proc.IsZero() {
		t.Errorf("pids or start times missing: %+v", snap)
	}
}

func TestStartFailureNamesTheDeepestChildAndLeavesNothingRunning(t *testing.T) {
	rec := newRecorder()
	st := tree(sup("shop", spec.OneForOne,
		w("db", "echo"),
		sup("workers", spec.OneForOne, w("w1", "echo"), w("w2", "failing"), w("w3", "echo")),
		w("web", "echo"),
	))
	_, err := Start(context.Background(), st, Options{Registry: testKinds(), Events: rec.Add, Log: quiet})
	var se *runtime.StartError
	if !errors.As(err, &se) || se.Path != "shop/workers/w2" || se.Reason.Error() != "boom" {
		t.Fatalf("err = %v, want shop/workers/w2's start error", err)
	}
	if err.Error() != "shop/workers/w2 failed to start: boom" {
		t.Errorf("message %q", err.Error())
	}
	want := []string{
		"started shop/db boot",
		"started shop/workers/w1 boot",
		"start_failed shop/workers/w2 boom boot",
		"terminated shop/workers/w1 shutdown shutdown shop/workers/w2",
		"start_failed shop/workers shop/workers/w2 failed to start: boom boot",
		"terminated shop/db shutdown shutdown shop/workers",
	}
	if got := rec.lines(0); !slices.Equal(got, want) {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestStartRefusesUnknownKinds(t *testing.T) {
	st := tree(sup("shop", spec.OneForOne, w("db", "echo"), w("web", "nginx")))
	_, err := Start(context.Background(), st, Options{Registry: testKinds(), Log: quiet})
	var uk *workers.UnknownKindError
	if !errors.As(err, &uk) || !strings.HasPrefix(err.Error(), "shop/web: unknown kind") {
		t.Fatalf("err = %v", err)
	}
}

func TestStartWithCancelledContextStartsNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Start(ctx, shop(), Options{Registry: testKinds(), Log: quiet}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestShutdownStopsInReverseOrderDepthFirst(t *testing.T) {
	rec := newRecorder()
	r, err := Start(context.Background(), shop(), Options{Registry: testKinds(), Events: rec.Add, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Start("shop/jobs", "", nil); err != nil {
		t.Fatal(err)
	}
	from := rec.Len()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"terminated shop/web shutdown shutdown",
		"terminated shop/jobs/echo-1 shutdown shutdown",
		"terminated shop/jobs shutdown shutdown",
		"terminated shop/workers/w2 shutdown shutdown",
		"terminated shop/workers/w1 shutdown shutdown",
		"terminated shop/workers shutdown shutdown",
		"terminated shop/db shutdown shutdown",
		"terminated shop shutdown shutdown",
	}
	if got := rec.lines(from); !slices.Equal(got, want) {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	select {
	case <-r.Done():
	default:
		t.Fatal("Done not closed after Shutdown returned")
	}
	if r.GaveUp() || !errors.Is(r.Reason(), runtime.Shutdown) {
		t.Errorf("gave up %v, reason %v", r.GaveUp(), r.Reason())
	}
	if _, err := r.Snapshot(); !errors.Is(err, ErrStopped) {
		t.Errorf("Snapshot after stop: %v", err)
	}
	if err := r.Kill("shop/db", ""); !errors.Is(err, ErrStopped) {
		t.Errorf("Kill after stop: %v", err)
	}
	if err := r.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
}

func TestShutdownPastItsContextThenHalt(t *testing.T) {
	st := tree(sup("shop", spec.OneForOne, w("db", "echo"), w("mule", "stubborn")))
	st.Root.Supervisor.Children[1].Shutdown = spec.Infinity
	rec := newRecorder()
	r, err := Start(context.Background(), st, Options{Registry: testKinds(), Events: rec.Add, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := r.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want the context's deadline (mule never stops)", err)
	}
	r.Halt()
	select {
	case <-r.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the tree is still up 10s after Halt")
	}
	if !r.Halted() || !errors.Is(r.Reason(), runtime.Killed) {
		t.Errorf("halted %v, reason %v", r.Halted(), r.Reason())
	}
	rec.wait(t, 0, "terminated shop killed shutdown")
}

func TestKillReasons(t *testing.T) {
	cases := []struct {
		reason, restart string
		event           string
		restarted       bool
	}{
		{"", spec.Permanent, "exited shop/x killed", true},
		{"killed", spec.Transient, "exited shop/x killed", true},
		{"normal", spec.Transient, "exited shop/x normal", false},
		{"shutdown", spec.Transient, "exited shop/x shutdown", false},
		{"disk full", spec.Transient, "exited shop/x disk full", true},
		{"normal", spec.Permanent, "exited shop/x normal", true},
		{"boom", spec.Temporary, "exited shop/x boom", false},
		{"shutdown:maintenance", spec.Transient, "exited shop/x shutdown:maintenance", false},
		{"shutdown:maintenance", spec.Permanent, "exited shop/x shutdown:maintenance", true},
		{"shutdown:", spec.Transient, "exited shop/x shutdown:", false},
		{"shutdownx", spec.Transient, "exited shop/x shutdownx", true},
	}
	for _, c := range cases {
		for _, kind := range []string{"echo", "stubborn"} { // stubborn traps exits
			t.Run(c.reason+"/"+c.restart+"/"+kind, func(t *testing.T) {
				x := w("x", kind)
				x.Restart, x.Shutdown = c.restart, spec.BrutalKill
				r, rec := start(t, tree(sup("shop", spec.OneForOne, x)), nil)
				from := rec.Len()
				if err := r.Kill("shop/x", c.reason); err != nil {
					t.Fatal(err)
				}
				rec.wait(t, from, c.event)
				if c.restarted {
					rec.wait(t, from, "started shop/x crash shop/x")
					return
				}
				snap, _ := r.Snapshot()
				x2 := snap.Find("shop/x")
				if c.restart == spec.Temporary {
					if x2 != nil {
						t.Errorf("temporary child still there: %+v", x2)
					}
				} else if x2 == nil || x2.State != runtime.StateStopped {
					t.Errorf("x after kill: %+v", x2)
				}
			})
		}
	}
}

func TestStopAndStart(t *testing.T) {
	r, rec := start(t, shop(), nil)
	from := rec.Len()
	if err := r.Stop("shop/db"); err != nil {
		t.Fatal(err)
	}
	if got := rec.lines(from); !slices.Equal(got, []string{"terminated shop/db shutdown operator"}) {
		t.Fatalf("stop: %q", got)
	}
	if n := node(t, r, "shop/db"); n.State != runtime.StateStopped || !n.Proc.IsZero() {
		t.Fatalf("db after stop: %+v", n)
	}
	if err := r.Stop("shop/db"); err != nil {
		t.Errorf("stopping a stopped child: %v", err)
	}
	if _, err := r.Call("shop/db", json.RawMessage(`1`), time.Second); !errors.Is(err, ErrNotRunning) {
		t.Errorf("call a stopped child: %v", err)
	}
	if err := r.Kill("shop/db", ""); !errors.Is(err, ErrNotRunning) {
		t.Errorf("kill a stopped child: %v", err)
	}
	from = rec.Len()
	path, pid, err := r.Start("shop/db", "", nil)
	if err != nil || path != "shop/db" || pid.IsZero() {
		t.Fatalf("Start = %q %v %v", path, pid, err)
	}
	if got := rec.lines(from); !slices.Equal(got, []string{"started shop/db operator"}) {
		t.Fatalf("start: %q", got)
	}
	if _, _, err := r.Start("shop/db", "", nil); !errors.Is(err, runtime.ErrRunning) || err.Error() != "start shop/db: it is running" {
		t.Errorf("start a running child: %v", err)
	}
	if _, _, err := r.Start("shop/db", "x", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("start with a name on a static child: %v", err)
	}
	if b := node(t, r, "shop").Budget; b.Used != 0 {
		t.Errorf("operator stop/start counted against the intensity: %+v", b)
	}
}

func TestRestartIsTheOperators(t *testing.T) {
	r, rec := start(t, shop(), nil)
	old := node(t, r, "shop/workers/w1").Proc
	from := rec.Len()
	path, pid, err := r.Restart("shop/workers/w1")
	if err != nil || path != "shop/workers/w1" || pid == old {
		t.Fatalf("Restart = %q %v %v", path, pid, err)
	}
	want := []string{"terminated shop/workers/w1 shutdown operator", "started shop/workers/w1 operator"}
	if got := rec.lines(from); !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q (no sibling restarted under rest_for_one)", got, want)
	}
	n := node(t, r, "shop/workers")
	if n.Budget.Used != 0 || n.Children[0].Restarts != 1 || n.Children[1].Restarts != 0 {
		t.Errorf("after restart: budget %+v, restarts %d %d", n.Budget, n.Children[0].Restarts, n.Children[1].Restarts)
	}
	if _, _, err := r.Restart("shop"); !errors.Is(err, ErrRefused) {
		t.Errorf("restart the root: %v", err)
	}
}

func TestDynamicChildren(t *testing.T) {
	r, rec := start(t, shop(), nil)
	path, _, err := r.Start("shop/jobs", "", nil)
	if err != nil || path != "shop/jobs/echo-1" {
		t.Fatalf("Start = %q %v", path, err)
	}
	path, _, err = r.Start("shop/jobs", "night", json.RawMessage(`{"n": 7}`))
	if err != nil || path != "shop/jobs/night" {
		t.Fatalf("Start named = %q %v", path, err)
	}
	rep, err := r.Call("shop/jobs/night", json.RawMessage(`"args"`), time.Second)
	if err != nil || string(rep) != `{"n":7,"tag":"job"}` {
		t.Errorf("night's args = %s, %v; want the template's merged under the child's", rep, err)
	}
	if _, _, err := r.Start("shop/jobs", "", nil); !errors.Is(err, runtime.ErrMaxChildren) {
		t.Errorf("third child of max 2: %v", err)
	}
	if _, _, err := r.Start("shop/jobs", "Bad/Name", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad name: %v", err)
	}
	if _, _, err := r.Start("shop/jobs", "", json.RawMessage(`[1]`)); !errors.Is(err, ErrInvalid) {
		t.Errorf("args not an object: %v", err)
	}

	from := rec.Len()
	_, pid, err := r.Restart("shop/jobs/night")
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.lines(from); !slices.Equal(got, []string{"terminated shop/jobs/night shutdown operator", "started shop/jobs/night operator"}) {
		t.Errorf("restart events %q", got)
	}
	if rep, _ := r.Call("shop/jobs/night", json.RawMessage(`"args"`), time.Second); string(rep) != `{"n":7,"tag":"job"}` {
		t.Errorf("night's args after restart = %s", rep)
	}
	if n := node(t, r, "shop/jobs/night"); n.Proc != pid {
		t.Errorf("pid %v, want %v", n.Proc, pid)
	}

	if err := r.Stop("shop/jobs/echo-1"); err != nil {
		t.Fatal(err)
	}
	if snap, _ := r.Snapshot(); snap.Find("shop/jobs/echo-1") != nil {
		t.Error("a stopped dynamic child is still listed")
	}
	if err := r.Stop("shop/jobs/echo-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("stop a removed dynamic child: %v", err)
	}
	path, _, err = r.Start("shop/jobs", "", nil)
	if err != nil || path != "shop/jobs/echo-2" {
		t.Errorf("next generated name = %q %v", path, err)
	}
}

func TestDynamicArgsAreCheckedAgainstTheKindsSchema(t *testing.T) {
	r, rec := start(t, shop(), nil)
	from := rec.Len()
	for _, c := range []struct{ args, want string }{
		{`{"color":"red"}`, "/color: "},
		{`{"n":"seven"}`, "/n: "},
	} {
		_, _, err := r.Start("shop/jobs", "", json.RawMessage(c.args))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Start with args %s: %v, want an invalid request naming %q", c.args, err, c.want)
		}
	}
	if got := rec.lines(from); len(got) != 0 {
		t.Errorf("refused args started something: %q", got)
	}
	// A kind that refuses its args at start (beyond its schema) fails the
	// start, and the child is not kept.
	_, _, err := r.Start("shop/jobs", "", json.RawMessage(`{"tag":"boom"}`))
	var se *runtime.StartError
	if !errors.As(err, &se) || se.Path != "shop/jobs/echo-1" || !strings.Contains(err.Error(), "tag boom") {
		t.Fatalf("err = %v", err)
	}
	if n := node(t, r, "shop/jobs"); len(n.Children) != 0 {
		t.Errorf("a failed dynamic child was kept: %+v", n.Children)
	}
}

func TestCall(t *testing.T) {
	r, _ := start(t, shop(), nil)
	rep, err := r.Call("shop/web", json.RawMessage(`{"op":"ping"}`), 0)
	if err != nil || string(rep) != `{"op":"ping"}` {
		t.Fatalf("Call = %s, %v", rep, err)
	}
	var re *workers.ReplyError
	if _, err := r.Call("shop/web", json.RawMessage(`"refuse"`), 0); !errors.As(err, &re) || err.Error() != "call shop/web: refused by echo" {
		t.Errorf("refusal: %v", err)
	}
	cases := []struct {
		path, body string
		want       error
	}{
		{"shop/nope", `1`, ErrNotFound},
		{"other/web", `1`, ErrNotFound},
		{"shop/web/deeper", `1`, ErrNotFound},
		{"shop/workers", `1`, workers.ErrNotCallable},
		{"shop/web", `{"op":`, ErrInvalid},
	}
	for _, c := range cases {
		if _, err := r.Call(c.path, json.RawMessage(c.body), time.Second); !errors.Is(err, c.want) {
			t.Errorf("Call(%s, %s) = %v, want %v", c.path, c.body, err, c.want)
		}
	}
}

func TestRootOperations(t *testing.T) {
	r, _ := start(t, shop(), nil)
	if err := r.Stop("shop"); !errors.Is(err, ErrRefused) {
		t.Errorf("stop the root: %v", err)
	}
	if _, _, err := r.Start("shop", "", nil); !errors.Is(err, runtime.ErrRunning) {
		t.Errorf("start the root: %v", err)
	}
	if err := r.Kill("shop", "boom"); !errors.Is(err, ErrRefused) {
		t.Errorf("kill the root with text: %v", err)
	}
	if _, err := r.supervisor("shop/workers"); err != nil {
		t.Errorf("Supervisor(shop/workers): %v", err)
	}
	if _, err := r.supervisor("shop/db"); !errors.Is(err, ErrRefused) {
		t.Errorf("Supervisor of a worker: %v", err)
	}
}

func TestKillRootWithShutdownStopsTheTree(t *testing.T) {
	rec := newRecorder()
	r, err := Start(context.Background(), shop(), Options{Registry: testKinds(), Events: rec.Add, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Kill("shop", "shutdown"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("tree still up")
	}
	rec.wait(t, 0, "terminated shop shutdown shutdown")
	if r.GaveUp() {
		t.Error("a requested stop is not giving up")
	}
}

// A nested supervisor restarted after a reload recorded a new spec starts
// its children from the new spec: the seam the reload relies on.
func TestNestedSupervisorRestartsFromTheRunningSpec(t *testing.T) {
	r, rec := start(t, shop(), nil)
	next := shop()
	ws := next.Root.Supervisor.Children[1]
	w3 := w("w3", "echo")
	w3.Path = "shop/workers/w3"
	ws.Supervisor.Children = append(ws.Supervisor.Children, w3)
	r.setSpec(next)
	if r.Spec() != next {
		t.Fatal("Spec is not the one set")
	}
	from := rec.Len()
	if err := r.Kill("shop/workers", "killed"); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, from, "started shop/workers crash")
	if n := node(t, r, "shop/workers"); len(n.Children) != 3 || n.Children[2].Path != "shop/workers/w3" {
		t.Fatalf("workers after restart: %s", summary(n))
	}
	// And the reload's own tools: a child spec and the live supervisor.
	cs, err := r.childSpec(w("w4", "echo"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.supervisor("shop/workers")
	if err != nil {
		t.Fatal(err)
	}
	cs.ID = "w4"
	if _, err := s.Apply(runtime.InsertChild{Pos: 0, Spec: cs}); err != nil {
		t.Fatal(err)
	}
	if n := node(t, r, "shop/workers"); n.Children[0].Name != "w4" {
		t.Errorf("inserted child not first: %s", summary(n))
	}
	if _, err := r.childSpec(w("bad", "nope")); err == nil {
		t.Error("childSpec of an unknown kind succeeded")
	}
	r.Emit(live.Event{Type: EventReload, Added: []string{"shop/workers/w4"}})
	rec.wait(t, from, "reload")
}

func TestRuntimeFlagsAndSupervision(t *testing.T) {
	f := runtimeFlags(&spec.Supervisor{Strategy: spec.RestForOne, MaxFrequency: 4, Period: time.Minute, AutoShutdown: spec.AnySignificant})
	if f != (runtime.Flags{Strategy: runtime.RestForOne, MaxFrequency: 4, Period: time.Minute, AutoShutdown: runtime.AnySignificant}) {
		t.Errorf("Flags = %+v", f)
	}
	if f := runtimeFlags(&spec.Supervisor{Strategy: spec.OneForAll, Dynamic: &spec.Dynamic{}}); f.Strategy != runtime.OneForOne {
		t.Errorf("a dynamic supervisor's strategy = %v", f.Strategy)
	}
	cases := []struct {
		restart  string
		shutdown spec.Shutdown
		want     runtime.RestartType
		wantSh   runtime.ShutdownPolicy
	}{
		{spec.Permanent, spec.BrutalKill, runtime.Permanent, runtime.BrutalKill},
		{spec.Transient, spec.Infinity, runtime.Transient, runtime.Infinity},
		{spec.Temporary, spec.Shutdown(2 * time.Second), runtime.Temporary, runtime.ShutdownPolicy(2 * time.Second)},
	}
	for _, c := range cases {
		u := supervision(&spec.Node{Restart: c.restart, Shutdown: c.shutdown, Significant: true})
		if rt, sh, sig := u.Restart, u.Shutdown, u.Significant; rt != c.want || sh != c.wantSh || !sig {
			t.Errorf("supervision(%s, %v) = %v %v %v", c.restart, c.shutdown, rt, sh, sig)
		}
	}
}

func TestKillReasonAndReasonText(t *testing.T) {
	cases := []struct {
		in   string
		want error
		text string
	}{
		{"", runtime.Killed, "killed"},
		{"killed", runtime.Killed, "killed"},
		{"normal", runtime.Normal, "normal"},
		{"shutdown", runtime.Shutdown, "shutdown"},
		{"disk full", nil, "disk full"},
		{"shutdown:disk full", nil, "shutdown:disk full"},
	}
	for _, c := range cases {
		got := KillReason(c.in)
		if c.want != nil && got != c.want {
			t.Errorf("KillReason(%q) = %v", c.in, got)
		}
		if ReasonText(got) != c.text {
			t.Errorf("ReasonText(KillReason(%q)) = %q", c.in, ReasonText(got))
		}
	}
	if !runtime.IsAbnormal(KillReason("disk full")) {
		t.Error("a text reason is not abnormal")
	}
	// OTP's {shutdown, Term}: a shutdown, not abnormal.
	if why := KillReason("shutdown:disk full"); runtime.IsAbnormal(why) || !errors.Is(why, runtime.Shutdown) {
		t.Errorf("KillReason(shutdown:disk full) = %#v, want a shutdown", why)
	}
	if ReasonText(&runtime.PanicError{Value: "oops"}) != "panic: oops" || ReasonText(nil) != "" {
		t.Error("ReasonText of a panic or nil")
	}
}
