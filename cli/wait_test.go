package cli

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A script starts `run` in the background and `wait`s at once: wait must
// wait for the instance to come up and the node to exist, not fail because
// the socket is not there yet.
func TestWaitBeforeRun(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "ctl.sock")
	file := writeTree(t, dir, "shop.yaml", shopYAML)

	w := exec.Command(otpctlBin(t), "wait", "shop/echo", "--socket", sock, "--timeout", "30s")
	var out strings.Builder
	w.Stdout, w.Stderr = &out, &out
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Wait() }()

	r := startRun(t, dir, file, "--socket", sock)
	if err := <-done; err != nil {
		t.Fatalf("wait started before run: %v; it printed %q", err, out.String())
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
