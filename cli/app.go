package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	ucli "github.com/urfave/cli/v2"
)

// Exit statuses. They are public API: scripts and CI depend on them.
const (
	// ExitOK: success; `run` stopped on request, or by auto_shutdown
	// after a significant child's normal exit; `validate` found nothing;
	// `plan` found no change; `health` found the instance up (ready).
	// (When a significant child's exit ended the tree by auto_shutdown,
	// `run` exits with that child's status: see childExitCode.)
	ExitOK = 0
	// ExitFailure: a configuration or start-up error, a refused or failed
	// client command; `validate` found problems; `plan` found changes;
	// `health`: not up, or not ready.
	ExitFailure = 1
	// ExitUsage: the command line is wrong (an unknown command or flag, a
	// flag's bad value, the wrong number of arguments), for every command.
	ExitUsage = 2
	// ExitPlanError: `plan` could not compare the files (as `kubectl diff`).
	ExitPlanError = 2
	// ExitGaveUp: `run`'s root supervisor passed its restart intensity.
	ExitGaveUp = 3
)

// Version is the version `otpctl --version` prints, when set with
// -ldflags "-X github.com/otpctl/otpctl/cli.Version=…"; left empty, it is
// read from the build info (see version.go).
var Version = ""

// commands is filled by each command's file, from init; App orders them by
// commandOrder.
var commands []*ucli.Command

var commandOrder = []string{
	"run", "validate", "plan", "schema", "kinds",
	"tree", "wait", "health", "events", "logs", "kill", "stop", "start", "restart", "call", "signal", "scale", "reload", "shutdown",
	"socket", "completion", "version", "help",
}

func register(c *ucli.Command) { commands = append(commands, c) }

// App returns the otpctl command-line application, writing to stdout and
// stderr.
func App(stdout, stderr io.Writer) *ucli.App {
	cmds := slices.Clone(commands)
	slices.SortStableFunc(cmds, func(a, b *ucli.Command) int {
		return order(a.Name) - order(b.Name)
	})
	for _, c := range cmds {
		c.OnUsageError = usageError
		c.HideHelpCommand = true // `otpctl kill help` is not a command
	}
	return &ucli.App{
		Name:    "otpctl",
		Usage:   "declarative Erlang/OTP supervision trees for OS processes and Go actors",
		Version: version(),
		Description: "otpctl runs a tree of supervisors and workers declared in YAML, keeps it alive\n" +
			"through crashes with OTP's restart strategies, reloads only what changed when\n" +
			"the files change, and lets you see and steer the live tree from another terminal.\n\n" +
			"Start with: otpctl validate tree.yaml && otpctl run tree.yaml\n\n" +
			"Flags may come before or after the command and its arguments (otpctl --name shop2\n" +
			"tree). Exit status 2 is a usage error, for every command.",
		Commands:             cmds,
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: true,
		// The help command is otpctl's own (usage.go), so urfave/cli adds
		// no --help of its own.
		Flags:          []ucli.Flag{ucli.HelpFlag},
		Action:         rootAction,
		OnUsageError:   usageError,
		ExitErrHandler: func(*ucli.Context, error) {}, // Main decides the status
	}
}

func order(name string) int {
	if i := slices.Index(commandOrder, name); i >= 0 {
		return i
	}
	return len(commandOrder)
}

// Main runs otpctl with args (os.Args) and returns the exit status. A Go
// program that registers its own kinds calls it from main:
//
//	func main() { os.Exit(cli.Main(os.Args)) }
func Main(args []string) int {
	return run(args, os.Stdout, os.Stderr)
}

func run(args []string, stdout, stderr io.Writer) int {
	app := App(stdout, stderr)
	err := app.Run(normalizeArgs(app.Commands, args))
	if err == nil {
		return ExitOK
	}
	var ec ucli.ExitCoder
	if errors.As(err, &ec) {
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(stderr, "otpctl:", msg)
		}
		return ec.ExitCode()
	}
	fmt.Fprintln(stderr, "otpctl:", err)
	return ExitFailure
}

// exit returns an error that makes Main print msg (if any) and exit with
// code.
func exit(code int, format string, args ...any) error {
	msg := ""
	if format != "" {
		msg = fmt.Sprintf(format, args...)
	}
	return ucli.Exit(msg, code)
}
