package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/otpctl/otpctl/control"
	"github.com/otpctl/otpctl/live"
	ucli "github.com/urfave/cli/v2"
)

// waitRetry is how often wait looks again for an instance that is not up
// yet.
const waitRetry = 100 * time.Millisecond

// waitGrace is how long past its deadline a wait's request may take to come
// back.
const waitGrace = 2 * time.Second

func init() {
	register(&ucli.Command{
		Name:      "wait",
		Usage:     "wait until a node is in a state",
		ArgsUsage: "PATH",
		Description: "Blocks until the node at PATH is in the state (running, starting, restarting,\n" +
			"stopped or failed), for scripts and tests. It also waits for the instance to come\n" +
			"up, so `otpctl run tree.yaml & otpctl wait tree/web` works. A PATH the tree does\n" +
			"not have is an error at once, unless --absent-ok (for a node a reload will add).\n" +
			"Exit status 0 when it is, 1 when the timeout passes first (or the tree stops, or\n" +
			"there is no such node).",
		Flags: append(instanceFlags(),
			&ucli.StringFlag{Name: "state", Value: "running", Usage: "the `STATE` to wait for: running, starting, restarting, stopped or failed"},
			&ucli.DurationFlag{Name: "timeout", Value: 30 * time.Second, Usage: "give up after `D`"},
			&ucli.BoolFlag{Name: "absent-ok", Usage: "wait for a PATH the tree does not have yet, as a reload may add it"},
		),
		Action: func(c *ucli.Context) error {
			path, err := onePath(c)
			if err != nil {
				return err
			}
			if !live.IsState(c.String("state")) {
				return exit(ExitUsage, "wait: --state %q: one of %s", c.String("state"), strings.Join(live.States, ", "))
			}
			// The instance answers a wait with a timeout of its own at the
			// deadline; the request itself gets a little more, so that
			// answer arrives rather than a transport error.
			deadline := time.Now().Add(c.Duration("timeout"))
			ctx, cancel := context.WithDeadline(c.Context, deadline.Add(waitGrace))
			defer cancel()
			if err := waitFor(ctx, c, path, c.String("state"), deadline); err != nil {
				return failed(err)
			}
			return nil
		},
	})
}

// waitFor asks the instance to wait for path to be in state, looking again
// while the instance is not up or the node does not exist, until ctx ends.
func waitFor(ctx context.Context, c *ucli.Context, path, state string, deadline time.Time) error {
	for {
		err := waitOnce(ctx, c, path, state, time.Until(deadline))
		if err == nil || !retryable(err) {
			return err
		}
		if time.Until(deadline) < waitRetry {
			return fmt.Errorf("wait: %s not %s before the timeout: %w", path, state, err)
		}
		time.Sleep(waitRetry)
	}
}

func waitOnce(ctx context.Context, c *ucli.Context, path, state string, remaining time.Duration) error {
	s, err := socketFor(c, path)
	if err != nil {
		return err
	}
	_, err = control.NewClient(s).Wait(ctx, path, state, max(remaining, time.Millisecond), c.Bool("absent-ok"))
	var ce *control.Error
	if errors.As(err, &ce) && ce.Code == control.CodeTimeout {
		return fmt.Errorf("wait: %s", ce.Message)
	}
	return err
}

// retryable says whether wait should look again: the instance is not up
// yet (or not answering yet). (With --absent-ok the instance itself waits
// for the node to exist.)
func retryable(err error) bool {
	return errors.Is(err, control.ErrNotRunning)
}
