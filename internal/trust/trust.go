// Package trust decides whether a file or folder can be changed by a
// user other than the one otpctl runs as: the tree files it runs as root
// (spec) and the folder of its control socket (control) must not be. It
// is shared by spec and control, which may not import each other.
//
// The rules are sshd's StrictModes, with the sticky-bit exception of
// /tmp: a path is safe for user uid when it, and every folder above it up
// to /, is owned by uid or by root, and no such folder is writable by its
// group or by others unless it has the sticky bit (in /tmp others may
// create files, but not rename or remove one they do not own); the file
// itself must not be writable by its group or others at all. Symbolic
// links are followed, and both the path as written and the path they
// lead to are checked: whoever may replace a link decides where it leads.
package trust

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// Error says which file or folder of a path is not safe, and why.
type Error struct {
	// Path is the file or folder at fault.
	Path string
	// What is "file", "folder", "symlink" or "socket".
	What string
	// Problem says what is wrong: "is writable by others", "is owned by
	// another user", "is a symlink, not a folder".
	Problem string
	// Mode is its permission bits with setuid, setgid and sticky
	// (st_mode & 07777), Owner the uid that owns it.
	Mode  uint32
	Owner uint32
}

// Error reads `folder /srv/trees is writable by its group (mode 0775,
// owner root)`.
func (e *Error) Error() string {
	return fmt.Sprintf("%s %s %s (mode %04o, owner %s)", e.What, e.Path, e.Problem, e.Mode, UserName(e.Owner))
}

// UserName is `root`, `uid 1001 (bob)`, or `uid 1001` for a user with no
// name.
func UserName(uid uint32) string {
	if uid == 0 {
		return "root"
	}
	id := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(id); err == nil && u.Username != "" {
		return "uid " + id + " (" + u.Username + ")"
	}
	return "uid " + id
}

// stat is what the rules read of a file: its type, mode and owner.
func stat(fi fs.FileInfo) (mode, owner uint32) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Mode & 0o7777, st.Uid
	}
	return uint32(fi.Mode().Perm()), 0
}

func what(fi fs.FileInfo) string {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return "symlink"
	case fi.IsDir():
		return "folder"
	case fi.Mode()&fs.ModeSocket != 0:
		return "socket"
	}
	return "file"
}

// entry checks one file or folder that Lstat described: its owner must be
// uid or root; a folder may be written only by its owner unless it is
// sticky; a file only by its owner. A symlink's own mode means nothing.
func entry(path string, fi fs.FileInfo, uid uint32) error {
	mode, owner := stat(fi)
	e := &Error{Path: path, What: what(fi), Mode: mode, Owner: owner}
	switch {
	case owner != uid && owner != 0:
		e.Problem = "is owned by another user"
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil
	case fi.IsDir() && mode&0o1000 != 0:
		return nil // sticky: others may add entries, not replace ours
	case mode&0o002 != 0:
		e.Problem = "is writable by others"
	case mode&0o020 != 0:
		e.Problem = "is writable by its group"
	default:
		return nil
	}
	return e
}

// Path checks that no user but uid and root can change or replace what
// path names (see the package doc), and returns an *Error naming the
// first file or folder that fails, path itself first, then its folders
// from the nearest up. A part of path that does not exist is skipped (its
// reader will say that it is missing); its folders are still checked, so
// nobody else can create it.
func Path(path string, uid uint32) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if err := chain(abs, uid); err != nil {
		return err
	}
	// Where the links lead: the deepest part that exists, resolved.
	for p := abs; ; p = filepath.Dir(p) {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			if real == p {
				return nil
			}
			return chain(real, uid)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// chain checks abs and every folder above it, as written (Lstat: links
// are not followed at the last part).
func chain(abs string, uid uint32) error {
	for p := abs; ; p = filepath.Dir(p) {
		fi, err := os.Lstat(p)
		if err == nil {
			if err := entry(p, fi, uid); err != nil {
				return err
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// PrivateDir checks that dir is a folder of uid's own: a real folder (not
// a symlink to one), owned by uid, that its group and others cannot enter
// (mode 0700), and that the folders above it are safe as Path says. A
// missing dir is an fs.ErrNotExist error.
func PrivateDir(dir string, uid uint32) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	mode, owner := stat(fi)
	e := &Error{Path: dir, What: what(fi), Mode: mode, Owner: owner}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		e.Problem = "is a symlink, not a folder"
	case !fi.IsDir():
		e.Problem = "is not a folder"
	case owner != uid:
		e.Problem = "is not owned by " + UserName(uid)
	case mode&0o077 != 0:
		e.Problem = "is open to its group or others (it must be 0700)"
	default:
		return Path(filepath.Dir(dir), uid)
	}
	return e
}
