//go:build linux

package builtin

import (
	"syscall"
	"unsafe"
)

// setParentDeath asks the kernel to SIGKILL the child when the thread that
// forked it exits (prctl PR_SET_PDEATHSIG), so that even a SIGKILLed otpctl
// leaves no child behind. See forkAndWait for why that thread is kept.
func setParentDeath(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }

// waitExited blocks until the child pid has exited, without reaping it
// (waitid with WNOWAIT): while it is an unreaped zombie its pid, and so its
// process-group id, cannot be reused, and the group can be signalled safely.
// It reports whether it waited.
func waitExited(pid int) bool {
	const pPID = 1     // P_PID
	var info [128]byte // siginfo_t
	for {
		_, _, e := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid), uintptr(unsafe.Pointer(&info[0])), syscall.WEXITED|syscall.WNOWAIT, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		return e == 0
	}
}

// SetSubreaper makes this process a child subreaper (prctl
// PR_SET_CHILD_SUBREAPER): orphaned descendants, such as the children of an
// exec worker's process that it left behind, are re-parented to it rather
// than to PID 1. ReapOrphans then reaps them.
func SetSubreaper() error {
	const prSetChildSubreaper = 36
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); e != 0 {
		return e
	}
	return nil
}
