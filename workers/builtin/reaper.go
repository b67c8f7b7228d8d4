package builtin

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
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
func childPids() []int { return childrenOf(os.Getpid()) }

// childrenOf lists pid's children (Linux /proc).
func childrenOf(pid int) []int {
	var out []int
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil
	}
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		if err != nil {
			continue
		}
		for _, s := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(s); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}
