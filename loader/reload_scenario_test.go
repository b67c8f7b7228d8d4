package loader_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/otpctl/otpctl/otptest"
)

// A reload restarts only what changed: under one_for_all, a changed or
// added sibling leaves the counter's state alone.
func TestReloadKeepsTheStateOfUntouchedChildren(t *testing.T) {
	const app = "version: 1\nname: app\nsupervisor:\n  strategy: one_for_all\n  children: [{name: count, kind: counter}, %s]\n"
	tr := otptest.StartYAML(t, fmt.Sprintf(app, "{name: other, kind: echo}"))
	for range 3 {
		tr.Call("app/count", `{"op":"increment"}`)
	}
	m := tr.Mark()
	tr.Reload(fmt.Sprintf(app, "{name: other, kind: counter, args: {initial: 10}}, {name: more, kind: echo}"))
	tr.AssertTrace(m,
		"terminated app/other cause=reload reason=shutdown",
		"started app/other cause=reload",
		"started app/more cause=reload",
		"reload app added=app/more changed=app/other")
	if got := string(tr.Call("app/count", `{"op":"get"}`)); got != `{"value":3}` {
		t.Errorf("count after the reload = %s, want 3", got)
	}
	if got := string(tr.Call("app/other", `{"op":"get"}`)); got != `{"value":10}` {
		t.Errorf("other after the reload = %s, want the new kind's 10", got)
	}
}

// Reload restarts are not crashes: nine in one period with max_frequency 1
// neither give up nor restart a sibling, and a crash afterwards counts.
func TestReloadCostsNoIntensity(t *testing.T) {
	const abc = "version: 1\nname: app\nsupervisor:\n  strategy: one_for_all\n  max_frequency: 1\n  children:\n" +
		"    - {name: a, kind: counter, args: {initial: %[1]d}}\n" +
		"    - {name: b, kind: counter, args: {initial: %[1]d}}\n" +
		"    - {name: c, kind: counter, args: {initial: %[1]d}}\n"
	tr := otptest.StartYAML(t, fmt.Sprintf(abc, 0), otptest.WithFakeClock())
	for i := 1; i <= 3; i++ {
		m := tr.Mark()
		tr.Reload(fmt.Sprintf(abc, i))
		tr.AssertTrace(m,
			"terminated app/a cause=reload reason=shutdown", "started app/a cause=reload",
			"terminated app/b cause=reload reason=shutdown", "started app/b cause=reload",
			"terminated app/c cause=reload reason=shutdown", "started app/c cause=reload",
			"reload app changed=app/a,app/b,app/c")
	}
	if used := tr.Snapshot().Budget("app").Used; used != 0 {
		t.Fatalf("budget used %d after reloads, want 0", used)
	}
	m := tr.Mark()
	tr.Kill("app/a", "boom")
	tr.AssertTrace(m,
		"exited app/a reason=boom",
		"terminated app/c cause=sibling trigger=app/a reason=shutdown",
		"terminated app/b cause=sibling trigger=app/a reason=shutdown",
		"started app/a cause=crash trigger=app/a",
		"started app/b cause=sibling trigger=app/a",
		"started app/c cause=sibling trigger=app/a")
	if used := tr.Snapshot().Budget("app").Used; used != 1 {
		t.Fatalf("budget used %d after a crash, want 1", used)
	}
}

// A start that fails during a reload leaves that child failed and the rest
// of the plan applies; a fixed file then starts it.
func TestReloadFailedStartLeavesTheChildFailedAndGoesOn(t *testing.T) {
	const shop = "version: 1\nname: shop\nsupervisor:\n  children: [%s]\n"
	tr := otptest.StartYAML(t, fmt.Sprintf(shop, "{name: db, kind: echo}, {name: web, kind: echo}"))
	web := tr.Snapshot().Pid("shop/web")
	const missing = "kind: exec, args: {command: [./no-such-program]}"
	m := tr.Mark()
	res, err := tr.TryReload(fmt.Sprintf(shop, "{name: db, "+missing+"}, {name: bad, "+missing+"}, {name: web, kind: echo}, {name: late, kind: echo}"))
	if err != nil || fmt.Sprint(res.Failed) != "[shop/db shop/bad]" {
		t.Fatalf("TryReload = %+v, %v; want shop/db and shop/bad failed", res, err)
	}
	const notFound = "reason=fork/exec ./no-such-program: no such file or directory"
	tr.AssertTrace(m,
		"terminated shop/db cause=reload reason=shutdown",
		"start_failed shop/db cause=reload "+notFound,
		"start_failed shop/bad cause=reload "+notFound,
		"started shop/late cause=reload",
		"reload shop added=shop/bad,shop/late changed=shop/db failed=shop/db,shop/bad")
	if snap := tr.Snapshot(); snap.Children("shop") != "db:failed bad:failed web:running late:running" || snap.Pid("shop/web") != web {
		t.Fatalf("after the reload:\n%s", snap)
	}
	m = tr.Mark()
	tr.Reload(fmt.Sprintf(shop, "{name: db, kind: echo}, {name: bad, kind: counter}, {name: web, kind: echo}, {name: late, kind: echo}"))
	tr.AssertTrace(m, "started shop/db cause=reload", "started shop/bad cause=reload", "reload shop changed=shop/db,shop/bad")
	if got := tr.Snapshot().Children("shop"); got != "db:running bad:running web:running late:running" {
		t.Fatalf("after the fix: %s", got)
	}
}

// auto_shutdown any_significant → never while a child stops being
// significant, and back: the runtime checks each step, so the order in
// which the reload applies them matters. Nothing restarts, except a child
// whose args change at the same time.
func TestReloadAutoShutdownAndSignificantTogether(t *testing.T) {
	const app = "version: 1\nname: app\nsupervisor:\n  auto_shutdown: %s\n  children:\n" +
		"    - {name: a, kind: counter, restart: transient, significant: %t, args: {initial: %d}}\n" +
		"    - {name: b, kind: echo}\n"
	tr := otptest.StartYAML(t, fmt.Sprintf(app, "any_significant", true, 0))
	a := tr.Snapshot().Pid("app/a")
	for _, sig := range []bool{false, true, false} {
		auto := map[bool]string{true: "any_significant", false: "never"}[sig]
		m := tr.Mark()
		tr.Reload(fmt.Sprintf(app, auto, sig, 0))
		tr.AssertTrace(m, "reload app updated=app,app/a")
		snap := tr.Snapshot()
		if n := snap.Node("app/a"); n.Significant != sig || snap.Root.AutoShutdown != auto || n.Proc != a {
			t.Fatalf("significant %v: a %+v, auto_shutdown %s", sig, n, snap.Root.AutoShutdown)
		}
	}
	tr.Reload(fmt.Sprintf(app, "any_significant", true, 0))
	m := tr.Mark()
	tr.Reload(fmt.Sprintf(app, "never", false, 3))
	tr.AssertTrace(m,
		"terminated app/a cause=reload reason=shutdown",
		"started app/a cause=reload",
		"reload app changed=app/a updated=app")
	if snap := tr.Snapshot(); snap.Root.AutoShutdown != "never" || snap.Node("app/a").Significant {
		t.Fatalf("after the reload:\n%s", snap)
	}
}

// A child that a reload adds and whose start fails stays in the tree,
// failed, where OTP's start_child keeps no spec for it: `otpctl start`
// (Running.Start) tries it again, an operator's start, without a new file.
func TestReloadFailedStartIsRetriedByStart(t *testing.T) {
	const app = "version: 1\nname: app\nsupervisor:\n  max_frequency: 0\n  children: [%s]\n"
	tr := otptest.StartYAML(t, fmt.Sprintf(app, "{name: db, kind: echo}"), otptest.WithFakeClock())
	prog := filepath.Join(t.TempDir(), "late")
	m := tr.Mark()
	res, err := tr.TryReload(fmt.Sprintf(app, "{name: db, kind: echo}, {name: late, kind: exec, args: {command: ["+prog+"]}}"))
	if err != nil || fmt.Sprint(res.Failed) != "[app/late]" {
		t.Fatalf("TryReload = %+v, %v; want app/late failed", res, err)
	}
	notFound := "reason=fork/exec " + prog + ": no such file or directory"
	m = tr.AssertTrace(m, "start_failed app/late cause=reload "+notFound, "reload app added=app/late failed=app/late")
	if got := tr.Snapshot().Children("app"); got != "db:running late:failed" {
		t.Fatalf("after the reload: %s", got)
	}
	// Still missing: the start fails again and leaves it failed.
	if _, _, err := tr.Running().Start("app/late", "", nil); err == nil {
		t.Fatal("start of a child whose program is missing succeeded")
	}
	m = tr.AssertTrace(m, "start_failed app/late cause=operator "+notFound)
	if err := os.WriteFile(prog, []byte("#!/bin/sh\nexec sleep 300\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tr.Start("app/late")
	tr.AssertTrace(m, "started app/late cause=operator")
	snap := tr.Snapshot()
	if snap.Children("app") != "db:running late:running" || snap.Node("app/late").OSPid == 0 || snap.Budget("app").Used != 0 {
		t.Fatalf("after otpctl start (want late running, nothing counted against max_frequency 0):\n%s", snap)
	}
}
