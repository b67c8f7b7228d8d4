package cli

import (
	"slices"
	"strings"
	"unicode"

	ucli "github.com/urfave/cli/v2"
)

// flagsFirst moves a command's flags ahead of its arguments, so that
// `otpctl kill shop/web --reason boom` reads as users expect: urfave/cli
// (like Go's flag package) stops at the first argument otherwise. A flag
// that takes a value takes the next word with it unless written --f=v;
// "--" ends the flags; words that do not look like flags (-1) stay
// arguments.
func flagsFirst(cmds []*ucli.Command, args []string) []string {
	i := slices.IndexFunc(args[1:], func(a string) bool { return !strings.HasPrefix(a, "-") })
	if i < 0 {
		return args
	}
	i++ // index in args
	var cmd *ucli.Command
	for _, c := range cmds {
		if c.HasName(args[i]) {
			cmd = c
		}
	}
	if cmd == nil || cmd.SkipFlagParsing {
		return args
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		tv := false
		if d, ok := f.(ucli.DocGenerationFlag); ok {
			tv = d.TakesValue()
		}
		for _, n := range f.Names() {
			takesValue[n] = tv
		}
	}
	rest := args[i+1:]
	var flags, pos []string
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		if a == "--" {
			pos = append(pos, rest[j:]...)
			break
		}
		name := strings.TrimLeft(a, "-")
		if !strings.HasPrefix(a, "-") || name == "" || !unicode.IsLetter(rune(name[0])) {
			pos = append(pos, a)
			continue
		}
		name, _, inline := strings.Cut(name, "=")
		flags = append(flags, a)
		if takesValue[name] && !inline && j+1 < len(rest) {
			flags = append(flags, rest[j+1])
			j++
		}
	}
	out := slices.Clone(args[:i+1])
	out = append(out, flags...)
	return append(out, pos...)
}
