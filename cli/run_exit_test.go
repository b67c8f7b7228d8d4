package cli

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
)

// `otpctl run` exits with the status of the significant child whose exit
// ended the tree through auto_shutdown, so that a container's one-shot job
// reports how it went. (A transient child that exits with a non-zero
// status is restarted, as OTP restarts it after an abnormal exit: only a
// temporary one ends the tree so.)
func TestRunExitsWithTheSignificantChildsStatus(t *testing.T) {
	const tree = `version: 1
name: job
supervisor:
  auto_shutdown: any_significant
  children:
    - {name: helper, kind: echo}
    - {name: task, kind: exec, restart: %s, significant: true, args: {command: [sh, -c, %q]}}
`
	cases := []struct {
		restart, script string
		code            int
		reason          string
	}{
		{"temporary", "exit 7", 7, "exit status 7"},
		{"transient", "exit 0", 0, "normal"},
		{"temporary", "exit 0", 0, "normal"},
		{"temporary", "kill -INT $$$$", 130, "signal: interrupt"},
	}
	for _, c := range cases {
		t.Run(c.restart+" "+c.script, func(t *testing.T) {
			r := runYAML(t, "job.yaml", fmt.Sprintf(tree, c.restart, c.script))
			if code := r.wait(); code != c.code {
				t.Fatalf("run exited %d, want %d; stderr:\n%s", code, c.code, r.stderr())
			}
			// The task may exit before the tree's own started event
			// (its start is over once it is spawned): leave those out.
			var ev []string
			for _, e := range r.events(0) {
				if !strings.HasPrefix(e, "started ") {
					ev = append(ev, e)
				}
			}
			want := []string{"exited job/task " + c.reason, "terminated job/helper shutdown shutdown job/task", "exited job shutdown"}
			if strings.Join(ev, "\n") != strings.Join(want, "\n") {
				t.Errorf("events:\n%s", strings.Join(ev, "\n"))
			}
			msg := `"msg":"auto_shutdown: job/task exited (` + c.reason + `): exiting with status `
			if got := strings.Contains(r.stderr(), msg); got != (c.code != 0) {
				t.Errorf("the last line says why (%v); stderr:\n%s", c.code != 0, r.stderr())
			}
		})
	}
}

// A significant child that something outside otpctl kills with SIGTERM:
// run exits 143, as a shell reports it.
func TestRunExitsWithTheSignalOfAKilledSignificantChild(t *testing.T) {
	r := runYAML(t, "job.yaml", `version: 1
name: job
supervisor:
  auto_shutdown: any_significant
  children:
    - {name: task, kind: exec, restart: temporary, significant: true, args: {command: [sleep, "600"]}}
`)
	r.waitEvent(0, "started job boot")
	pid := r.node("job/task").OSPid
	if pid <= 0 {
		t.Fatalf("no OS pid for job/task")
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(); code != 143 {
		t.Fatalf("run exited %d, want 143; stderr:\n%s", code, r.stderr())
	}
}
