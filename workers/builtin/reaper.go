package builtin

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/otpctl/otpctl/internal/keeper"
)

// forks is the set of OS pids that exec workers wait for themselves, so that
// ReapOrphans never reaps one of them. gate is held for reading by a fork
// from before it until its pid is in the set, and for writing by the reaper
// while it looks and reaps.
var forks struct {
	gate sync.RWMutex
	mu   sync.Mutex
	pids map[int]bool
}

func addFork(pid int) {
	forks.mu.Lock()
	defer forks.mu.Unlock()
	if forks.pids == nil {
		forks.pids = map[int]bool{}
	}
	forks.pids[pid] = true
}

func dropFork(pid int) {
	forks.mu.Lock()
	delete(forks.pids, pid)
	forks.mu.Unlock()
}

func isFork(pid int) bool {
	forks.mu.Lock()
	defer forks.mu.Unlock()
	return forks.pids[pid]
}

// ReapOrphans reaps, until ctx is done, the dead children of this process
// that no exec worker waits for: the orphaned grandchildren that the kernel
// hands to otpctl when it runs as PID 1 (in a container) or as a child
// subreaper (SetSubreaper). Without it they stay zombies. It looks each time
// a SIGCHLD arrives; the exec workers' own children are left to them.
func ReapOrphans(ctx context.Context) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGCHLD)
	defer signal.Stop(ch)
	reapOnce()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
			reapOnce()
		}
	}
}

// reapOnce reaps the dead children that are not exec workers' own.
func reapOnce() {
	forks.gate.Lock()
	defer forks.gate.Unlock()
	for _, pid := range childPids() {
		if isFork(pid) {
			continue
		}
		var ws syscall.WaitStatus
		_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
	}
}

// childPids lists this process's children (Linux /proc).
func childPids() []int { return keeper.ChildrenOf(os.Getpid()) }
