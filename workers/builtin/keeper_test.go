package builtin_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/workers/builtin"
)

// A program that forks into the background and exits 0 before it is ready
// fails its start with an error that says it may have daemonized, and its
// daemon (setsid'd, out of the child's group) is stopped with it; one that
// does so once started exits with that reason, not normally.
func TestExecDaemonized(t *testing.T) {
	checkNoOrphans(t)
	daemon := []string{"sh", "-c", "setsid sleep 1000 & echo $!; exit 0"}
	tr, err := startTree(t, execKind, execArgs(t, daemon, map[string]any{"ready": map[string]any{"delay": "60s"}}), treeOpt{})
	var de *builtin.DaemonizedError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "exited before it was ready") ||
		!strings.Contains(err.Error(), "it may have daemonized: run it in the foreground") {
		t.Fatalf("start error = %v; want exited before it was ready ... it may have daemonized: run it in the foreground", err)
	}
	var pids []int
	for _, r := range tr.logs.All() {
		if pid, err := strconv.Atoi(r.Attrs["line"]); err == nil {
			pids = append(pids, pid)
		}
	}
	if len(pids) != 1 {
		t.Fatalf("pids %v: want the daemon's", pids)
	}
	awaitGone(t, pids[0])

	tr = mustStartTree(t, execKind, execArgs(t, daemon, nil), treeOpt{restart: runtime.Temporary})
	if e := tr.event(runtime.EventExited); !errors.As(e.Reason, &de) {
		t.Fatalf("exited %v, want it may have daemonized", e.Reason)
	}
	awaitGone(t, pidLine(t, tr))
}
