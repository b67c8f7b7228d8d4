//go:build unix && !linux

package builtin

import "syscall"

// setParentDeath does nothing: only Linux has a parent-death signal.
func setParentDeath(*syscall.SysProcAttr) {}

// waitExited cannot wait without reaping here; the group is not signalled
// after the child exits.
func waitExited(int) bool { return false }
