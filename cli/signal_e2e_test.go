package cli

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/otpctl/otpctl/control"
)

// sigTree is an exec child that traps HUP (it says so on its output) and is
// ready once the trap is set, beside an actor.
const sigTree = `version: 1
name: sig
supervisor:
  children:
    - name: trap
      kind: exec
      args:
        command: [sh, -c, 'trap "echo got HUP" HUP; echo trap set; while :; do sleep 0.1; done']
        ready: {log: '^trap set$', timeout: 30s}
    - name: counter
      kind: counter
`

// otpctl signal reaches the exec child's process group and is neither a
// restart nor a crash; an actor, a supervisor and an unknown signal are
// refused; a TERM that ends the child is an exit as any other.
func TestSignalReachesTheChildWithoutCountingACrash(t *testing.T) {
	r := runYAML(t, "sig.yaml", sigTree)
	r.waitEvent(0, "started sig boot")
	before := r.node("sig/trap")

	mark := r.count()
	if out := r.mustCtl("signal", "sig/trap", "SIGHUP"); out != "signalled sig/trap (HUP)\n" {
		t.Fatalf("signal printed %q", out)
	}
	r.waitStderr("got HUP")
	if l := r.line(r.waitEvent(mark, "signalled sig/trap")); l.Signal != "HUP" || l.OSPid != before.OSPid {
		t.Errorf("signalled event: %+v, want signal HUP, os_pid %d", l, before.OSPid)
	}
	after := r.node("sig/trap")
	if after.Restarts != 0 || after.OSPid != before.OSPid || after.LastExit != nil {
		t.Errorf("after HUP: restarts %d, os pid %d (was %d), last exit %+v; want the same process, no restart", after.Restarts, after.OSPid, before.OSPid, after.LastExit)
	}

	// Refusals: an actor (409 on the API), a supervisor, a bad name.
	res := r.ctl("signal", "sig/counter", "hup")
	if res.code != 1 || !strings.Contains(res.stderr, "only exec children take signals") {
		t.Errorf("signal to an actor: status %d, stderr %q", res.code, res.stderr)
	}
	socket := strings.TrimSpace(r.mustCtl("socket"))
	resp, err := rawClient(socket).Post("http://otpctl/v1/signal", "application/json", strings.NewReader(`{"path":"sig/counter","signal":"HUP"}`))
	if err != nil {
		t.Fatal(err)
	}
	var e control.Error
	json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || e.Code != control.CodeRefused || !strings.Contains(e.Message, "only exec children") {
		t.Errorf("POST /v1/signal to an actor: %d %+v, want 409 refused", resp.StatusCode, e)
	}
	if res := r.ctl("signal", "sig", "HUP"); res.code != 1 || !strings.Contains(res.stderr, "a supervisor has no OS process") {
		t.Errorf("signal to a supervisor: status %d, stderr %q", res.code, res.stderr)
	}
	res = r.ctl("signal", "sig/trap", "KILL")
	if res.code != 2 || !strings.Contains(res.stderr, "HUP, USR1, USR2, INT, TERM, QUIT, WINCH") {
		t.Errorf("signal KILL: status %d, stderr %q; want a usage error with the list", res.code, res.stderr)
	}

	// TERM ends it: an exit by itself, restarted as a crash.
	mark = r.count()
	r.mustCtl("signal", "sig/trap", "term")
	r.waitEvent(mark, "exited sig/trap signal: terminated")
	r.waitEvent(mark, "started sig/trap crash")
	n := r.node("sig/trap")
	if n.Restarts != 1 || n.CrashRestarts != 1 || n.LastExit == nil || n.LastExit.Reason != "signal: terminated" {
		t.Fatalf("after TERM: restarts %d, crash %d, last exit %+v; want 1, 1, signal: terminated", n.Restarts, n.CrashRestarts, n.LastExit)
	}

	// An operator's restart is counted apart.
	mark = r.count()
	r.mustCtl("restart", "sig/trap")
	r.waitEvent(mark, "started sig/trap operator")
	n = r.node("sig/trap")
	if n.Restarts != 2 || n.CrashRestarts != 1 || n.LastExit == nil || n.LastExit.Reason != "shutdown" {
		t.Fatalf("after restart: restarts %d, crash %d, last exit %+v; want 2, 1, shutdown", n.Restarts, n.CrashRestarts, n.LastExit)
	}
	text := r.mustCtl("tree")
	if !strings.Contains(text, "last exit: shutdown, ") || !strings.Contains(text, "1 operator or reload restart") {
		t.Errorf("tree does not show the last exit and the operator's restart:\n%s", text)
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "─ trap ") && !strings.Contains(line, " 1 (") {
			t.Errorf("tree's RESTARTS for trap is not its 1 crash restart: %q", line)
		}
	}

	// A child that is not running has no group to signal.
	r.mustCtl("stop", "sig/trap")
	if res := r.ctl("signal", "sig/trap", "HUP"); res.code != 1 || !strings.Contains(res.stderr, "it is stopped") {
		t.Errorf("signal to a stopped child: status %d, stderr %q", res.code, res.stderr)
	}
}
