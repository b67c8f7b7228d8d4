package spec

import (
	"fmt"
	"os"

	"github.com/otpctl/otpctl/internal/trust"
)

// LoadOptions change what LoadWith accepts. The zero value is Load.
type LoadOptions struct {
	// SafeFiles refuses a tree file or include that a user other than
	// the one running (or root) could change or replace, as sshd's
	// StrictModes does: the file, or any folder above it up to /, is owned
	// by another user, or the file is writable by its group or others, or
	// such a folder is (a folder with the sticky bit, as /tmp, may be
	// writable by all: nobody may rename another's file in it). Symbolic
	// links are checked as written and where they lead. Whoever can write
	// a tree file chooses the commands its exec children run, so
	// `otpctl run` sets it when it runs as root, unless
	// --allow-unsafe-files. The refusal is a diagnostic naming the file or
	// folder at fault, its mode and owner; for an include, at its
	// include: value.
	SafeFiles bool
	// Warnings also runs the kinds' checks of this machine (ArgsWarner:
	// an exec program not found in PATH, a dir that does not exist) and
	// reports what they find as warnings, in Tree.Warnings (or beside the
	// errors, when there are some). `otpctl validate` sets it; run and
	// reload do not (the tree may be meant for another machine, and the
	// start reports what is missing).
	Warnings bool
}

// LoadWith is Load with options.
func LoadWith(file string, kinds Kinds, opts LoadOptions) (*Tree, error) {
	if err := opts.check(file); err != nil {
		return nil, Diagnostics{{Pos: Pos{File: file}, Severity: SeverityError, Summary: err.Error()}}
	}
	return load(file, kinds, opts)
}

// check is what opts require of a file before it is read; its error says
// why, with what is at fault, not which file is read: the caller says that.
func (opts LoadOptions) check(file string) error {
	if !opts.SafeFiles {
		return nil
	}
	if err := trust.Path(file, uint32(os.Geteuid())); err != nil {
		return fmt.Errorf("refused: %w: another user could change what it runs, and otpctl runs as %s (fix the owner or mode, or run with --allow-unsafe-files)",
			err, trust.UserName(uint32(os.Geteuid())))
	}
	return nil
}
