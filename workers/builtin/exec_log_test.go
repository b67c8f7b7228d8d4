package builtin_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// log.file is rotated by size: with max_size 1MB and keep 2, a child that
// writes some 4 MB leaves its file and two rotated ones, none much over
// 1 MB, created 0600.
func TestExecLogFileRotates(t *testing.T) {
	checkNoOrphans(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "app.log")
	line := strings.Repeat("x", 70)
	tr := mustStartTree(t, execKind, execArgs(t,
		[]string{"sh", "-c", "yes " + line + " | head -n 40000"},
		map[string]any{"log": map[string]any{"file": file, "max_size": "1MB", "keep": 2}}),
		treeOpt{restart: runtime.Temporary})
	tr.event(runtime.EventExited)
	deadline := time.Now().Add(10 * time.Second)
	var names []string
	for {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		names = names[:0]
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if len(names) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("files after 10s: %v, want app.log and 2 rotated ones", names)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, n := range names {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(n, "app") || fi.Size() > 1<<20 {
			t.Errorf("%s: %d bytes, want an app*.log of 1 MB at most", n, fi.Size())
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", n, fi.Mode().Perm())
		}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	if !strings.Contains(first, " stdout[") || !strings.HasSuffix(first, "]: "+line) {
		t.Errorf("a line of the file reads %q, want TIME stdout[PID]: LINE", first)
	}
}

// A log.file whose folder does not exist fails the start, naming it.
func TestExecLogFileFolderMissing(t *testing.T) {
	file := filepath.Join(t.TempDir(), "nope", "app.log")
	_, err := startTree(t, execKind, execArgs(t, []string{"true"}, map[string]any{"log": map[string]any{"file": file}}), treeOpt{})
	if err == nil || !strings.Contains(err.Error(), "log.file "+file) {
		t.Fatalf("start: %v, want an error naming the log file", err)
	}
}

// Run as root, a log.file in a folder others may write fails the start,
// naming the folder: whoever writes it could point root's appends at any
// file with a symbolic link.
func TestExecLogFileFolderOthersCanWrite(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the check is made only when otpctl runs as root")
	}
	dir := filepath.Join(t.TempDir(), "open")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil { // past the umask
		t.Fatal(err)
	}
	_, err := startTree(t, execKind, execArgs(t, []string{"true"}, map[string]any{"log": map[string]any{"file": filepath.Join(dir, "app.log")}}), treeOpt{})
	if err == nil || !strings.Contains(err.Error(), dir+" is writable by") {
		t.Fatalf("start: %v, want a refusal naming %s", err, dir)
	}
}
