package cli

import (
	"strings"
	"testing"
	"time"
)

// The README's "Backoff and intensity", with a real process: a child that
// exits at once, with a fixed backoff of 1s under max_frequency 3 in
// period 10s, is restarted a second after each crash and shown
// "restarting in …" meanwhile; its 4th crash falls within 10s of the 1st,
// so the supervisor gives up there. An operator's start skips the wait.
func TestBackoffE2E(t *testing.T) {
	r := runYAML(t, "bo.yaml", `
version: 1
name: bo
supervisor:
  max_frequency: 3
  period: 10s
  children:
    - name: crash
      kind: exec
      backoff: 1s
      args: {command: [sh, -c, "exit 1"]}
`)
	r.waitEvent(0, "exited bo/crash")
	// tree shows it waiting, with the time left; start skips the wait.
	deadline := time.Now().Add(e2eTimeout)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("never saw bo/crash restarting; stderr:\n%s", r.stderr())
		}
		out := r.ctl("tree")
		if !strings.Contains(out.stdout, "restarting in ") {
			continue
		}
		if n := r.node("bo/crash"); n.RestartIn == "" || n.Backoff != "1s" {
			continue // it started meanwhile
		}
		if res := r.ctl("start", "bo/crash"); res.code == 0 {
			break
		}
	}
	r.waitEvent(0, "started bo/crash operator")
	r.waitEvent(0, "give_up bo reached_max_restart_intensity")
	if code := r.wait(); code != ExitGaveUp {
		t.Fatalf("run exited %d, want %d; stderr:\n%s", code, ExitGaveUp, r.stderr())
	}
	exits := 0
	for _, e := range r.events(0) {
		if strings.HasPrefix(e, "give_up") {
			break
		}
		if strings.HasPrefix(e, "exited bo/crash") {
			exits++
		}
	}
	if exits != 4 {
		t.Fatalf("gave up after %d crashes, want 4 (max_frequency 3 + 1):\n%s", exits, strings.Join(r.events(0), "\n"))
	}
}
