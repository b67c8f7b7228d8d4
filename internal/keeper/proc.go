package keeper

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Attr is what the keeper applies to a child besides its program,
// arguments, environment and folder: it starts it through the start helper
// (see helper_linux.go).
type Attr struct {
	// Cred is the child's uid, gid and groups; nil: otpctl's.
	Cred *Cred `json:"cred,omitempty"`
	// As names who the child runs as, for error messages.
	As     string  `json:"as,omitempty"`
	Umask  *int    `json:"umask,omitempty"`
	Limits []Limit `json:"limits,omitempty"`
}

// Cred is a child's uid, gid and supplementary groups.
type Cred struct {
	UID    uint32   `json:"uid"`
	GID    uint32   `json:"gid"`
	Groups []uint32 `json:"groups"`
}

// Limit is one resource limit: soft and hard are Value.
type Limit struct {
	Name  string `json:"name"`
	Value uint64 `json:"value"`
}

// ChildrenOf lists pid's children (Linux /proc).
func ChildrenOf(pid int) []int {
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

// statFields returns the fields of /proc/PID/stat after the command name
// (state first), or nil.
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 > len(s) {
		return nil
	}
	return strings.Fields(s[i+2:])
}

// ProcStat reads a process's state and process group.
func ProcStat(pid int) (state string, pgid int, ok bool) {
	f := statFields(pid)
	if len(f) < 3 {
		return "", 0, false
	}
	pgid, _ = strconv.Atoi(f[2])
	return f[0], pgid, true
}

// ProcStart reads a process's start time (clock ticks after boot): with its
// pid, it names one process, never one that reused the pid.
func ProcStart(pid int) (uint64, bool) {
	f := statFields(pid)
	if len(f) < 20 {
		return 0, false
	}
	n, err := strconv.ParseUint(f[19], 10, 64)
	return n, err == nil
}

// ProcEnv reads one variable of a process's environment ("" if unset or
// unreadable).
func ProcEnv(pid int, key string) string {
	v, _ := ProcEnvOK(pid, key)
	return v
}

// ProcEnvOK reads one variable of a process's environment, at most 1 MiB of
// it; readable is false when there was none to read (gone, not allowed, or
// in the middle of execve).
func ProcEnvOK(pid int, key string) (value string, readable bool) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return "", false
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, 1<<20))
	for _, kv := range strings.Split(string(b), "\x00") {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v, true
		}
	}
	return "", len(b) > 0
}
