package cli

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// A SIGTERM to otpctl's whole process group (`kill -TERM -- -PGID`,
// `timeout`, a systemd unit whose KillMode sends it to every process)
// reaches otpctl's keeper too. otpctl then stops the tree in order, each
// child with its stop_signal and its shutdown time; the keeper must not cut
// that short by killing every child at once (it did: the child was logged
// terminated with "otpctl's keeper process died").
func TestGroupSIGTERMStopsTheTreeInOrder(t *testing.T) {
	dir := t.TempDir()
	file := writeTree(t, dir, "grp.yaml", `version: 1
name: grp
supervisor:
  children:
    - name: app
      kind: exec
      shutdown: 10s
      args:
        command: [sh, -c, "trap 'echo got TERM; exit 0' TERM; echo up; while :; do sleep 0.05; done"]
        ready: {log: "^up$"}
`)
	r := startRunWith(t, otpctlBin(t), dir, file, func(c *exec.Cmd) {
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}, "--no-watch")
	r.waitEvent(0, "started grp boot")
	if err := syscall.Kill(-r.cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(); code != 0 {
		t.Fatalf("run exited %d; stderr:\n%s", code, r.stderr())
	}
	i := r.waitEvent(0, "terminated grp/app")
	if got := r.line(i).String(); got != "terminated grp/app shutdown shutdown" {
		t.Errorf("%s; want the child stopped by its stop_signal (reason shutdown, cause shutdown)", got)
	}
	if !strings.Contains(r.stderr(), "got TERM") {
		t.Errorf("the child never had its SIGTERM; stderr:\n%s", r.stderr())
	}
}
