package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/loader"
	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/spec"
	ucli "github.com/urfave/cli/v2"
)

// newLogger returns the logger of `otpctl run`: log/slog to w, as text or
// as one JSON object per line.
func newLogger(w io.Writer, format string) (*slog.Logger, error) {
	switch format {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("--log-format %q: text or json", format)
}

// eventLevel is how loud an event is: failures are errors, an abnormal
// exit (not normal, shutdown or shutdown:TEXT, read as KillReason reads
// them) or an abandoned worker a warning, the rest information.
func eventLevel(e live.Event) slog.Level {
	switch e.Type {
	case runtime.EventStartFailed, runtime.EventGiveUp, loader.EventReloadFailed:
		return slog.LevelError
	case runtime.EventExited:
		if runtime.IsAbnormal(loader.KillReason(e.Reason)) {
			return slog.LevelWarn
		}
	case runtime.EventTerminated:
		if e.NotStopped {
			return slog.LevelWarn
		}
	}
	return slog.LevelInfo
}

// eventRecord is e as a log record, the same for `run`'s log and `otpctl
// events`: msg and event are the event's name, then path, kind, pid,
// reason, cause, trigger and signal (each when set), as the SPEC's example;
// os_pid, not_stopped and a reload's lists when they apply.
func eventRecord(e live.Event) slog.Record {
	rec := slog.NewRecord(e.Time, eventLevel(e), string(e.Type), 0)
	rec.AddAttrs(slog.String("event", string(e.Type)))
	add := func(k, v string) {
		if v != "" {
			rec.AddAttrs(slog.String(k, v))
		}
	}
	add("path", e.Path)
	add("kind", e.Kind)
	add("pid", e.Pid)
	add("reason", e.Reason)
	add("cause", string(e.Cause))
	add("trigger", e.Trigger)
	add("signal", e.Signal)
	if e.OSPid != 0 {
		rec.AddAttrs(slog.Int("os_pid", e.OSPid))
	}
	if e.NotStopped {
		rec.AddAttrs(slog.Bool("not_stopped", true))
	}
	for _, l := range []struct {
		k string
		v []string
	}{{"added", e.Added}, {"removed", e.Removed}, {"changed", e.Changed}, {"updated", e.Updated}, {"failed", e.Failed}, {"errors", e.Errors}} {
		if len(l.v) > 0 {
			rec.AddAttrs(slog.Any(l.k, l.v))
		}
	}
	return rec
}

// eventLogger is how `otpctl run` logs: events, its own lines, and (through
// log, which the tree's workers are given) everything the workers say, all
// through one bounded logQueue to stderr. Nothing that logs ever waits for
// stderr (a supervisor's event hook must not block).
type eventLogger struct {
	log  *slog.Logger
	q    *logQueue
	json bool
}

// newEventLogger returns run's logger to w in format (text or json), and
// starts the goroutine that writes to w; close stops it.
func newEventLogger(w io.Writer, format string) (*eventLogger, error) {
	if _, err := newLogger(io.Discard, format); err != nil {
		return nil, err
	}
	q := newLogQueue(w, func(n int) []byte {
		var b bytes.Buffer
		l, _ := newLogger(&b, format)
		rec := slog.NewRecord(time.Now(), slog.LevelWarn, "log_dropped", 0)
		rec.AddAttrs(slog.String("event", "log_dropped"), slog.Int("dropped", n))
		l.Handler().Handle(context.Background(), rec)
		return b.Bytes()
	})
	log, _ := newLogger(q, format)
	return &eventLogger{log: log, q: q, json: format == "json"}, nil
}

// push logs e; it never blocks.
func (l *eventLogger) push(e live.Event) {
	l.log.Handler().Handle(context.Background(), eventRecord(e))
}

// say logs a line of `run`'s own, after what was logged before it.
func (l *eventLogger) say(level slog.Level, msg string, args ...any) {
	rec := slog.NewRecord(time.Now(), level, msg, 0)
	rec.Add(args...)
	l.log.Handler().Handle(context.Background(), rec)
}

// text logs a message that is text for a person (a diagnostic, the exit
// line): as it is with --log-format text, as an error record's msg with
// json, so that every line of run's stderr is JSON.
func (l *eventLogger) text(msg string, args ...any) {
	if !l.json {
		l.q.put([]byte(msg + "\n"))
		return
	}
	l.say(slog.LevelError, msg, args...)
}

// finish logs the exit line of err, the error run ends with (what Main
// would print: `otpctl: MESSAGE` in text, a record with its exit_status
// in json), then writes what is queued within logFlushTimeout and returns
// err's exit status with nothing left for Main to print: a stderr nobody
// reads cannot hold up the exit.
func (l *eventLogger) finish(err error) error {
	if err != nil {
		code := ExitFailure
		var ec ucli.ExitCoder
		if errors.As(err, &ec) {
			code = ec.ExitCode()
		}
		if msg := err.Error(); msg != "" {
			if l.json {
				l.text(msg, "exit_status", code)
			} else {
				l.text("otpctl: " + msg)
			}
		}
		err = exit(code, "")
	}
	l.close()
	return err
}

// close writes what is queued, for at most logFlushTimeout, and stops.
func (l *eventLogger) close() { l.q.close(logFlushTimeout) }

// logDiagnostics logs why the tree files do not load: one line per
// problem, FILE:LINE:COL: message.
func logDiagnostics(l *eventLogger, err error) {
	var ds spec.Diagnostics
	if !errors.As(err, &ds) {
		l.text(err.Error())
		return
	}
	for _, d := range ds {
		l.text(d.Error())
	}
}

// ignoreSIGPIPE keeps a closed stderr (`otpctl run … | head`) from killing
// run: unless SIGPIPE is handled, Go's runtime turns a write to a closed
// pipe on fd 1 or 2 into death by SIGPIPE. It is handled (Notify), not
// ignored (signal.Ignore), because an ignored signal stays ignored in the
// programs the exec kind starts, and a handled one does not. The write
// fails with EPIPE instead, and the line is lost. It is never undone: the
// log's writer may still be writing when run returns.
func ignoreSIGPIPE() {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
}
