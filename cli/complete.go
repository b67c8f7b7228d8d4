package cli

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/otpctl/otpctl/control"
	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/loader"
	ucli "github.com/urfave/cli/v2"
)

var (
	//go:embed completion/otpctl.bash
	bashCompletion string
	//go:embed completion/otpctl.zsh
	zshCompletion string
	//go:embed completion/otpctl.fish
	fishCompletion string
)

// completeTimeout bounds how long a completion waits for the running tree.
const completeTimeout = time.Second

func init() {
	register(&ucli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash, zsh or fish)",
		ArgsUsage: "bash|zsh|fish",
		Description: "Prints a script that completes otpctl's commands, flags and, from the running\n" +
			"instance, the tree's paths (otpctl kill shop/<TAB>). Install it with one of:\n\n" +
			"   otpctl completion bash > /etc/bash_completion.d/otpctl\n" +
			"   otpctl completion zsh > \"${fpath[1]}/_otpctl\"\n" +
			"   otpctl completion fish > ~/.config/fish/completions/otpctl.fish\n\n" +
			"or load it in the shell's rc file: source <(otpctl completion bash).",
		Action: func(c *ucli.Context) error {
			scripts := map[string]string{"bash": bashCompletion, "zsh": zshCompletion, "fish": fishCompletion}
			s, ok := scripts[c.Args().First()]
			if c.NArg() != 1 || !ok {
				return exit(ExitUsage, "completion: one shell is expected: bash, zsh or fish")
			}
			fmt.Fprint(c.App.Writer, s)
			return nil
		},
	})
	register(&ucli.Command{
		Name:            "__complete",
		Hidden:          true,
		SkipFlagParsing: true,
		Usage:           "list the completions of a command line (for the completion scripts)",
		ArgsUsage:       "WORD... CURRENT",
		Action: func(c *ucli.Context) error {
			complete(c.App, c.Args().Slice(), c.App.Writer)
			return nil
		},
	})
}

// complete prints, one a line, the completions of the last of words (the
// word being typed, maybe empty) on the command line `otpctl words...`:
// commands, then a command's flags, or the paths of the running tree that
// start with it for a command that takes a PATH.
func complete(app *ucli.App, words []string, out io.Writer) {
	if len(words) == 0 {
		words = []string{""}
	}
	cur, prev := words[len(words)-1], words[:len(words)-1]
	takesValue := map[string]bool{}
	for _, c := range app.Commands {
		maps(c.Flags, takesValue)
	}
	lead, rest := splitFlags(prev, takesValue, true)
	var cmd *ucli.Command
	if len(rest) > 0 {
		cmd = app.Command(rest[0])
		if cmd == nil || cmd.Hidden {
			return
		}
	}
	var candidates []string
	switch {
	case cmd == nil && strings.HasPrefix(cur, "-"):
		candidates = []string{"--help", "--version", "--name", "--socket", "--json"}
	case cmd == nil:
		for _, c := range app.VisibleCommands() {
			candidates = append(candidates, c.Name)
		}
	case len(prev) > 0 && isFlag(prev[len(prev)-1]) && takesValue[strings.TrimLeft(prev[len(prev)-1], "-")]:
		candidates = flagValues(strings.TrimLeft(prev[len(prev)-1], "-"))
	case strings.HasPrefix(cur, "-"):
		for _, f := range cmd.Flags {
			if v, ok := f.(ucli.VisibleFlag); ok && !v.IsVisible() {
				continue
			}
			for _, n := range f.Names() {
				candidates = append(candidates, dashes(n))
			}
		}
		candidates = append(candidates, "--help")
	case cmd.Name == "signal" && len(second(splitFlags(rest[1:], takesValue, false))) == 1:
		candidates = loader.Signals // PATH given: SIG
	case strings.Contains(cmd.ArgsUsage, "PATH"):
		flags, _ := splitFlags(append(lead, rest[1:]...), takesValue, false)
		candidates = treePaths(cmd, flags, cur)
	}
	for _, c := range candidates {
		if strings.HasPrefix(c, cur) {
			fmt.Fprintln(out, c)
		}
	}
}

// flagValues are the values a flag takes, where they are a closed set.
func flagValues(flag string) []string {
	switch flag {
	case "state":
		return live.States
	case "log-format":
		return []string{"text", "json"}
	case "reason":
		return []string{"killed", "normal", "shutdown"}
	}
	return nil
}

// treePaths lists the paths of the running tree that start with prefix,
// from the instance that cmd's flags (--socket, --name) pick, or none.
func treePaths(cmd *ucli.Command, flags []string, prefix string) []string {
	var socket, name string
	for i := 0; i < len(flags); i++ {
		f, v, inline := strings.Cut(strings.TrimLeft(flags[i], "-"), "=")
		if !inline && i+1 < len(flags) {
			v = flags[i+1]
		}
		switch f {
		case "socket":
			socket = v
		case "instance":
			name = v
		case "name":
			if cmd.Name != "start" { // start's --name names a new child
				name = v
			}
		}
	}
	s, err := pickSocket(socket, name, prefix)
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), completeTimeout)
	defer cancel()
	n, err := control.NewClient(s).Tree(ctx)
	if err != nil {
		return nil
	}
	var paths []string
	n.Walk(func(c *live.Node) {
		if strings.HasPrefix(c.Path, prefix) {
			paths = append(paths, c.Path)
		}
	})
	return slices.Compact(paths)
}

// second returns the second of two results.
func second[A, B any](_ A, b B) B { return b }
