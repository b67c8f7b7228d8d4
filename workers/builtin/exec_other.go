//go:build unix && !linux

package builtin

import (
	"errors"
	"syscall"
)

// setParentDeath does nothing: only Linux has a parent-death signal.
func setParentDeath(*syscall.SysProcAttr) {}

// waitExited cannot wait without reaping here; the group is not signalled
// after the child exits.
func waitExited(int) bool { return false }

// SetSubreaper is not supported outside Linux.
func SetSubreaper() error { return errors.ErrUnsupported }
