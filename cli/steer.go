package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"time"

	"github.com/otpctl/otpctl/control"
	"github.com/otpctl/otpctl/live"
	ucli "github.com/urfave/cli/v2"
)

func init() {
	steer(&ucli.Command{
		Name:  "kill",
		Usage: "make the process at a path exit (fault injection)",
		Description: "Makes the process at PATH exit with the reason: killed (the default), normal,\n" +
			"shutdown, shutdown:TEXT (OTP's {shutdown, Term}: a shutdown that says why, so a\n" +
			"transient child is not restarted) or any other text (an abnormal exit that reads\n" +
			"as the text). Its supervisor then applies its restart rules as for a crash. A\n" +
			"supervisor exits only with killed (at once) or shutdown (its children stopped in order).\n" +
			"Prints what it did: killed PATH (reason REASON).",
		Flags: append(instanceFlags(), &ucli.StringFlag{Name: "reason", Value: "killed", Usage: "the exit `REASON`"}),
	}, func(ctx context.Context, c *ucli.Context, cl *control.Client, path string) error {
		if err := cl.Kill(ctx, path, c.String("reason")); err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "killed %s (reason %s)\n", path, c.String("reason"))
		return nil
	})
	steer(&ucli.Command{
		Name:  "stop",
		Usage: "stop a child (terminate_child)",
		Description: "Stops the child at PATH within its shutdown setting. Its supervisor keeps it,\n" +
			"stopped, for `otpctl start` (a temporary child or a dynamic supervisor's child is\n" +
			"removed). Not a crash: no restart, not counted against the restart intensity.",
	}, func(ctx context.Context, c *ucli.Context, cl *control.Client, path string) error {
		return cl.Stop(ctx, path)
	})
	steer(&ucli.Command{
		Name:  "start",
		Usage: "start a stopped child, or a new child of a dynamic supervisor",
		Description: "Starts the stopped child at PATH again (restart_child). On a dynamic supervisor,\n" +
			"starts a new child: named --name (default KIND-N), with --args merged over the\n" +
			"supervisor's template args. Prints the child's path and pid.",
		// --name names the new child here: --instance picks the instance.
		Flags: append(instanceFlags()[:1],
			&ucli.StringFlag{Name: "instance", Usage: "the instance `NAME` (default: the one named like PATH's root, or the only one running)"},
			&ucli.StringFlag{Name: "name", Usage: "a dynamic supervisor's new child's `NAME`"},
			&ucli.StringFlag{Name: "args", Usage: "a dynamic supervisor's new child's args, a JSON `OBJECT`"},
		),
		Before: func(c *ucli.Context) error {
			if a := c.String("args"); a != "" && !json.Valid([]byte(a)) {
				return exit(ExitUsage, "start: --args is not valid JSON: %s", a)
			}
			return nil
		},
	}, func(ctx context.Context, c *ucli.Context, cl *control.Client, path string) error {
		var args json.RawMessage
		if a := c.String("args"); a != "" {
			args = json.RawMessage(a)
		}
		rep, err := cl.Start(ctx, control.StartRequest{Path: path, Name: c.String("name"), Args: args})
		return printStarted(c, rep, err)
	})
	steer(&ucli.Command{
		Name:  "restart",
		Usage: "stop a child and start it again",
		Description: "Stops the child at PATH and starts it again in its place, as `stop` then `start`:\n" +
			"an operator's restart, not counted against the restart intensity. Prints the\n" +
			"child's path and new pid.",
	}, func(ctx context.Context, c *ucli.Context, cl *control.Client, path string) error {
		rep, err := cl.Restart(ctx, path)
		return printStarted(c, rep, err)
	})
	register(&ucli.Command{
		Name:  "shutdown",
		Usage: "stop the tree and its `otpctl run`",
		Description: "Asks the instance to stop its tree in order, as SIGTERM does, and waits until it\n" +
			"has (up to --timeout).",
		Flags: append(instanceFlags(),
			&ucli.DurationFlag{Name: "timeout", Value: 5 * time.Minute, Usage: "stop waiting after `D` (the tree goes on stopping)"},
		),
		Action: func(c *ucli.Context) error {
			if c.NArg() != 0 {
				return exit(ExitUsage, "shutdown: no arguments are expected")
			}
			cl, err := client(c)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(c.Context, c.Duration("timeout"))
			defer cancel()
			if err := cl.Shutdown(ctx); err != nil {
				return failed(err)
			}
			// The event stream ends when the tree has stopped; the socket
			// goes when run exits. A stream cut short while run is still
			// there (it was closing) is followed again.
			for {
				cl.Events(ctx, ^uint64(0), true, func(live.Event) error { return nil })
				if ctx.Err() != nil {
					return exit(ExitFailure, "shutdown: the tree is still stopping after %v", c.Duration("timeout"))
				}
				if !answers(cl.Socket) {
					return nil
				}
				// run is closing its socket, or has no stream to spare
				// (503 busy): look again shortly.
				time.Sleep(50 * time.Millisecond)
			}
		},
	})
}

// answers reports whether an instance answers on socket.
func answers(socket string) bool {
	c, err := net.DialTimeout("unix", socket, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// pathFunc does what a command on the node at one PATH does, with a
// client of the instance that has it.
type pathFunc func(ctx context.Context, c *ucli.Context, cl *control.Client, path string) error

// steer registers cmd as a command on the node at one PATH: its argument is
// PATH, its flags are the instance's (instanceFlags) unless it sets its
// own, and its action runs f, turning f's error into one line and exit
// status 1.
func steer(cmd *ucli.Command, f pathFunc) {
	cmd.ArgsUsage = "PATH"
	if cmd.Flags == nil {
		cmd.Flags = instanceFlags()
	}
	cmd.Action = func(c *ucli.Context) error {
		path, err := onePath(c)
		if err != nil {
			return err
		}
		cl, err := client(c)
		if err != nil {
			return err
		}
		if err := f(c.Context, c, cl, path); err != nil {
			return failed(err)
		}
		return nil
	}
	register(cmd)
}

// printStarted prints the path and pid of the child that a start or
// restart started, or passes its error on.
func printStarted(c *ucli.Context, rep control.StartReply, err error) error {
	if err == nil {
		fmt.Fprintln(c.App.Writer, rep.Path, rep.Pid)
	}
	return err
}
