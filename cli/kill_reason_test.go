package cli

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// `otpctl kill --reason shutdown:TEXT`, and the API's reason in the same
// form, is OTP's {shutdown, Term}: a transient child is not restarted, a
// permanent one is, and the events show the text. A supervisor refuses it.
func TestRunKillWithShutdownTerm(t *testing.T) {
	r := runYAML(t, "app.yaml", `version: 1
name: app
supervisor:
  max_frequency: 3
  children:
    - {name: once, kind: echo, restart: transient}
    - {name: web, kind: echo}
    - name: pool
      supervisor:
        children: [{name: w, kind: echo}]
`, "--socket", filepath.Join(t.TempDir(), "ctl.sock"))
	r.waitEvent(0, "started app boot")

	mark := r.count()
	r.mustCtl("kill", "app/once", "--reason", "shutdown:maintenance")
	r.mustCtl("wait", "app/once", "--state", "stopped", "--timeout", "10s")
	resp, err := rawClient(r.socket).Post("http://otpctl/v1/kill", "application/json",
		strings.NewReader(`{"path":"app/web","reason":"shutdown:deploy"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /v1/kill: status %d", resp.StatusCode)
	}
	r.waitEvent(mark, "started app/web crash app/web")
	// The supervisor handles its children's exits in order: nothing
	// restarted once before web's exit.
	expectLines(t, r.events(mark), []string{
		"exited app/once shutdown:maintenance",
		"exited app/web shutdown:deploy",
		"started app/web crash app/web",
	})
	if n := r.node("app/once"); n.State != "stopped" {
		t.Errorf("once after kill --reason shutdown:maintenance: %+v", n)
	}

	res := r.ctl("kill", "app/pool", "--reason", "shutdown:maintenance")
	if res.code != 1 || !strings.Contains(res.stderr, "a supervisor exits only with killed") {
		t.Errorf("kill a supervisor with shutdown:TEXT: %+v", res)
	}
}
