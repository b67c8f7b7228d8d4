package cli

import (
	"regexp"
	"strings"

	"github.com/otpctl/otpctl/internal/suggest"
	ucli "github.com/urfave/cli/v2"
)

func init() {
	register(&ucli.Command{
		Name:      "help",
		Aliases:   []string{"h"},
		Usage:     "show the commands, or one command's help",
		ArgsUsage: "[COMMAND]",
		Action: func(c *ucli.Context) error {
			switch {
			case c.NArg() == 0:
				return ucli.ShowAppHelp(c)
			case c.NArg() > 1:
				return exit(ExitUsage, "help: one COMMAND at most is expected")
			}
			cmd := c.App.Command(c.Args().First())
			if cmd == nil || cmd.Hidden {
				return unknownCommand(c, c.Args().First())
			}
			return ucli.ShowCommandHelp(c, cmd.Name)
		},
	})
}

// examples ends a command's Description with its examples, one line each,
// indented; "" is a blank line between them.
func examples(lines ...string) string {
	s := "\n\nExamples:"
	for _, l := range lines {
		if l != "" {
			l = "   " + l
		}
		s += "\n" + l
	}
	return s
}

// jsonFlag is a command's --json, which prints its answer as JSON; usage
// says in what shape.
func jsonFlag(usage string) ucli.Flag { return &ucli.BoolFlag{Name: "json", Usage: usage} }

// rootAction runs for `otpctl` with no command (it shows the help) and for
// a word that is not a command (a usage error, with the likely command).
func rootAction(c *ucli.Context) error {
	if c.NArg() == 0 {
		return ucli.ShowAppHelp(c)
	}
	return unknownCommand(c, c.Args().First())
}

// unknownCommand is the usage error for a word that is not a command.
func unknownCommand(c *ucli.Context, name string) error {
	var names []string
	for _, cmd := range c.App.VisibleCommands() {
		names = append(names, cmd.Names()...)
	}
	if s := suggest.Closest(name, names); s != "" {
		return exit(ExitUsage, "unknown command %q; did you mean %q?", name, s)
	}
	return exit(ExitUsage, "unknown command %q (see otpctl --help)", name)
}

var (
	undefinedFlag = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)
	// singleDash finds the flag package's "-name" in its other messages.
	singleDash = regexp.MustCompile(`(flag|argument:|for) -([a-z][a-z-]*)`)
)

// usageError is every command's OnUsageError: one line, exit status 2, a
// likely flag for an unknown one, flags spelled as users type them (--name).
func usageError(c *ucli.Context, err error, _ bool) error {
	where, flags := "otpctl", c.App.VisibleFlags()
	if c.Command != nil && c.Command.Name != "" && c.Command.Name != c.App.Name {
		where, flags = "otpctl "+c.Command.Name, c.Command.Flags
	}
	m := undefinedFlag.FindStringSubmatch(err.Error())
	if m == nil {
		msg := singleDash.ReplaceAllStringFunc(err.Error(), func(m string) string {
			word, name, _ := strings.Cut(m, " -")
			return word + " " + dashes(name)
		})
		return exit(ExitUsage, "%s (see %s --help)", msg, where)
	}
	name := m[1]
	var names []string
	for _, f := range flags {
		if v, ok := f.(ucli.VisibleFlag); ok && !v.IsVisible() {
			continue
		}
		names = append(names, f.Names()...)
	}
	if s := suggest.Closest(name, names); s != "" {
		return exit(ExitUsage, "unknown flag %s; did you mean %s?", dashes(name), dashes(s))
	}
	return exit(ExitUsage, "unknown flag %s (see %s --help)", dashes(name), where)
}

// dashes spells a flag name as on the command line: -w, --json.
func dashes(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + strings.TrimLeft(name, "-")
}
