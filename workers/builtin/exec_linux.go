//go:build linux

package builtin

import "golang.org/x/sys/unix"

// SetSubreaper makes this process a child subreaper (prctl
// PR_SET_CHILD_SUBREAPER): orphaned descendants are re-parented to it rather
// than to PID 1 (if the keeper of the exec workers is killed, what it kept
// comes here). ReapOrphans then reaps them.
func SetSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}
