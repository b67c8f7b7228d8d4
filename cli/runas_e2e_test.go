package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otpctl/otpctl/internal/testuser"
)

// statusField reads the first field of a line of /proc/PID/status.
func statusField(pid int, key string) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, key+":"); ok {
			if f := strings.Fields(v); len(f) > 0 {
				return f[0]
			}
		}
	}
	return ""
}

// environOf reads one variable of a process's environment. A process in
// the middle of an execve reads as an empty environment for a moment: it
// is read again, for up to 5 s, while it is empty.
func environOf(pid int, key string) string {
	var b []byte
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		b, _ = os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if len(b) > 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, kv := range strings.Split(string(b), "\x00") {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// An exec child run as a real second user, with an env file: it and its
// own child run as the user; a changed env file counts at `otpctl restart`
// (no reload); and after kill -9 of otpctl nothing of it is left.
func TestRunAsUserEnvFileE2E(t *testing.T) {
	u := testuser.New(t) // skips, saying why, when not root
	dir := t.TempDir()
	mark := fmt.Sprintf("runas-%d-%d", os.Getpid(), time.Now().UnixNano())
	envFile := filepath.Join(dir, "app.env")
	if err := os.WriteFile(envFile, []byte("SECRET='one'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := writeTree(t, dir, "runas.yaml", fmt.Sprintf(`version: 1
name: runas
supervisor:
  children:
    - name: app
      kind: exec
      args:
        user: %s
        dir: /
        env_file: app.env
        env: {%s: %s-app}
        command: [sh, -c, "sleep 1000 & wait"]
`, u.Name, markEnv, mark))
	if res := runBinary(t, otpctlBin(t), nil, "validate", file); res.code != 0 {
		t.Fatalf("validate: %d %s%s", res.code, res.stdout, res.stderr)
	}
	r := startRun(t, dir, file, "--no-watch")
	r.waitStderr(`"msg":"running"`)
	shapes := []shape{{"app", nil, 2}}
	procs := awaitShapes(t, mark, shapes)["app"]
	for _, p := range procs {
		if uid := statusField(p.pid, "Uid"); uid != strconv.Itoa(u.UID) {
			t.Errorf("process %d runs as uid %s; want %d (%s)", p.pid, uid, u.UID, u.Name)
		}
		if s := environOf(p.pid, "SECRET"); s != "one" {
			t.Errorf("process %d SECRET=%q; want one", p.pid, s)
		}
	}
	if err := os.WriteFile(envFile, []byte("SECRET=two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.mustCtl("restart", "runas/app")
	awaitGoneWithin(t, "the first app after otpctl restart", procs, goneWithin)
	procs = awaitShapes(t, mark, shapes)["app"]
	for _, p := range procs {
		if s := environOf(p.pid, "SECRET"); s != "two" {
			t.Errorf("after otpctl restart, process %d SECRET=%q; want two (the env file changed)", p.pid, s)
		}
	}
	if err := r.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-r.done
	awaitGoneWithin(t, "app after kill -9 of otpctl", procs, goneWithin)
}

// validate reports a variable that nothing defines at its FILE:LINE:COL,
// and an env file that does not exist, and exits 1.
func TestValidateVariablesE2E(t *testing.T) {
	dir := t.TempDir()
	file := writeTree(t, dir, "vars.yaml", `version: 1
name: vars
supervisor:
  children:
    - name: app
      kind: exec
      args:
        env_file: missing.env
        command: [server, "--port=${OTPCTL_TEST_UNSET_PORT}", "${HOME:-/}", "$${literal}"]
`)
	res := runBinary(t, otpctlBin(t), nil, "validate", file)
	out := res.stdout + res.stderr
	for _, want := range []string{
		file + ":8:19: args.env_file: env file " + filepath.Join(dir, "missing.env") + " does not exist",
		file + ":9:27: args.command[1]: undefined variable OTPCTL_TEST_UNSET_PORT",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("validate says:\n%s\nwant a line with %q", out, want)
		}
	}
	if res.code != 1 || strings.Count(out, "args.") != 2 {
		t.Errorf("validate exited %d with:\n%s\nwant 1 and two errors", res.code, out)
	}
}
