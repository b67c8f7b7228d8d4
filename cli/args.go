package cli

import (
	"slices"
	"strings"
	"unicode"

	ucli "github.com/urfave/cli/v2"
)

// appFlags are the flags of otpctl itself (not of a command): they stay
// ahead of the command.
var appFlags = []string{"help", "h", "version", "v", "generate-bash-completion"}

// normalizeArgs lets flags stand anywhere on the command line, for every
// command; run calls it once, on the whole command line, before urfave/cli
// sees it. It moves the flags written before the command (`otpctl --name
// shop2 tree`) after it, and a command's flags ahead of its arguments
// (`otpctl kill shop/web --reason boom`). A flag that takes a value takes
// the next word with it unless written --f=v; "--" ends the flags; words
// that do not look like flags (-1) stay arguments. --name before the
// command always picks the instance: on `start`, whose --name names a new
// child, it becomes --instance.
//
// urfave/cli v2 has no setting for this: a command hands its words to Go's
// flag.FlagSet.Parse, which stops at the first argument, and the app reads
// the flags before the command as its own. SkipFlagParsing turns flag
// parsing off altogether; UseShortOptionHandling only splits -abc.
func normalizeArgs(cmds []*ucli.Command, args []string) []string {
	if len(args) < 2 {
		return args
	}
	takesValue := map[string]bool{}
	for _, c := range cmds {
		maps(c.Flags, takesValue)
	}
	lead, rest := splitFlags(args[1:], takesValue, true)
	if len(rest) == 0 || rest[0] == "--" {
		return args
	}
	var cmd *ucli.Command
	for _, c := range cmds {
		if c.HasName(rest[0]) {
			cmd = c
		}
	}
	if cmd == nil || cmd.SkipFlagParsing {
		return args
	}
	var front, moved []string
	for j := 0; j < len(lead); j++ {
		a := lead[j]
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case slices.Contains(appFlags, name):
			front = append(front, a)
			continue
		case name == "name" && slices.ContainsFunc(cmd.Flags, func(f ucli.Flag) bool { return f.Names()[0] == "instance" }):
			a = "--instance" + strings.TrimPrefix(strings.TrimLeft(a, "-"), "name")
		}
		moved = append(moved, a)
	}
	own := map[string]bool{}
	maps(cmd.Flags, own)
	flags, pos := splitFlags(rest[1:], own, false)
	out := append(slices.Clone(args[:1]), front...)
	out = append(out, rest[0])
	out = append(out, moved...)
	out = append(out, flags...)
	return append(out, pos...)
}

// maps records, for each name of each flag, whether it takes a value.
func maps(flags []ucli.Flag, takesValue map[string]bool) {
	for _, f := range flags {
		tv := false
		if d, ok := f.(ucli.DocGenerationFlag); ok {
			tv = d.TakesValue()
		}
		for _, n := range f.Names() {
			takesValue[n] = takesValue[n] || tv
		}
	}
}

// isFlag says whether a word is a flag: -x, --name, --name=v (not -1, not
// "-" or "--").
func isFlag(a string) bool {
	name := strings.TrimLeft(a, "-")
	return strings.HasPrefix(a, "-") && name != "" && unicode.IsLetter(rune(name[0]))
}

// splitFlags separates words into flags (with their values) and arguments,
// in order; everything from "--" on is arguments. With stop, everything
// from the first argument on is arguments.
func splitFlags(words []string, takesValue map[string]bool, stop bool) (flags, pos []string) {
	for j := 0; j < len(words); j++ {
		a := words[j]
		if a == "--" || stop && !isFlag(a) {
			return flags, append(pos, words[j:]...)
		}
		if !isFlag(a) {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name, _, inline := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if takesValue[name] && !inline && j+1 < len(words) {
			flags = append(flags, words[j+1])
			j++
		}
	}
	return flags, pos
}
