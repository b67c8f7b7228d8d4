package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	ucli "github.com/urfave/cli/v2"

	"github.com/otpctl/otpctl/spec"
	"github.com/otpctl/otpctl/workers"
)

func init() {
	register(&ucli.Command{
		Name:      "validate",
		Usage:     "check tree files, without running anything",
		ArgsUsage: "FILE...",
		Description: "Reads each tree file with its includes and checks it completely: the YAML,\n" +
			"the tree schema (otpctl schema), each child's args against its kind's args\n" +
			"schema (otpctl kinds), unknown kinds, duplicate sibling names, include cycles\n" +
			"and missing includes, durations, and OTP's rules for significant children.\n" +
			"\n" +
			"Every problem in every file is printed on stdout, one per line, as\n" +
			"FILE:LINE:COL: message:\n" +
			"\n" +
			"   shop.yaml:12:13: strategy: must be one of one_for_one, one_for_all, rest_for_one; got \"one_for_any\"\n" +
			"\n" +
			"and the exit status is 1; with no problem nothing is printed on stdout and\n" +
			"the exit status is 0.\n" +
			"\n" +
			"It also looks at this machine, and warns of what a start here would fail on:\n" +
			"an exec command[0] not found in PATH (or a path that does not exist or is not\n" +
			"executable), a dir that does not exist. A warning is printed as\n" +
			"FILE:LINE:COL: warning: message and leaves the exit status 0; with --strict,\n" +
			"warnings count as problems (exit status 1). run and reload do not warn.\n" +
			"\n" +
			"With --json, stdout is a JSON array of {file, line, col, severity, message}\n" +
			"instead (severity error or warning; [] when all is well); line and col are 0\n" +
			"for a file that cannot be read. A summary goes to stderr.\n" +
			"\n" +
			"validate starts nothing and opens no socket: it is safe in CI and in\n" +
			"editors' save hooks." +
			examples("otpctl validate shop.yaml", "otpctl validate --strict deploy/shop.yaml", "otpctl validate --json examples/*.yaml"),
		Flags: []ucli.Flag{
			jsonFlag("print the problems as a JSON array on stdout"),
			&ucli.BoolFlag{Name: "strict", Usage: "count warnings (a program not in PATH, a missing dir) as problems: exit 1"},
		},
		Action: func(c *ucli.Context) error {
			files := c.Args().Slice()
			if len(files) == 0 {
				return exit(ExitUsage, "validate: name at least one tree file (otpctl validate --help)")
			}
			return validate(c.App.Writer, c.App.ErrWriter, files, workers.Default, validateOptions{json: c.Bool("json"), strict: c.Bool("strict")})
		},
	})
}

// problem is one diagnostic as `validate --json` prints it. The field names
// are public API.
type problem struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

// validateOptions are validate's flags: --json and --strict.
type validateOptions struct{ json, strict bool }

// validate loads every file against kinds and reports every problem found,
// and every warning (kinds that are a spec.ArgsWarner look at this
// machine); with strict, a warning is a problem.
func validate(stdout, stderr io.Writer, files []string, kinds spec.Kinds, opts validateOptions) error {
	var all spec.Diagnostics
	seen := map[string]bool{} // an include shared by two files is reported once
	bad, problems := 0, 0
	for _, file := range files {
		tree, err := spec.LoadWith(file, kinds, spec.LoadOptions{Warnings: true})
		var ds spec.Diagnostics
		switch {
		case err == nil:
			nodes := 0
			tree.Root.Walk(func(*spec.Node) { nodes++ })
			warned := ""
			if n := len(tree.Warnings); n > 0 {
				warned = ", " + count(n, "warning")
			}
			fmt.Fprintf(stderr, "%s: valid (%d nodes%s)\n", file, nodes, warned)
			ds = tree.Warnings
		case !errors.As(err, &ds):
			ds = spec.Diagnostics{{Pos: spec.Pos{File: file}, Severity: spec.SeverityError, Summary: err.Error()}}
		}
		if ds.HasErrors() || (opts.strict && len(ds) > 0) {
			bad++
		}
		for _, d := range ds {
			if key := d.Error(); !seen[key] {
				seen[key] = true
				all = append(all, d)
				if d.Severity != spec.SeverityWarning || opts.strict {
					problems++
				}
			}
		}
	}
	if opts.json {
		out := make([]problem, 0, len(all))
		for _, d := range all {
			out = append(out, problem{d.Pos.File, d.Pos.Line, d.Pos.Col, string(d.Severity), d.Summary})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		for _, d := range all {
			fmt.Fprintln(stdout, d.Error())
		}
	}
	if problems > 0 {
		return exit(ExitFailure, "%s in %s", count(problems, "problem"), count(bad, "file"))
	}
	return nil
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
