package cli

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/otpctl/otpctl/control"
	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/loader"
	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/spec"
	"github.com/otpctl/otpctl/workers"
	"github.com/otpctl/otpctl/workers/builtin"
	ucli "github.com/urfave/cli/v2"
)

func init() {
	register(&ucli.Command{
		Name:      "run",
		Usage:     "run a tree until it is stopped",
		ArgsUsage: "FILE",
		Description: "Validates FILE (and its includes), starts the tree in order, logs every event to\n" +
			"stderr and serves the control socket that `otpctl tree`, `kill`, `call`, ... talk to.\n\n" +
			"SIGTERM or SIGINT stop the tree in reverse order within the shutdown settings; a\n" +
			"second SIGINT kills it at once. SIGHUP, `otpctl reload` and (unless --no-watch) a\n" +
			"save of any of the tree's files reload it: only what changed is stopped, started\n" +
			"or updated (see `otpctl plan`); files that do not validate change nothing. Saves\n" +
			"are seen in the files' folders (editors that save by renaming are seen too) and\n" +
			"debounced: a burst of saves within 100ms of each other is one reload.\n\n" +
			"Under systemd (a Type=notify unit, $NOTIFY_SOCKET set) it says READY=1 once the\n" +
			"tree is up and the socket answers, RELOADING=1 then READY=1 around each reload,\n" +
			"and STOPPING=1 when the tree stops; the children do not see NOTIFY_SOCKET.\n\n" +
			"--http ADDR (off by default) also serves the control API over TCP on ADDR, as\n" +
			"written (127.0.0.1:9090; port 0 picks a free port; an address without a host, :9090,\n" +
			"listens on every interface): the same endpoints, GET /metrics for Prometheus and\n" +
			"the page. A new random token is printed on the \"running\" line (token=, and\n" +
			"url=http://ADDR/?token=...) and kept, mode 0600, in NAME.token beside the socket\n" +
			"until run exits. Every POST (anything that changes the tree) needs the header\n" +
			"Authorization: Bearer TOKEN; GETs need none on a loopback address, and the\n" +
			"header or ?token=TOKEN on any other. The socket needs no token.\n\n" +
			"As PID 1 (a container's init) it also reaps the orphaned processes that end up\n" +
			"as its children.\n\n" +
			"Exit status: 0 stopped on request; 1 the files are not valid, a child failed to\n" +
			"start, or the tree was killed at once; 3 the root supervisor gave up. When a\n" +
			"significant child's exit ended the tree (auto_shutdown), that child's status: an\n" +
			"exec child's exit status N, 128+N for signal N (143: SIGTERM), 0 for a normal\n" +
			"exit, 1 for an actor's abnormal one.",
		Flags: append(instanceFlags(),
			&ucli.StringFlag{Name: "log-format", Value: "text", Usage: "how events are logged to stderr: `text` or json (one object per line)"},
			&ucli.BoolFlag{Name: "no-watch", Usage: "do not reload when the tree's files change"},
			&ucli.StringFlag{Name: "http", Usage: "also serve the control API and /metrics over TCP on `ADDR` (e.g. 127.0.0.1:9090), with a token (see above)"},
			allowUnsafeFlag,
		),
		Action: runAction,
	})
}

// runState is one `otpctl run`: the files, the running tree and how it is
// logged.
type runState struct {
	file    string
	noWatch bool
	log     *slog.Logger
	tree    *loader.Running
}

// haltGrace is how long `run` waits for a tree it killed at once to be
// gone before it exits anyway (a kind's start in progress cannot be
// interrupted; exec workers die with otpctl).
const haltGrace = 5 * time.Second

func runAction(c *ucli.Context) error {
	elog, err := newEventLogger(c.App.ErrWriter, c.String("log-format"))
	if err != nil {
		return exit(ExitUsage, "run: %v", err)
	}
	ignoreSIGPIPE()
	slog.SetDefault(elog.log) // the standard log too (net/http's errors)
	return elog.finish(runTree(c, elog))
}

// runTree is `otpctl run`, logging to elog.
func runTree(c *ucli.Context, elog *eventLogger) error {
	if c.NArg() != 1 {
		return exit(ExitUsage, "run: one tree FILE is expected (otpctl run FILE)")
	}
	logger := elog.log
	// Before any child starts: they must not inherit NOTIFY_SOCKET.
	notify := newNotifier(logger)
	st := &runState{file: c.Args().First(), noWatch: c.Bool("no-watch"), log: logger}

	files := treeFileOptions(c, logger)
	tree, err := spec.LoadWith(st.file, workers.Default, files)
	if err != nil {
		logDiagnostics(elog, err)
		return exit(ExitFailure, "")
	}
	socket := runSocket(c, tree.Name)
	ln, err := control.Listen(socket)
	if err != nil {
		return exit(ExitFailure, "run: %v", err)
	}
	defer ln.Close()
	var web *httpListener
	if addr := c.String("http"); addr != "" {
		if web, err = listenHTTP(addr, socket); err != nil {
			return err
		}
		defer web.close()
		if !web.loopback {
			elog.say(slog.LevelWarn, "--http is not on a loopback address: every request to it needs the token", "http", web.ln.Addr().String())
		}
	}
	stopLeftovers(socket, logger)
	defer builtin.DropRecord()

	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	// A child subreaper (and a container's init, as PID 1): should the exec
	// workers' keeper be killed, what it kept comes here, and the exec kind
	// kills it; reap such orphans, never the keeper (the kind waits for it).
	if os.Getpid() == 1 || builtin.SetSubreaper() == nil {
		ctx, stopReaping := context.WithCancel(context.Background())
		reaped := make(chan struct{})
		go func() { builtin.ReapOrphans(ctx); close(reaped) }()
		defer func() { stopReaping(); <-reaped }()
	}

	events := control.NewEventLog(10000)
	onEvent := func(e live.Event) { elog.push(events.Append(e)) }

	// The socket answers from the start: while a child starts, `tree`
	// shows it starting, `events` and `wait` answer, and a stop signal or
	// `otpctl shutdown` stops it (see loader.Begin).
	r, err := loader.Begin(tree, loader.Options{Events: onEvent, Log: logger, Files: files,
		Reloading: func() func() { return notify.reloading(tree.Name) }})
	if err != nil {
		events.Close()
		return exit(ExitFailure, "run: %v", err)
	}
	st.tree = r

	shutdownAsked := make(chan struct{}, 1)
	srv := control.NewServer(loader.NewBackend(r, events, func() {
		select {
		case shutdownAsked <- struct{}{}:
		default:
		}
	}))
	srv.DroppedLines = elog.q.droppedTotal
	served := make(chan error, 2)
	go func() { served <- srv.Serve(ln) }()
	if web != nil {
		go func() { served <- srv.ServeTCP(web.ln, web.token, web.loopback) }()
	}

	stopping := false
	stop := func(why string) {
		if stopping {
			return
		}
		stopping = true
		elog.say(slog.LevelInfo, "stopping the tree", "by", why)
		notify.stopping(tree.Name)
		go r.Shutdown(context.Background())
	}
	up := r.Up()
	var watcher *loader.Watcher
	var haltTimer <-chan time.Time
loop:
	for {
		select {
		case <-up:
			up = nil
			if r.StartErr() != nil || stopping {
				continue // Done follows
			}
			attrs := []any{"tree", tree.Name, "socket", socket}
			if web != nil {
				attrs = append(attrs, web.attrs()...)
			}
			elog.say(slog.LevelInfo, "running", attrs...)
			if !st.noWatch {
				w, err := r.Watch(loader.WatchOptions{Errors: func(err error) { elog.say(slog.LevelWarn, "watch: "+err.Error()) }})
				if err != nil {
					elog.say(slog.LevelWarn, "not watching the tree files", "error", err.Error())
				} else {
					watcher = w
				}
			}
			notify.ready(tree.Name)
			// What reading, checking and starting the tree left is
			// garbage from now on: give it back to the OS rather than
			// keep it mapped for as long as the tree runs.
			debug.FreeOSMemory()
		case s := <-sigs:
			switch s {
			case syscall.SIGHUP:
				// logrotate's postrotate: the exec children's log
				// files are opened again by name at their next line.
				builtin.ReopenLogFiles()
				if up != nil {
					elog.say(slog.LevelWarn, "SIGHUP while the tree starts: ignored")
				} else if _, err := st.reload(); err != nil {
					elog.say(slog.LevelWarn, "SIGHUP: "+err.Error())
				}
			case syscall.SIGINT:
				if stopping && haltTimer == nil {
					elog.say(slog.LevelWarn, "second interrupt: killing the tree at once")
					r.Halt()
					haltTimer = time.After(haltGrace)
					continue
				}
				stop("SIGINT")
			default:
				stop(signalName(s))
			}
		case <-shutdownAsked:
			stop("otpctl shutdown")
		case <-haltTimer:
			elog.say(slog.LevelError, "the tree is not gone after being killed; exiting anyway")
			break loop
		case <-r.Done():
			break loop
		}
	}
	if !stopping {
		notify.stopping(tree.Name) // it ended by itself
	}
	if watcher != nil {
		watcher.Close()
	}

	// Followers see their stream end, then the socket closes.
	events.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	srv.Shutdown(ctx)
	cancel()
	<-served
	if web != nil {
		<-served
	}
	if err := r.StartErr(); err != nil && !r.Halted() {
		if stopping {
			elog.say(slog.LevelInfo, "stopped while starting")
			return nil
		}
		return exit(ExitFailure, "run: %v", err)
	}
	return runExit(r)
}

// runExit is `run`'s exit status for how the tree ended.
func runExit(r *loader.Running) error {
	switch {
	case r.GaveUp():
		return exit(ExitGaveUp, "the root supervisor %s gave up: it passed its restart intensity", r.Path())
	case r.Halted():
		return exit(ExitFailure, "the tree was killed at once")
	}
	if path, why, ok := r.AutoShutdownCause(); ok {
		if code := childExitCode(why); code != ExitOK {
			return exit(code, "auto_shutdown: %s exited (%s): exiting with status %d", path, loader.ReasonText(why), code)
		}
		return nil
	}
	reason := r.Reason()
	if reason == nil || errors.Is(reason, runtime.Shutdown) {
		return nil // stopped on request
	}
	return exit(ExitFailure, "the root supervisor %s exited: %s", r.Path(), loader.ReasonText(reason))
}

// childExitCode is the exit status of `run` whose tree a significant
// child's exit ended (auto_shutdown), for that exit's reason: a status the
// reason carries (an exec worker's exit status N, or 128+signal as shells
// report a signal: *builtin.ExitError's ExitCode, or any kind's reason
// with an ExitCode method), else 0 for a normal exit (normal, shutdown,
// shutdown:TEXT) and 1 for an abnormal one (an actor's crash).
func childExitCode(reason error) int {
	var ec interface{ ExitCode() int }
	if errors.As(reason, &ec) {
		if code := ec.ExitCode(); code >= 0 && code <= 255 {
			return code
		}
	}
	if runtime.IsAbnormal(reason) {
		return ExitFailure
	}
	return ExitOK
}

// runSocket is the socket `run` serves: --socket, else the socket of
// --name, else $OTPCTL_SOCKET, else the tree's name's.
func runSocket(c *ucli.Context, treeName string) string {
	if s := c.String("socket"); s != "" {
		return s
	}
	if n := c.String("name"); n != "" {
		return control.SocketPath(n)
	}
	if s := os.Getenv("OTPCTL_SOCKET"); s != "" {
		return s
	}
	return control.SocketPath(treeName)
}

func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}
