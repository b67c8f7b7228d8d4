package builtin_test

import (
	"context"
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/workers/builtin"
)

// The test process is a subreaper (TestMain): ReapOrphans reaps the
// grandchildren that stopped workers leave to it, and never the workers' own
// children, whose exit statuses their workers still read.
func TestReapOrphans(t *testing.T) {
	checkNoOrphans(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { builtin.ReapOrphans(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	tr := mustStartTree(t, execKind, execArgs(t, []string{"sh", "-c", "sleep 1000 & echo $!; wait"},
		map[string]any{"ready": map[string]any{"log": "^[0-9]+$"}}), treeOpt{})
	grandchild := pidLine(t, tr)
	if err := tr.sup.TerminateChild("w"); err != nil {
		t.Fatal(err)
	}
	tr.event(runtime.EventTerminated)
	// Wait for it to vanish, without reaping it here.
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, ppid, _ := procState(grandchild)
		if st == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("grandchild %d still there: state %s, parent %d", grandchild, st, ppid)
		}
		time.Sleep(5 * time.Millisecond)
	}

	for range 20 {
		tr := mustStartTree(t, execKind, execArgs(t, []string{"sh", "-c", "sleep 100 & exit 3"}, nil), treeOpt{restart: runtime.Temporary})
		if e := tr.event(runtime.EventExited); e.Reason == nil || e.Reason.Error() != "exit status 3" {
			t.Fatalf("exited %v with the reaper running, want exit status 3", e.Reason)
		}
		tr.stop()
	}
}
