package cli

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otpctl/otpctl/live"
)

// healthYAML is a python3 http.server child that writes its health file,
// alive, when it starts, with an http health check on that file.
func healthYAML(dir string, port int, interval string) string {
	return fmt.Sprintf(`version: 1
name: hc
supervisor:
  max_frequency: 5
  period: 1m
  children:
    - name: web
      kind: exec
      args:
        command: ["sh", "-c", "touch alive && exec python3 -m http.server %[1]d --bind 127.0.0.1"]
        dir: %[3]q
        ready: {http: "http://127.0.0.1:%[1]d/", timeout: 20s}
        health: {http: "http://127.0.0.1:%[1]d/alive", interval: %[2]s, timeout: 2s, failures: 2}
`, port, interval, dir)
}

// awaitNode polls `otpctl tree --json` (up to e2eTimeout) until the node
// at path satisfies ok.
func (r *runner) awaitNode(path, what string, ok func(*live.Node) bool) *live.Node {
	r.t.Helper()
	deadline := time.Now().Add(e2eTimeout)
	for {
		n := r.tree().Find(path)
		if n != nil && ok(n) {
			return n
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%s is not %s: %+v", path, what, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func isHealthy(n *live.Node) bool { return n.Health != nil && n.Health.Status == "healthy" }

// From a tree file: a healthy child shows healthy in `tree` and is ready;
// once its health URL answers 404 it is restarted after `failures` probes
// with reason unhealthy: … (a crash), and is healthy again. A change of the
// health settings is planned and reloaded as a restart of the child.
func TestHealthCheckE2E(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	file := writeTree(t, dir, "hc.yaml", healthYAML(dir, port, "200ms"))
	if res := otpctl(t, nil, "validate", file); res.code != 0 {
		t.Fatalf("validate: %d %s", res.code, res.stderr)
	}
	r := startRun(t, dir, file, "--socket", filepath.Join(dir, "ctl.sock"))
	r.waitEvent(0, "started hc boot")
	n := r.awaitNode("hc/web", "healthy", isHealthy)
	if n.Health.Last != "ok" || n.Health.At == nil {
		t.Fatalf("health of a healthy child: %+v", n.Health)
	}
	if out := r.mustCtl("tree"); !strings.Contains(out, ", healthy") {
		t.Fatalf("tree does not show the health:\n%s", out)
	}
	r.mustCtl("health", "--ready")

	mark := r.count()
	if err := os.Remove(filepath.Join(dir, "alive")); err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/alive", port)
	i := r.waitEvent(mark, "exited hc/web unhealthy: GET "+url+": 404 File not found")
	r.waitEvent(i, "started hc/web crash")
	n = r.awaitNode("hc/web", "healthy again", isHealthy)
	if n.Restarts != 1 {
		t.Fatalf("restarts %d, want 1", n.Restarts)
	}

	// A new interval: plan says the child restarts, and a reload does it.
	next := filepath.Join(dir, "next.yaml")
	writeTree(t, dir, "next.yaml", healthYAML(dir, port, "300ms"))
	if res := otpctl(t, nil, "plan", file, next); !strings.Contains(res.stdout, "~ hc/web (args changed (health): restart)") {
		t.Fatalf("plan:\n%s%s", res.stdout, res.stderr)
	}
	mark = r.count()
	writeTree(t, dir, "hc.yaml", healthYAML(dir, port, "300ms"))
	r.mustCtl("reload")
	r.waitEvent(mark, "started hc/web reload")
	r.awaitNode("hc/web", "healthy after the reload", isHealthy)
}
