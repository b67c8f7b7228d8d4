//go:build linux

package keeper

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// The start helper applies to an exec child what Go's os.StartProcess
// cannot, between fork and exec: resource limits and the umask, with the
// user's credentials after them. The keeper starts it, for a child with
// user, group, umask or limits, as a re-exec of the running binary
// (/proc/self/exe, entered from this package's init when SpawnEnv is set),
// in the child's place: same pid, same process group, the child's stdio.
// It reads what to do from fd 3 (a pipe the keeper writes), then, in this
// order: sets the limits (as root, so a hard limit may be raised), the
// umask, the groups, gid and uid (setgroups, setgid, setuid, as su does),
// enters dir (as the user: a folder it cannot enter fails the start), sets
// its parent-death signal again (a change of credentials clears it) and
// execs the program. What fails is written to fd 4, a close-on-exec pipe
// the keeper reads until the exec closes it, and the start fails with it.
//
// Why not set them in the keeper: a limit set on the keeper for the time
// of a fork (cpu, as, nproc) could kill it or fail its own forks, and a
// hard limit lowered as non-root cannot be raised again. Why not prlimit
// on the child after the start: the program would already run.
const SpawnEnv = "OTPCTL_SPAWN"

// helperTimeout bounds how long the keeper waits for the helper to exec.
const helperTimeout = 10 * time.Second

// maxHelperSpec bounds what the helper reads (a spawn message's worth).
const maxHelperSpec = 2 * MaxMsg

// helperSpec is what the helper reads from fd 3.
type helperSpec struct {
	Path   string   `json:"path"`
	Argv   []string `json:"argv"`
	Env    []string `json:"env"`
	Dir    string   `json:"dir,omitempty"`
	Attr   *Attr    `json:"attr"`
	Keeper int      `json:"keeper"`
}

func init() {
	if os.Getenv(SpawnEnv) != "" {
		helperMain()
	}
}

// startHelped starts path through the helper with what attr says and the
// rest of pa, and returns once the program runs (the helper exec'd) or the
// helper said why it could not.
func startHelped(path string, argv []string, pa *os.ProcAttr, attr *Attr) (*os.Process, error) {
	spec, err := json.Marshal(helperSpec{Path: path, Argv: argv, Env: pa.Env, Dir: pa.Dir, Attr: attr, Keeper: os.Getpid()})
	if err != nil {
		return nil, err
	}
	// The spec goes through a pipe, written while the helper reads it (a
	// write to a helper that died fails, and the writer ends).
	specR, specW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer specR.Close()
	go func() {
		_, _ = specW.Write(spec)
		specW.Close()
	}()
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer statusR.Close()
	p, err := os.StartProcess("/proc/self/exe", []string{"otpctl-spawn"}, &os.ProcAttr{
		Env:   []string{SpawnEnv + "=1"},
		Files: append(pa.Files[:3:3], specR, statusW),
		Sys:   pa.Sys,
	})
	statusW.Close()
	if err != nil {
		return nil, fmt.Errorf("exec: starting the start helper: %w", err)
	}
	_ = statusR.SetReadDeadline(time.Now().Add(helperTimeout))
	msg, err := io.ReadAll(io.LimitReader(statusR, 4096))
	if len(msg) == 0 && err == nil {
		return p, nil // the exec closed the pipe
	}
	_ = p.Kill()
	_, _ = p.Wait()
	if len(msg) == 0 {
		msg = fmt.Appendf(nil, "exec: the start helper did not exec %s in %v: %v", path, helperTimeout, err)
	}
	return nil, errors.New(string(msg))
}

// The limits package syscall does not name (the same on every Linux
// architecture but alpha, mips, sparc and parisc, which Go does not build
// otpctl for).
const (
	rlimitNproc   = 6
	rlimitMemlock = 8
)

// limitResources maps limitNames to their RLIMIT_ numbers.
var limitResources = map[string]int{
	"nofile":  syscall.RLIMIT_NOFILE,
	"nproc":   rlimitNproc,
	"core":    syscall.RLIMIT_CORE,
	"memlock": rlimitMemlock,
	"stack":   syscall.RLIMIT_STACK,
	"as":      syscall.RLIMIT_AS,
	"cpu":     syscall.RLIMIT_CPU,
}

// helperMain is the start helper (see SpawnEnv). It does not return.
func helperMain() {
	status := os.NewFile(4, "status")
	syscall.CloseOnExec(4)
	fail := func(format string, args ...any) {
		_, _ = fmt.Fprintf(status, format, args...)
		syscall.Exit(127)
	}
	in := os.NewFile(3, "spec")
	b, err := io.ReadAll(io.LimitReader(in, maxHelperSpec))
	in.Close()
	var s helperSpec
	if err == nil {
		err = json.Unmarshal(b, &s)
	}
	if err != nil || s.Attr == nil {
		fail("exec: the start helper could not read what to start: %v", err)
	}
	a := s.Attr
	as := ""
	if a.As != "" {
		as = " as " + a.As
	}
	for _, l := range a.Limits {
		// syscall's, not unix's: it tells the exec not to put back the
		// soft nofile limit Go raised at its start.
		if err := syscall.Setrlimit(limitResources[l.Name], &syscall.Rlimit{Cur: l.Value, Max: l.Value}); err != nil {
			fail("exec: limits.%s: %v (otpctl may raise a hard limit only when it runs as root)", l.Name, err)
		}
	}
	if a.Umask != nil {
		syscall.Umask(*a.Umask)
	}
	if c := a.Cred; c != nil {
		groups := make([]int, len(c.Groups))
		for i, g := range c.Groups {
			groups[i] = int(g)
		}
		if err := syscall.Setgroups(groups); err != nil {
			fail("exec: setting the groups of the child%s: %v", as, err)
		}
		if err := syscall.Setgid(int(c.GID)); err != nil {
			fail("exec: setting gid %d%s: %v", c.GID, as, err)
		}
		if err := syscall.Setuid(int(c.UID)); err != nil {
			fail("exec: setting uid %d%s: %v", c.UID, as, err)
		}
	}
	if s.Dir != "" {
		if err := syscall.Chdir(s.Dir); err != nil {
			fail("exec: dir %s%s: %v (the child must be able to enter it)", s.Dir, as, err)
		}
	}
	// A change of credentials clears the parent-death signal.
	if err := prctl(prSetPdeathsig, uintptr(syscall.SIGKILL)); err != nil || os.Getppid() != s.Keeper {
		syscall.Exit(1) // the keeper is gone
	}
	err = syscall.Exec(s.Path, s.Argv, s.Env)
	fail("exec: %s%s: %v", s.Path, as, err)
}
