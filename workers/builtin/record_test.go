package builtin_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/otpctl/otpctl/workers/builtin"
)

// startTime reads a process's start time from /proc/PID/stat.
func startTime(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+2:])[19]
}

// KeepRecord stops a dead run's recorded processes only when pid and start
// time both match (a reused pid is left alone), and only from a record that
// is a regular file of this user, no symlink, no larger than a record can be.
func TestKeepRecordStopsOnlyWhatTheDeadRunStarted(t *testing.T) {
	checkNoOrphans(t)
	t.Cleanup(builtin.DropRecord)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	deadRun := fmt.Sprintf(`{"pid":%d,"start":1}`, dead.Process.Pid) // gone
	for _, tc := range []struct {
		name     string
		write    func(t *testing.T, file, record string)
		rightPid bool // the record names the sleep with its start time
		stopped  bool
		err      string
	}{
		{"matching", writeFile, true, true, ""},
		{"reused pid", writeFile, false, false, ""},
		{"symlink", func(t *testing.T, file, record string) {
			writeFile(t, file+".real", record)
			if err := os.Symlink(file+".real", file); err != nil {
				t.Fatal(err)
			}
		}, true, false, "symbolic link"},
		{"other owner", func(t *testing.T, file, record string) {
			if os.Geteuid() != 0 {
				t.Skip("needs root to give the record away")
			}
			writeFile(t, file, record)
			if err := os.Chown(file, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}, true, false, "owned by uid 65534"},
		{"too large", func(t *testing.T, file, record string) {
			writeFile(t, file, record+strings.Repeat(" ", 2<<20))
		}, true, false, "more than a record can be"},
		{"fifo", func(t *testing.T, file, record string) {
			if err := syscall.Mkfifo(file, 0o600); err != nil {
				t.Fatal(err)
			}
		}, true, false, "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sleep := exec.Command("sleep", "1000")
			if err := sleep.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { sleep.Process.Kill(); sleep.Wait() }()
			start := startTime(t, sleep.Process.Pid)
			if !tc.rightPid {
				start += "1"
			}
			file := filepath.Join(t.TempDir(), "t.pids")
			tc.write(t, file, fmt.Sprintf(`{"otpctl":%s,"keepers":[],"children":[{"pid":%d,"start":%s}]}`, deadRun, sleep.Process.Pid, start))
			left, err := builtin.KeepRecord(file)
			builtin.DropRecord()
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("KeepRecord: %v; want %q", err, tc.err)
			}
			if got := len(left) == 1 && left[0].Pid == sleep.Process.Pid && left[0].Command == "sleep 1000"; got != tc.stopped {
				t.Fatalf("stopped %+v; want the sleep stopped: %v", left, tc.stopped)
			}
			if tc.stopped {
				var ws syscall.WaitStatus
				if _, err := syscall.Wait4(sleep.Process.Pid, &ws, 0, nil); err != nil || ws.Signal() != syscall.SIGKILL {
					t.Fatalf("sleep ended %v (%v), want SIGKILL", ws, err)
				}
			} else if err := sleep.Process.Signal(syscall.Signal(0)); err != nil {
				t.Fatalf("sleep was stopped: %v", err)
			}
		})
	}
}

func writeFile(t *testing.T, file, record string) {
	t.Helper()
	if err := os.WriteFile(file, []byte(record), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A record is a snapshot followed by the changes appended since, one per
// line (a child added, a child dropped), applied in order: the next run
// stops the children the changes add and not the ones they drop.
func TestKeepRecordAppliesAppendedChanges(t *testing.T) {
	checkNoOrphans(t)
	t.Cleanup(builtin.DropRecord)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	var sleeps []*exec.Cmd
	for range 3 {
		s := exec.Command("sleep", "1000")
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { s.Process.Kill(); s.Wait() }()
		sleeps = append(sleeps, s)
	}
	entry := func(s *exec.Cmd) string {
		return fmt.Sprintf(`{"pid":%d,"start":%s,"command":"sleep 1000"}`, s.Process.Pid, startTime(t, s.Process.Pid))
	}
	// sleeps[0] is in the snapshot and dropped after, sleeps[1] in the
	// snapshot, sleeps[2] added after.
	file := filepath.Join(t.TempDir(), "t.pids")
	writeFile(t, file, fmt.Sprintf(`{"otpctl":{"pid":%d,"start":1},"keepers":[],"children":[%s,%s]}`+"\n"+
		`{"drop":%d}`+"\n"+`{"add":%s}`+"\n",
		dead.Process.Pid, entry(sleeps[0]), entry(sleeps[1]), sleeps[0].Process.Pid, entry(sleeps[2])))
	left, err := builtin.KeepRecord(file)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, l := range left {
		got = append(got, l.Pid)
	}
	if want := []int{sleeps[1].Process.Pid, sleeps[2].Process.Pid}; fmt.Sprint(got) != fmt.Sprint(slices.Sorted(slices.Values(want))) {
		t.Fatalf("stopped %v; want %v (not %d, dropped)", got, want, sleeps[0].Process.Pid)
	}
	if err := sleeps[0].Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the dropped child was stopped: %v", err)
	}
}
