package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otpctl/otpctl/live"
)

// slowTreeYAML has a nested exec child whose readiness never comes (a log
// line that is never printed, with a timeout far past any test's wait), so
// a run that waits for it cannot end in time. Each exec child carries the
// test's marker as its $0, so /proc shows which processes are this test's.
func slowTreeYAML(marker string) string {
	return fmt.Sprintf(`version: 1
name: slow
supervisor:
  children:
    - name: first
      kind: exec
      args: {command: ["sh", "-c", "echo up; while :; do sleep 1; done", "%[1]s-first"], ready: {log: "up"}}
    - name: back
      supervisor:
        children:
          - name: db
            kind: exec
            shutdown: 10s
            args: {command: ["sh", "-c", "while :; do sleep 1; done", "%[1]s-db"], ready: {log: "never", timeout: 1h}}
          - {name: after, kind: echo}
    - {name: last, kind: echo}
`, marker)
}

// markedPids returns the pids of the processes whose command line holds
// marker.
func markedPids(t *testing.T, marker string) []int {
	t.Helper()
	var out []int
	eachProc(t, func(pid int, dir string) {
		cmd, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err == nil && bytes.Contains(cmd, []byte(marker)) {
			out = append(out, pid)
		}
	})
	return out
}

// eachProc calls f with each process's pid and /proc folder.
func eachProc(t *testing.T, f func(pid int, dir string)) {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			f(pid, filepath.Join("/proc", e.Name()))
		}
	}
}

// liveInGroup returns the processes of process group pgid that are not
// zombies (a zombie whose parent has not reaped it yet runs nothing).
func liveInGroup(t *testing.T, pgid int) []string {
	t.Helper()
	var out []string
	eachProc(t, func(pid int, dir string) {
		stat, err := os.ReadFile(filepath.Join(dir, "stat"))
		// pid (comm) state ppid pgrp ...: comm may hold spaces.
		i := bytes.LastIndexByte(stat, ')')
		if err != nil || i < 0 {
			return
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) >= 3 && f[2] == strconv.Itoa(pgid) && f[0] != "Z" {
			out = append(out, string(stat[:i+1])+" "+f[0])
		}
	})
	return out
}

// awaitMarked waits until a process with marker runs, and returns its pid.
func awaitMarked(t *testing.T, marker string) int {
	t.Helper()
	deadline := time.Now().Add(e2eTimeout)
	for time.Now().Before(deadline) {
		if pids := markedPids(t, marker); len(pids) > 0 {
			return pids[0]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no process of %s runs", marker)
	return 0
}

// awaitStartingNode polls `otpctl tree` until path is starting.
func (r *runner) awaitStartingNode(path string) *live.Node {
	r.t.Helper()
	deadline := time.Now().Add(e2eTimeout)
	for time.Now().Before(deadline) {
		if n := r.tree().Find(path); n != nil && n.State == "starting" {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.t.Fatalf("%s is never shown starting; stderr:\n%s", path, r.stderr())
	return nil
}

// Regression (issue 14): while an exec child waited for its readiness,
// `otpctl tree`, `events`, `wait` hung and SIGTERM / `otpctl shutdown` were
// ignored until the ready timeout. Now the tree shows the child starting,
// the commands answer, and a stop ends the run at once, with status 0: the
// starting child is stopped, then the started ones in reverse order, and
// no process of the tree is left.
func TestRunAnswersAndStopsWhileAChildStarts(t *testing.T) {
	for _, how := range []string{"shutdown", "SIGTERM"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			marker := fmt.Sprintf("otpctl-f2-%d-%s", os.Getpid(), how)
			file := writeTree(t, dir, "slow.yaml", slowTreeYAML(marker))
			r := startRun(t, dir, file, "--socket", filepath.Join(dir, "ctl.sock"))
			r.waitEvent(0, "started slow/first boot")
			firstPid := awaitMarked(t, marker+"-first")
			dbPid := awaitMarked(t, marker+"-db")

			n := r.awaitStartingNode("slow/back/db")
			if n.Pid == "" {
				t.Errorf("the starting child has no pid: %+v", n)
			}
			tree := r.tree()
			for path, want := range map[string]string{"slow": "starting", "slow/first": "running", "slow/back": "starting"} {
				if got := tree.Find(path); got == nil || string(got.State) != want {
					t.Errorf("%s: %+v, want %s", path, got, want)
				}
			}
			if tree.Find("slow/last") != nil || tree.Find("slow/back/after") != nil {
				t.Error("a child after the starting one is in the tree: children start one after another")
			}
			if out := r.mustCtl("tree"); !strings.Contains(out, "starting") {
				t.Errorf("otpctl tree does not say starting:\n%s", out)
			}
			r.mustCtl("wait", "slow/back/db", "--state", "starting", "--timeout", "30s")
			if out := r.mustCtl("events"); !strings.Contains(out, "slow/first") {
				t.Errorf("otpctl events:\n%s", out)
			}

			mark := r.count()
			if how == "shutdown" {
				r.mustCtl("shutdown")
			} else {
				r.sig(syscall.SIGTERM)
			}
			if code := r.wait(); code != 0 {
				t.Fatalf("run exited %d; stderr:\n%s", code, r.stderr())
			}
			expectLines(t, r.events(mark), []string{
				"terminated slow/back/db shutdown shutdown",
				"terminated slow/back shutdown shutdown",
				"terminated slow/first shutdown shutdown",
				"terminated slow shutdown shutdown",
			})
			if !strings.Contains(r.stderr(), "stopped while starting") {
				t.Errorf("stderr:\n%s", r.stderr())
			}
			for _, pid := range []int{firstPid, dbPid} {
				if live := liveInGroup(t, pid); len(live) > 0 {
					t.Errorf("processes of group %d are left: %v", pid, live)
				}
			}
			if left := markedPids(t, marker); len(left) > 0 {
				t.Errorf("processes of the tree are left: %v", left)
			}
		})
	}
}

// A second SIGINT kills the tree at once also when the first one came
// during a child's start and the stop is stuck on a child that ignores it.
func TestRunSecondSIGINTKillsAtOnceWhileAChildStarts(t *testing.T) {
	dir := t.TempDir()
	marker := fmt.Sprintf("otpctl-f2-%d-sigint", os.Getpid())
	file := writeTree(t, dir, "stuck.yaml", fmt.Sprintf(`version: 1
name: stuck
supervisor:
  children:
    - name: mule
      kind: exec
      shutdown: infinity
      args: {command: ["sh", "-c", "trap '' TERM INT; echo up; while :; do sleep 1; done", "%[1]s-mule"], ready: {log: "up"}}
    - name: slow
      kind: exec
      args: {command: ["sh", "-c", "while :; do sleep 1; done", "%[1]s-slow"], ready: {log: "never", timeout: 1h}}
`, marker))
	r := startRun(t, dir, file, "--socket", filepath.Join(dir, "ctl.sock"))
	r.waitEvent(0, "started stuck/mule boot")
	mulePid := awaitMarked(t, marker+"-mule")
	r.awaitStartingNode("stuck/slow")
	mark := r.count()
	r.sig(syscall.SIGINT)
	r.waitEvent(mark, "terminated stuck/slow shutdown")
	r.sig(syscall.SIGINT) // mule ignores SIGTERM and its shutdown is infinity: only this ends it
	if code := r.wait(); code != ExitFailure {
		t.Fatalf("run exited %d; stderr:\n%s", code, r.stderr())
	}
	if !strings.Contains(r.stderr(), "killed at once") {
		t.Errorf("stderr:\n%s", r.stderr())
	}
	if live := liveInGroup(t, mulePid); len(live) > 0 {
		t.Errorf("processes of mule's group %d are left: %v", mulePid, live)
	}
	if left := markedPids(t, marker); len(left) > 0 {
		t.Errorf("processes of the tree are left: %v", left)
	}
}
