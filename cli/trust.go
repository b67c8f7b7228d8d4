package cli

import (
	"log/slog"
	"os"

	"github.com/otpctl/otpctl/spec"
	ucli "github.com/urfave/cli/v2"
)

// allowUnsafeFlag is `run`'s opt-out of the tree files' ownership checks.
var allowUnsafeFlag = &ucli.BoolFlag{
	Name: "allow-unsafe-files",
	Usage: "as root, run (and reload) tree files even when another user could change them: the file, " +
		"an include, or a folder above one owned by another user or writable by group or others",
}

// treeFileOptions is how `run` reads its tree files, at start and at every
// reload: as root, a file that another user could change or replace is
// refused (it would run their commands as root), unless
// --allow-unsafe-files, which is logged as a warning.
func treeFileOptions(c *ucli.Context, log *slog.Logger) spec.LoadOptions {
	if c.Bool(allowUnsafeFlag.Name) {
		log.Warn("--allow-unsafe-files: tree files, includes and their folders that other users can write are accepted; whoever can write them can run commands as this user",
			"uid", os.Geteuid())
		return spec.LoadOptions{}
	}
	return spec.LoadOptions{SafeFiles: os.Geteuid() == 0}
}
