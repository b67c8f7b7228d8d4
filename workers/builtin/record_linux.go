//go:build linux

package builtin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/otpctl/otpctl/internal/keeper"
	"golang.org/x/sys/unix"
)

// The record: what this process started (its keepers and exec children,
// each a pid with its start time), kept in a file so that the next run of
// the same tree can stop what a crash left behind, should the keeper have
// died with otpctl before it could (kill -9 of both, an OOM kill of the
// whole group).

// maxRecord bounds a record file.
const maxRecord = 1 << 20

// recProc names one process: a pid with its start time (so that a pid the
// kernel gave to another process since is never taken for it).
type recProc struct {
	Pid     int    `json:"pid"`
	Start   uint64 `json:"start"`
	Marker  string `json:"marker,omitempty"`  // a keeper's: its children's keeper.ChildEnv prefix
	Command string `json:"command,omitempty"` // an exec child's
}

type recFile struct {
	Otpctl   recProc   `json:"otpctl"`
	Keepers  []recProc `json:"keepers"`
	Children []recProc `json:"children"`
}

// recChange is one change to a record's children, appended to the file
// after its snapshot (a recFile): a child started (Add) or gone (Drop, its
// pid). A reader applies them in order.
type recChange struct {
	Add  *recProc `json:"add,omitempty"`
	Drop int      `json:"drop,omitempty"`
}

var record struct {
	mu       sync.Mutex
	file     string // "" until KeepRecord
	self     recProc
	keepers  map[int]recProc
	children map[int]recProc
	// out is the file as last written, open to append changes to;
	// appended counts the changes after its snapshot.
	out      *os.File
	appended int
}

// compactAfter is how many changes, beyond one per child recorded, are
// appended before the record is written again as one snapshot: a change
// costs one small write whatever the number of children, and the file stays
// within a few times a snapshot's size.
const compactAfter = 64

// KeepRecord has this process keep, in file, the record of the exec
// children it starts and their keeper. It first reads what a previous run
// recorded there: if that run's process is gone, whatever it started still
// runs (the recorded processes, matched by pid and start time, and every
// process that carries the keeper.ChildEnv marker of a recorded keeper) is
// SIGKILLed, and returned. A record not owned by the effective user, not a
// regular file, or larger than maxRecord is refused.
func KeepRecord(file string) ([]Leftover, error) {
	left, err := stopLeftovers(file)
	record.mu.Lock()
	defer record.mu.Unlock()
	record.file = file
	start, _ := keeper.ProcStart(os.Getpid())
	record.self = recProc{Pid: os.Getpid(), Start: start}
	initRecordLocked()
	if werr := writeRecordLocked(); werr != nil && err == nil {
		err = werr
	}
	return left, err
}

// DropRecord removes the record file, once this process stopped everything
// it started.
func DropRecord() {
	record.mu.Lock()
	defer record.mu.Unlock()
	if record.file != "" {
		_ = os.Remove(record.file)
		record.file = ""
	}
	if record.out != nil {
		_ = record.out.Close()
		record.out = nil
	}
}

func initRecordLocked() {
	if record.keepers == nil {
		record.keepers = map[int]recProc{}
		record.children = map[int]recProc{}
	}
}

// recordKeeper adds (up) or removes a keeper.
func recordKeeper(pid int, marker string, up bool) {
	record.mu.Lock()
	defer record.mu.Unlock()
	initRecordLocked()
	if up {
		start, _ := keeper.ProcStart(pid)
		record.keepers[pid] = recProc{Pid: pid, Start: start, Marker: marker}
	} else {
		delete(record.keepers, pid)
	}
	_ = writeRecordLocked()
}

// recordChild adds (up) or removes an exec child: one change appended to
// the record (see recChange), not the whole record written again.
func recordChild(pid int, argv []string, up bool) {
	record.mu.Lock()
	defer record.mu.Unlock()
	initRecordLocked()
	ch := recChange{Drop: pid}
	if up {
		start, _ := keeper.ProcStart(pid)
		cmd := strings.Join(argv, " ")
		if len(cmd) > 200 {
			cmd = cmd[:200]
		}
		p := recProc{Pid: pid, Start: start, Command: cmd}
		record.children[pid] = p
		ch = recChange{Add: &p}
	} else {
		delete(record.children, pid)
	}
	if record.out == nil || record.appended >= len(record.children)+compactAfter {
		_ = writeRecordLocked()
		return
	}
	b, err := json.Marshal(ch)
	if err == nil {
		_, err = record.out.Write(append(b, '\n'))
	}
	if err != nil {
		_ = writeRecordLocked()
		return
	}
	record.appended++
}

// writeRecordLocked writes the record atomically (a temporary file renamed
// over it), mode 0600, as one snapshot, and keeps the file open for the
// changes that follow.
func writeRecordLocked() error {
	if record.file == "" {
		return nil
	}
	rf := recFile{Otpctl: record.self, Keepers: sortedProcs(record.keepers), Children: sortedProcs(record.children)}
	b, err := json.Marshal(rf)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(record.file), "."+filepath.Base(record.file)+".*")
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	_, werr := tmp.Write(append(b, '\n'))
	if werr == nil {
		werr = os.Rename(tmp.Name(), record.file)
	}
	if werr != nil {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("record: %w", werr)
	}
	if record.out != nil {
		_ = record.out.Close()
	}
	record.out, record.appended = tmp, 0
	return nil
}

func sortedProcs(m map[int]recProc) []recProc {
	out := make([]recProc, 0, len(m))
	for _, p := range m {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pid < out[j].Pid })
	return out
}

// readRecord reads a record file: no symlink, a regular file owned by the
// effective user, at most maxRecord bytes. A missing file is no record.
func readRecord(file string) (*recFile, error) {
	fd, err := unix.Open(file, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", file, err)
	}
	f := os.NewFile(uintptr(fd), file)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("record %s: %w", file, err)
	}
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return nil, fmt.Errorf("record %s: not a regular file: left alone", file)
	case int(st.Uid) != os.Geteuid():
		return nil, fmt.Errorf("record %s: owned by uid %d, not by this user: left alone", file, st.Uid)
	case st.Size > maxRecord:
		return nil, fmt.Errorf("record %s: %d bytes, more than a record can be (%d): left alone", file, st.Size, maxRecord)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxRecord))
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", file, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var rf recFile
	if err := dec.Decode(&rf); err != nil {
		return nil, fmt.Errorf("record %s: %w", file, err)
	}
	children := map[int]recProc{}
	for _, c := range rf.Children {
		children[c.Pid] = c
	}
	for {
		// A change cut short (the machine stopped mid-write) ends the
		// record: what came before it holds.
		var ch recChange
		if dec.Decode(&ch) != nil {
			break
		}
		if ch.Add != nil {
			children[ch.Add.Pid] = *ch.Add
		} else {
			delete(children, ch.Drop)
		}
	}
	rf.Children = sortedProcs(children)
	return &rf, nil
}

// running reports whether the recorded process still runs (same pid, same
// start time, not a zombie).
func (p recProc) running() bool {
	if p.Pid <= 0 {
		return false
	}
	start, ok := keeper.ProcStart(p.Pid)
	state, _, _ := keeper.ProcStat(p.Pid)
	return ok && start == p.Start && state != "Z"
}

// stopLeftovers stops what the run recorded in file left running, if that
// run's process is gone.
func stopLeftovers(file string) ([]Leftover, error) {
	rf, err := readRecord(file)
	if rf == nil {
		return nil, err
	}
	if rf.Otpctl.running() && rf.Otpctl.Pid != os.Getpid() {
		return nil, fmt.Errorf("record %s: its otpctl (pid %d) still runs: left alone", file, rf.Otpctl.Pid)
	}
	var markers []string
	for _, k := range rf.Keepers {
		if k.Marker != "" {
			markers = append(markers, k.Marker+"/")
		}
	}
	found := map[int]Leftover{}
	deadline := time.Now().Add(reapWait)
	for {
		var targets []int
		for _, c := range rf.Children {
			if c.running() {
				_ = unix.Kill(-c.Pid, syscall.SIGKILL) // its group: its pid is still its own
				targets = append(targets, c.Pid)
			}
		}
		targets = append(targets, markedProcs(markers)...)
		for _, k := range rf.Keepers {
			if k.running() {
				targets = append(targets, k.Pid)
			}
		}
		if len(targets) == 0 || time.Now().After(deadline) {
			break
		}
		for _, pid := range targets {
			if _, seen := found[pid]; !seen {
				found[pid] = Leftover{Pid: pid, Command: procCmdline(pid)}
			}
			_ = unix.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(time.Millisecond)
	}
	out := make([]Leftover, 0, len(found))
	for _, l := range found {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pid < out[j].Pid })
	return out, nil
}

// markedProcs lists the live processes of this user whose keeper.ChildEnv starts
// with one of the prefixes.
func markedProcs(prefixes []string) []int {
	if len(prefixes) == 0 {
		return nil
	}
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		v := keeper.ProcEnv(pid, keeper.ChildEnv)
		if v == "" {
			continue
		}
		for _, p := range prefixes {
			if strings.HasPrefix(v, p) {
				if st, _, ok := keeper.ProcStat(pid); ok && st != "Z" {
					out = append(out, pid)
				}
				break
			}
		}
	}
	return out
}

// procCmdline reads a process's command line, spaces for NULs, at most 200
// bytes.
func procCmdline(pid int) string {
	f, err := os.Open(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return ""
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, 200))
	return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}
