//go:build linux

package keeper

import (
	"bufio"
	"os/exec"
	"slices"
	"strconv"
	"syscall"
	"testing"
)

// readChildren, which skips the read that would only say "the end", lists
// every child of a thread whose children file takes several pages, as
// ChildrenOf (a plain read of every thread's file) does.
func TestReadChildrenManyPages(t *testing.T) {
	const n = 1200 // about 7 KB of pids: two pages and a bit
	sh := exec.Command("sh", "-c", `i=0; while [ $i -lt `+strconv.Itoa(n)+` ]; do sleep 1000 & i=$((i+1)); done; echo ready; wait`)
	sh.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := sh.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = syscall.Kill(-sh.Process.Pid, syscall.SIGKILL)
		_ = sh.Wait()
	}()
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("sh said %q, %v", line, err)
	}
	pid := sh.Process.Pid
	got, _ := readChildren("/proc/"+strconv.Itoa(pid)+"/task/"+strconv.Itoa(pid)+"/children", nil)
	want := ChildrenOf(pid)
	slices.Sort(got)
	slices.Sort(want)
	if len(want) != n || !slices.Equal(got, want) {
		t.Fatalf("readChildren: %d pids, ChildrenOf: %d (want %d); equal: %v", len(got), len(want), n, slices.Equal(got, want))
	}
	// With a small buffer to start with, grown read by read.
	got, _ = readChildren("/proc/"+strconv.Itoa(pid)+"/task/"+strconv.Itoa(pid)+"/children", make([]byte, 0, 100))
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("readChildren from a 100-byte buffer: %d pids, want %d", len(got), len(want))
	}
}
