package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otpctl/otpctl/internal/testrec"
)

// A script starts `run` in the background and `wait`s at once: wait must
// wait for the instance to come up and the node to exist, not fail because
// the socket is not there yet.
func TestWaitBeforeRun(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "ctl.sock")
	file := writeTree(t, dir, "shop.yaml", shopYAML)

	done, out := background(t, otpctlBin(t), nil, "wait", "shop/echo", "--socket", sock, "--timeout", "30s")

	r := startRun(t, dir, file, "--socket", sock)
	if err := <-done; err != nil {
		t.Fatalf("wait started before run: %v; it printed %q", err, out)
	}
	if n := r.node("shop/echo"); n.State != "running" {
		t.Errorf("wait returned while shop/echo is %s", n.State)
	}
}

// A wait for a node that never comes gives up at the timeout with one line
// that says why, and exit status 1.
func TestWaitTimesOutWithoutInstance(t *testing.T) {
	dir := t.TempDir()
	res := otpctl(t, []string{"XDG_RUNTIME_DIR=" + dir, "OTPCTL_SOCKET="},
		"wait", "shop/echo", "--socket", filepath.Join(dir, "none.sock"), "--timeout", "300ms")
	if res.code != ExitFailure || !strings.Contains(res.stderr, "shop/echo not running before the timeout") ||
		!strings.Contains(res.stderr, "no otpctl instance is running") {
		t.Errorf("wait without an instance: %+v", res)
	}
}

// background starts bin with args and env (added to the test's) and
// returns a channel that gets its exit error, then what it printed; it is
// killed at the end of the test if it still runs.
func background(t *testing.T, bin string, env []string, args ...string) (<-chan error, *testrec.Lines) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), raceNoExitSleep), env...)
	out := &testrec.Lines{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	exited := make(chan struct{})
	go func() { done <- cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	return done, out
}
