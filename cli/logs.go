package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/otpctl/otpctl/control"
	ucli "github.com/urfave/cli/v2"
)

// logTime is how `otpctl logs` writes a line's time: RFC 3339 with
// milliseconds, UTC, as the exec kind's log files do.
const logTime = "2006-01-02T15:04:05.000Z07:00"

func init() {
	register(&ucli.Command{
		Name:      "logs",
		Usage:     "print a child's output lines",
		ArgsUsage: "PATH",
		Description: "Prints the last output lines (stdout and stderr) the instance keeps of the exec\n" +
			"child at PATH, across its restarts, one a line: `TIME PATH[OS_PID] STREAM: LINE`\n" +
			"(TIME in UTC). For a supervisor, the lines of every child under it, merged in time\n" +
			"order. With --follow, then every new line until interrupted or the instance stops.",
		Flags: append(instanceFlags(),
			&ucli.IntFlag{Name: "n", Value: control.DefaultLogRead, Usage: fmt.Sprintf("print the last `N` lines (at most %d)", control.MaxLogRead)},
			&ucli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "keep printing new lines"},
			&ucli.StringFlag{Name: "since", Usage: "only lines of the last `D` (5m), or since a time (2024-05-01T12:00:00Z)"},
			jsonFlag("one JSON object per line: seq, time, path, os_pid, stream, line"),
		),
		Action: func(c *ucli.Context) error {
			path, err := onePath(c)
			if err != nil {
				return err
			}
			q := control.LogQuery{Path: path, N: c.Int("n")}
			if q.N < 1 {
				return exit(ExitUsage, "logs: -n %d: a count of lines, 1 or more, is expected", q.N)
			}
			if s := c.String("since"); s != "" {
				if d, err := time.ParseDuration(s); err == nil && d >= 0 {
					q.Since = time.Now().Add(-d)
				} else if q.Since, err = time.Parse(time.RFC3339Nano, s); err != nil {
					return exit(ExitUsage, "logs: --since %q: a duration (5m) or an RFC 3339 time (2024-05-01T12:00:00Z) is expected", s)
				}
			}
			cl, err := client(c)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
			defer stop()
			enc := json.NewEncoder(c.App.Writer)
			err = cl.Logs(ctx, q, c.Bool("follow"), func(l control.LogLine) error {
				if c.Bool("json") {
					return enc.Encode(l)
				}
				_, err := fmt.Fprintf(c.App.Writer, "%s %s[%d] %s: %s\n", l.Time.UTC().Format(logTime), l.Path, l.OSPid, l.Stream, l.Line)
				return err
			})
			if err != nil && ctx.Err() == nil {
				return failed(err)
			}
			return nil
		},
	})
}
