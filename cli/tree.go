package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/otpctl/otpctl/control"
	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/loader"
	ucli "github.com/urfave/cli/v2"
)

func init() {
	register(&ucli.Command{
		Name:  "tree",
		Usage: "show the live tree",
		Description: "Prints every node of the running tree: its kind (a supervisor's strategy), state\n" +
			"and uptime, pid, crash restarts (crash, sibling and escalation: those the restart\n" +
			"intensity counts) and how long ago the last restart was, and for a supervisor\n" +
			"its restart budget (restarts inside the current period against max_frequency),\n" +
			"for a pool its dispatch as its kind (its members, 1 … size, are its children),\n" +
			"for a worker its OS pid (exec) and mailbox length, or its health when it has a\n" +
			"health check (starting, healthy or unhealthy; while probes fail, how many and\n" +
			"the last one's error). A line under a node says its last exit (reason, how long\n" +
			"ago) and its restarts by an operator or a reload. --json has them all:\n" +
			"restarts, crash_restarts, last_exit {reason, at}, health.",
		Flags: append(instanceFlags(),
			jsonFlag("print the tree as JSON"),
			&ucli.BoolFlag{Name: "watch", Aliases: []string{"w"}, Usage: "redraw on every change (and every second) until interrupted"},
		),
		Action: treeAction,
	})
}

func treeAction(c *ucli.Context) error {
	if c.NArg() != 0 {
		return exit(ExitUsage, "tree: no arguments are expected")
	}
	cl, err := client(c)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	out := c.App.Writer
	draw := func() ([]byte, error) {
		n, err := cl.Tree(ctx)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		if c.Bool("json") {
			enc := json.NewEncoder(&b)
			enc.SetIndent("", "  ")
			enc.Encode(n)
		} else {
			renderTree(&b, n, time.Now())
		}
		return b.Bytes(), nil
	}
	if !c.Bool("watch") {
		b, err := draw()
		if err != nil {
			return failed(err)
		}
		out.Write(b)
		return nil
	}
	return watchTree(ctx, cl, out, !c.Bool("json"), draw)
}

// watchTree redraws the tree on every event and every second, until ctx
// ends or the instance stops; with clear, it clears the screen before each
// drawing.
func watchTree(ctx context.Context, cl *control.Client, out io.Writer, clear bool, draw func() ([]byte, error)) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	changed := make(chan struct{}, 1)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		cl.Events(wctx, ^uint64(0), true, func(live.Event) error {
			select {
			case changed <- struct{}{}:
			default:
			}
			return nil
		})
	}()
	defer func() { cancel(); <-ended }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for drawn := false; ; drawn = true {
		b, err := draw()
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && drawn && (errors.Is(err, control.ErrNotRunning) || treeStopped(err)):
			fmt.Fprintln(out, "the instance has stopped")
			return nil
		case err != nil:
			return failed(err)
		}
		if clear {
			fmt.Fprint(out, "\x1b[H\x1b[2J") // home, clear
		}
		out.Write(b)
		select {
		case <-changed:
		case <-tick.C:
		case <-ended:
			if ctx.Err() == nil {
				fmt.Fprintln(out, "the instance has stopped")
			}
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// treeStopped reports whether err is the reply of an instance whose tree
// has stopped while it is closing its socket.
func treeStopped(err error) bool {
	var ce *control.Error
	return errors.As(err, &ce) && ce.Message == loader.ErrStopped.Error()
}

// renderTree writes the tree as aligned columns, one node a line, its
// shape drawn with box characters; readable at 80 columns for names of a
// dozen characters.
//
//	NODE          KIND          STATUS      PID     RESTARTS    INFO
//	shop          one_for_one   running 5m  <0.3>   0           budget 1/3 in 5s
//	├─ web        exec          running 2s  <0.9>   1 (2s ago)  os 4711, mbox 0
func renderTree(w io.Writer, root *live.Node, now time.Time) {
	rows := [][]string{{"NODE", "KIND", "STATUS", "PID", "RESTARTS", "INFO"}}
	var walk func(n *live.Node, prefix, branch string)
	var notes []string // a row's note line (under it), by row index; "" for none
	walk = func(n *live.Node, prefix, branch string) {
		rows = append(rows, []string{prefix + branch + n.Name, kindCell(n), statusCell(n, now), pidCell(n), restartsCell(n, now), infoCell(n)})
		next := prefix
		switch branch {
		case "├─ ":
			next += "│  "
		case "└─ ":
			next += "   "
		}
		if note := exitNote(n, now); note != "" {
			under := next + "   "
			if len(n.Children) > 0 {
				under = next + "│  "
			}
			notes = append(notes, make([]string, len(rows)-len(notes))...)
			notes[len(rows)-1] = under + note
		}
		for i, c := range n.Children {
			b := "├─ "
			if i == len(n.Children)-1 {
				b = "└─ "
			}
			walk(c, next, b)
		}
	}
	walk(root, "", "")
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, cell := range r {
			widths[i] = max(widths[i], len([]rune(cell)))
		}
	}
	var b strings.Builder
	for ri, r := range rows {
		var line strings.Builder
		for i, cell := range r {
			line.WriteString(cell)
			if i < len(r)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-len([]rune(cell))+2))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
		if ri < len(notes) && notes[ri] != "" {
			b.WriteString(clip(notes[ri], treeWidth))
			b.WriteByte('\n')
		}
	}
	io.WriteString(w, b.String())
}

// treeWidth is the width a note line under a node is cut to.
const treeWidth = 80

// exitNote is the line under a node that has ended a process or been
// restarted by an operator or a reload: "last exit: exit status 1, 3m ago ·
// 1 operator or reload restart"; "" when there is nothing to say.
func exitNote(n *live.Node, now time.Time) string {
	var parts []string
	if e := n.LastExit; e != nil {
		parts = append(parts, fmt.Sprintf("last exit: %s, %s ago", e.Reason, ago(now.Sub(e.At))))
	}
	if other := n.Restarts - n.CrashRestarts; other > 0 {
		s := ""
		if other > 1 {
			s = "s"
		}
		parts = append(parts, fmt.Sprintf("%d operator or reload restart%s", other, s))
	}
	return strings.Join(parts, " · ")
}

// clip cuts s to at most width runes, the last one an ellipsis when cut.
func clip(s string, width int) string {
	r := []rune(s)
	if len(r) <= width {
		return s
	}
	return string(r[:width-1]) + "…"
}

func kindCell(n *live.Node) string {
	switch {
	case n.Type != "supervisor":
		return n.Kind
	case n.Dynamic && n.Kind != "":
		return "dynamic " + n.Kind
	case n.Dynamic:
		return "dynamic"
	case n.Pool: // as a supervisor's strategy: how it spreads its work
		return n.Dispatch
	}
	return n.Strategy
}

func statusCell(n *live.Node, now time.Time) string {
	if n.State == "running" && n.Started != nil {
		return "running " + ago(now.Sub(*n.Started))
	}
	if n.RestartIn != "" { // waiting for its backoff
		return string(n.State) + " in " + n.RestartIn
	}
	return string(n.State)
}

func pidCell(n *live.Node) string {
	if n.Pid == "" {
		return "-"
	}
	return n.Pid
}

// restartsCell counts the crash restarts (those the intensity counts) and
// says how long ago the last restart was; the others are in exitNote.
func restartsCell(n *live.Node, now time.Time) string {
	if n.CrashRestarts == 0 || n.LastRestart == nil {
		return fmt.Sprint(n.CrashRestarts)
	}
	return fmt.Sprintf("%d (%s ago)", n.CrashRestarts, ago(now.Sub(*n.LastRestart)))
}

func infoCell(n *live.Node) string {
	var parts []string
	if n.Type == "supervisor" {
		// A dynamic supervisor's max_children is in --json: the line
		// has no room for it, nor a pool's strategy.
		if n.Budget != nil {
			return n.Budget.String()
		}
		return ""
	}
	if n.OSPid != 0 {
		parts = append(parts, fmt.Sprintf("os %d", n.OSPid))
	}
	switch h := healthCell(n.Health); {
	case h != "":
		// In the mailbox's place: a worker with a health check is an
		// exec child, which takes no messages.
		parts = append(parts, h)
	case n.Pid != "":
		parts = append(parts, fmt.Sprintf("mbox %d", n.Mailbox))
	}
	return strings.Join(parts, ", ")
}

// maxProbeText is how much of a failed probe's error the INFO column shows
// (all of it is in --json).
const maxProbeText = 40

// healthCell reads a worker's health: "healthy", or while probes fail
// "healthy 1 failed: connection refused".
func healthCell(h *live.Health) string {
	if h == nil {
		return ""
	}
	if h.Failures == 0 && (h.Status != "starting" || h.Last == "" || h.Last == "ok") {
		return h.Status
	}
	last := []rune(h.Last)
	if len(last) > maxProbeText {
		last = append(last[:maxProbeText-1], '…')
	}
	if h.Failures == 0 {
		return h.Status + ": " + string(last)
	}
	return fmt.Sprintf("%s %d failed: %s", h.Status, h.Failures, string(last))
}

// ago writes a duration in at most two units: 0s, 42s, 5m3s, 2h5m, 3d4h.
func ago(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return twoUnits(s/60, "m", s%60, "s")
	case s < 86400:
		return twoUnits(s/3600, "h", s%3600/60, "m")
	}
	return twoUnits(s/86400, "d", s%86400/3600, "h")
}

func twoUnits(a int64, ua string, b int64, ub string) string {
	if b == 0 {
		return fmt.Sprintf("%d%s", a, ua)
	}
	return fmt.Sprintf("%d%s%d%s", a, ua, b, ub)
}
