package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otpctl/otpctl/control"
)

// `otpctl health` for exec probes: 0 while the instance is up; with
// --ready 1 while a node is not ready (the tree starting, a permanent
// child stopped), naming it, and 0 again once it runs.
func TestHealthCommand(t *testing.T) {
	// slow is ready once the test lets it (it logs "up" when the file go
	// appears).
	goFile := filepath.Join(t.TempDir(), "go")
	r := runYAML(t, "app.yaml", fmt.Sprintf(`version: 1
name: app
supervisor:
  children:
    - {name: a, kind: echo}
    - {name: once, kind: echo, restart: transient}
    - name: slow
      kind: exec
      args:
        command: [sh, -c, "while [ ! -e %s ]; do sleep 0.05; done; echo up; exec sleep 600"]
        ready: {log: up, timeout: 1m}
`, goFile))
	// While slow's ready check runs, the tree is up but not ready.
	r.mustCtl("wait", "app/slow", "--state", "starting")
	if out := r.mustCtl("health"); out != "ok\n" {
		t.Errorf("health while starting: %q", out)
	}
	res := r.ctl("health", "--ready")
	if res.code != 1 || res.stdout != "app starting\napp/slow starting\n" ||
		res.stderr != "otpctl: 2 nodes are not ready: app starting, …\n" {
		t.Errorf("health --ready while starting: %+v", res)
	}
	if err := os.WriteFile(goFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r.waitEvent(0, "started app boot")
	if out := r.mustCtl("health", "--ready"); out != "ok\n" {
		t.Errorf("health --ready once up: %q", out)
	}

	// A transient child stopped is done; a permanent one is down.
	r.mustCtl("stop", "app/once")
	r.mustCtl("health", "--ready")
	r.mustCtl("stop", "app/a")
	res = r.ctl("health", "--ready")
	if res.code != 1 || res.stdout != "app/a stopped\n" || res.stderr != "otpctl: 1 node is not ready: app/a stopped\n" {
		t.Errorf("health --ready with app/a stopped: %+v", res)
	}
	res = r.ctl("health", "--ready", "--json")
	var rep control.HealthReply
	if res.code != 1 || json.Unmarshal([]byte(res.stdout), &rep) != nil || rep.Status != control.HealthNotReady ||
		len(rep.NotReady) != 1 || rep.NotReady[0] != (control.NotReadyNode{Path: "app/a", State: "stopped"}) || res.stderr != "" {
		t.Errorf("health --ready --json: %+v", res)
	}
	if out := r.mustCtl("health", "--name", "app"); out != "ok\n" {
		t.Errorf("health (liveness) with app/a stopped: %q", out)
	}
	r.mustCtl("start", "app/a")
	if out := r.mustCtl("health", "--ready", "--json"); !strings.Contains(out, `"status": "ok"`) {
		t.Errorf("health --ready --json after start: %q", out)
	}

	r.mustCtl("shutdown")
	if code := r.wait(); code != 0 {
		t.Fatalf("run exited %d; stderr:\n%s", code, r.stderr())
	}
	// No instance: 1, with one line that says so.
	for _, args := range [][]string{{"health"}, {"health", "--ready"}} {
		res := r.ctl(args...)
		if res.code != 1 || res.stdout != "" || strings.Count(res.stderr, "\n") != 1 || !strings.Contains(res.stderr, "no otpctl instance is running") {
			t.Errorf("otpctl %s without an instance: %+v", strings.Join(args, " "), res)
		}
	}
	if res := r.ctl("health", "extra"); res.code != 2 {
		t.Errorf("otpctl health extra: %+v", res)
	}
}
