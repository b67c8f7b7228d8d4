//go:build unix && !linux

package builtin

import (
	"errors"
	"os/exec"
	"syscall"
	"time"
)

// SetSubreaper is not supported outside Linux.
func SetSubreaper() error { return errors.ErrUnsupported }

// osLink is unused here: otpctl forks and signals its children itself.
type osLink struct{}

// signalGroup sends sig to the process group. o.mu is held.
func (o *osProc) signalGroup(sig syscall.Signal) { _ = syscall.Kill(-o.pid, sig) }

// forkAndWait starts cmd in its own process group and returns its pid; done
// is called, on another goroutine, once the process has exited and been
// reaped, with its exit reason. Outside Linux there is no keeper (no child
// subreaper): what the process leaves outside its group may outlive it.
func (o *osProc) forkAndWait(cmd *exec.Cmd, done func(reason error, left int)) (int, error) {
	cmd.WaitDelay = 2 * time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if a := o.attr; a != nil {
		if a.Umask != nil || len(a.Limits) > 0 {
			return 0, errors.New("exec: umask and limits are supported on Linux only")
		}
		if c := a.Cred; c != nil {
			cmd.SysProcAttr.Credential = &syscall.Credential{Uid: c.UID, Gid: c.GID, Groups: c.Groups}
		}
	}
	started := make(chan error, 1)
	go func() {
		forks.gate.RLock()
		if err := cmd.Start(); err != nil {
			forks.gate.RUnlock()
			started <- err
			return
		}
		pid := cmd.Process.Pid
		addFork(pid)
		forks.gate.RUnlock()
		defer dropFork(pid)
		o.mu.Lock()
		o.pid = pid
		if o.doomed {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
		o.mu.Unlock()
		started <- nil
		err := cmd.Wait()
		o.mu.Lock()
		o.exited = true
		o.mu.Unlock()
		close(o.reaped)
		if cmd.ProcessState != nil {
			err = exitReason(cmd.ProcessState)
		}
		done(err, 0)
	}()
	if err := <-started; err != nil {
		return 0, err
	}
	return cmd.Process.Pid, nil
}

// KeepRecord does nothing outside Linux (no /proc start times).
func KeepRecord(string) ([]Leftover, error) { return nil, nil }

// DropRecord does nothing outside Linux.
func DropRecord() {}
