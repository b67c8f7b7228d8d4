package cli

import (
	"fmt"
	"runtime/debug"

	ucli "github.com/urfave/cli/v2"
)

func init() {
	register(&ucli.Command{
		Name:  "version",
		Usage: "print otpctl's version and VCS revision",
		Description: "Prints the module version and the VCS revision otpctl was built from, as\n" +
			"`otpctl --version` does: `go install …@v0.3.0` gives v0.3.0, a `go build` in a\n" +
			"clone a pseudo-version and the commit (`+dirty`, modified, if it had changes).",
		Action: func(c *ucli.Context) error {
			if c.NArg() != 0 {
				return exit(ExitUsage, "version: no arguments are expected")
			}
			ucli.ShowVersion(c)
			return nil
		},
	})
}

// version is what `otpctl --version` prints after "otpctl version": Version
// if the build set it, else the main module's version and VCS revision from
// the build info.
func version() string {
	if Version != "" {
		return Version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown (no build info)"
	}
	return versionOf(bi)
}

// versionOf reads "v0.3.0 (rev 1a2b3c4d5e6f, modified)" from build info.
func versionOf(bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return v
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified == "true" {
		return fmt.Sprintf("%s (rev %s, modified)", v, rev)
	}
	return fmt.Sprintf("%s (rev %s)", v, rev)
}
