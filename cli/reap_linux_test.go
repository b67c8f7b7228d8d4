//go:build linux

package cli

import (
	"io"
	"log/slog"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"
)

// zombie forks `true` with nobody waiting for it, and waits until it is a
// zombie child of this process.
func zombie(t *testing.T) int {
	t.Helper()
	pid, err := syscall.ForkExec("/bin/true", []string{"true"}, &syscall.ProcAttr{})
	if err != nil {
		t.Skipf("cannot fork /bin/true: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Contains(zombieChildren(os.Getpid()), pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d never became a zombie", pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return pid
}

func TestReaperReapsOnlyWhatIsNotOurs(t *testing.T) {
	ours, orphan := zombie(t), zombie(t)
	defer syscall.Wait4(ours, nil, 0, nil)
	stop := startReaper(slog.New(slog.NewTextHandler(io.Discard, nil)), func(pid int) bool { return pid == ours })
	defer stop()
	syscall.Kill(os.Getpid(), syscall.SIGCHLD) // the children exited before the reaper listened
	deadline := time.Now().Add(30 * time.Second)
	for slices.Contains(zombieChildren(os.Getpid()), orphan) {
		if time.Now().After(deadline) {
			t.Fatalf("the orphan %d was not reaped", orphan)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The scan that reaped the orphan saw ours and left it: its kind
	// waits for it.
	if !slices.Contains(zombieChildren(os.Getpid()), ours) {
		t.Fatalf("the reaper took %d, which is ours", ours)
	}
}
