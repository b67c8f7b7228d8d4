//go:build linux

package cli

import (
	"bytes"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// reapGrace is how long a zombie child must have been one before `run`, as
// PID 1, reaps it. Its own workers' processes are reaped by their kinds at
// once (exec waits for its child all along); only orphans that the kernel
// handed to PID 1 stay zombies that long.
const reapGrace = time.Second

// startReaper reaps, as PID 1, the zombies that are not otpctl's own: on
// each SIGCHLD it lists the zombie children (/proc/*/stat) and reaps, by
// pid, those that are no live worker's (owns) and have been zombies for
// reapGrace; never with wait(-1),
// which would steal an exec worker's exit status. It returns a function
// that stops it.
func startReaper(log *slog.Logger, owns func(pid int) bool) (stop func()) {
	chld := make(chan os.Signal, 1)
	signal.Notify(chld, syscall.SIGCHLD)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		seen := map[int]time.Time{}
		var rescan <-chan time.Time
		for {
			select {
			case <-chld:
			case <-rescan:
			case <-quit:
				return
			}
			now := time.Now()
			next := map[int]time.Time{}
			for _, pid := range zombieChildren(os.Getpid()) {
				if owns(pid) {
					continue // its worker's kind reaps it
				}
				first, ok := seen[pid]
				if !ok {
					first = now
				}
				if now.Sub(first) >= reapGrace {
					var ws syscall.WaitStatus
					if got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil); err == nil && got == pid {
						log.Debug("reaped an orphan", "os_pid", pid)
					}
					continue
				}
				next[pid] = first
			}
			seen = next
			rescan = nil
			if len(seen) > 0 {
				rescan = time.After(reapGrace)
			}
		}
	}()
	return func() {
		signal.Stop(chld)
		close(quit)
		<-done
	}
}

// zombieChildren lists the pids of parent's children that are zombies.
func zombieChildren(parent int) []int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []int
	for _, d := range dirs {
		data, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(data, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(data[i+1:])
		if len(f) < 2 || string(f[0]) != "Z" {
			continue
		}
		if ppid, _ := strconv.Atoi(string(f[1])); ppid != parent {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(d)); err == nil {
			out = append(out, pid)
		}
	}
	return out
}
