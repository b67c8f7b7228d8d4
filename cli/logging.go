package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/otpctl/otpctl/control"
	"github.com/otpctl/otpctl/loader"
	"github.com/otpctl/otpctl/runtime"
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
func eventLevel(e control.Event) slog.Level {
	switch e.Event {
	case string(loader.EventStartFailed), string(loader.EventGiveUp), string(loader.EventReloadFailed):
		return slog.LevelError
	case string(loader.EventExited):
		if runtime.IsAbnormal(loader.KillReason(e.Reason)) {
			return slog.LevelWarn
		}
	case string(loader.EventTerminated):
		if e.NotStopped {
			return slog.LevelWarn
		}
	}
	return slog.LevelInfo
}

// eventRecord is e as a log record, the same for `run`'s log and `otpctl
// events`: msg and event are the event's name, then path, kind, pid,
// reason, cause and trigger (each when set), as the SPEC's example;
// os_pid, not_stopped and a reload's lists when they apply.
func eventRecord(e control.Event) slog.Record {
	rec := slog.NewRecord(e.Time, eventLevel(e), e.Event, 0)
	rec.AddAttrs(slog.String("event", e.Event))
	add := func(k, v string) {
		if v != "" {
			rec.AddAttrs(slog.String(k, v))
		}
	}
	add("path", e.Path)
	add("kind", e.Kind)
	add("pid", e.Pid)
	add("reason", e.Reason)
	add("cause", e.Cause)
	add("trigger", e.Trigger)
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

// eventLogger writes events, and `run`'s own lines, to a logger from its
// own goroutine, in order: the tree hands events over without ever waiting
// for stderr (a supervisor's event hook must not block).
type eventLogger struct {
	log  *slog.Logger
	mu   sync.Mutex
	q    []slog.Record
	wake chan struct{}
	done chan struct{}
	shut bool
}

func newEventLogger(log *slog.Logger) *eventLogger {
	l := &eventLogger{log: log, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go l.run()
	return l
}

// push queues e; it never blocks.
func (l *eventLogger) push(e control.Event) { l.queue(eventRecord(e)) }

// say queues a line of `run`'s own, after the events queued before it.
func (l *eventLogger) say(level slog.Level, msg string, args ...any) {
	rec := slog.NewRecord(time.Now(), level, msg, 0)
	rec.Add(args...)
	l.queue(rec)
}

func (l *eventLogger) queue(rec slog.Record) {
	l.mu.Lock()
	if !l.shut {
		l.q = append(l.q, rec)
	}
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *eventLogger) run() {
	defer close(l.done)
	for {
		<-l.wake
		for {
			l.mu.Lock()
			q, shut := l.q, l.shut
			l.q = nil
			l.mu.Unlock()
			for _, rec := range q {
				l.log.Handler().Handle(context.Background(), rec)
			}
			if len(q) == 0 {
				if shut {
					return
				}
				break
			}
		}
	}
}

// close writes what is queued and stops.
func (l *eventLogger) close() {
	l.mu.Lock()
	l.shut = true
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	<-l.done
}
