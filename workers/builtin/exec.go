package builtin

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/workers"
)

// signals are the stop_signal names exec accepts.
var signals = map[string]syscall.Signal{
	"TERM": syscall.SIGTERM,
	"INT":  syscall.SIGINT,
	"HUP":  syscall.SIGHUP,
	"QUIT": syscall.SIGQUIT,
	"KILL": syscall.SIGKILL,
	"USR1": syscall.SIGUSR1,
	"USR2": syscall.SIGUSR2,
}

// DefaultReadyTimeout is how long exec waits for a tcp, http or log
// readiness check when `timeout` is not set.
const DefaultReadyTimeout = 30 * time.Second

// ExitError is the exit reason of an exec worker whose OS process ended
// by itself other than with status 0 (which is runtime.Normal).
type ExitError struct {
	// Status is the exit status, or -1 when a signal ended the process.
	Status int
	// Signal is the signal that ended it, when Status is -1.
	Signal syscall.Signal
}

// Error reads "exit status N" or "signal: NAME" ("signal: killed",
// "signal: terminated"), as Go's os.ProcessState says it.
func (e *ExitError) Error() string {
	if e.Status < 0 {
		return "signal: " + e.Signal.String()
	}
	return fmt.Sprintf("exit status %d", e.Status)
}

// ExitCode is the status a shell reports for the process: Status, or
// 128 plus the signal's number when a signal ended it (143 for SIGTERM).
// `otpctl run` exits with it when this exit ended the tree through
// auto_shutdown.
func (e *ExitError) ExitCode() int {
	if e.Status < 0 {
		return 128 + int(e.Signal)
	}
	return e.Status
}

// exitReason maps how an OS process ended to an exit reason.
func exitReason(ps *os.ProcessState) error {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok {
		if ps.Success() {
			return runtime.Normal
		}
		return errors.New(ps.String())
	}
	return waitReason(ws)
}

// waitReason maps a wait status to an exit reason.
func waitReason(ws syscall.WaitStatus) error {
	switch {
	case ws.Signaled():
		return &ExitError{Status: -1, Signal: ws.Signal()}
	case ws.ExitStatus() == 0:
		return runtime.Normal
	default:
		return &ExitError{Status: ws.ExitStatus()}
	}
}

type execArgs struct {
	Command    []string          `json:"command"`
	Env        map[string]string `json:"env"`
	Dir        string            `json:"dir"`
	StopSignal string            `json:"stop_signal"`
	Ready      *readyArgs        `json:"ready"`
	Log        *logArgs          `json:"log"`
}

// execConfig is an exec worker's args, checked.
type execConfig struct {
	command []string
	env     []string // nil: otpctl's own
	dir     string
	stop    syscall.Signal
	ready   *readiness
	log     logConfig
}

func parseExecArgs(raw []byte) (*execConfig, error) {
	var a execArgs
	if err := workers.DecodeArgs(raw, &a); err != nil {
		return nil, err
	}
	if len(a.Command) == 0 || a.Command[0] == "" {
		return nil, &workers.ArgError{Pointer: "/command", Message: `must name a program: ["prog", "arg", ...]`}
	}
	// The kernel takes argv, the environment and the folder as C
	// strings: a NUL would fail the start (or cut the string short).
	var nuls []error
	for i, arg := range a.Command {
		nuls = noNUL(nuls, arg, "command", i)
	}
	for _, k := range slices.Sorted(maps.Keys(a.Env)) {
		nuls = noNUL(nuls, k, "env", k)
		nuls = noNUL(nuls, a.Env[k], "env", k)
	}
	nuls = noNUL(nuls, a.Dir, "dir")
	if len(nuls) > 0 {
		return nil, errors.Join(nuls...)
	}
	c := &execConfig{command: a.Command, dir: a.Dir, stop: syscall.SIGTERM}
	if a.StopSignal != "" {
		sig, ok := signals[strings.TrimPrefix(a.StopSignal, "SIG")]
		if !ok {
			return nil, &workers.ArgError{Pointer: "/stop_signal", Message: fmt.Sprintf("%q is not one of %s", a.StopSignal, strings.Join(signalNames(), ", "))}
		}
		c.stop = sig
	}
	if a.Env != nil {
		over := a.Env
		if _, set := over["PWD"]; !set && a.Dir != "" {
			// os/exec sets PWD for Dir only when it builds the
			// environment itself.
			if abs, err := filepath.Abs(a.Dir); err == nil {
				over = maps.Clone(over)
				over["PWD"] = abs
			}
		}
		c.env = mergeEnv(os.Environ(), over)
	}
	if a.Log != nil {
		l, err := a.Log.parse()
		if err != nil {
			return nil, err
		}
		c.log = *l
	}
	if a.Ready != nil {
		r, err := a.Ready.parse()
		if err != nil {
			return nil, err
		}
		c.ready = r
	}
	return c, nil
}

// noNUL appends to errs the refusal of a string arg (a value, or an env
// key) that holds a NUL byte; path is where it is in the args.
func noNUL(errs []error, s string, path ...any) []error {
	if strings.IndexByte(s, 0) < 0 {
		return errs
	}
	return append(errs, &workers.ArgError{Pointer: workers.ArgPointer(path...), Message: fmt.Sprintf("%q must not contain a NUL byte", s)})
}

// checkExecArgs is exec's Check: its Start's own parser.
func checkExecArgs(raw json.RawMessage) error {
	_, err := parseExecArgs(raw)
	return err
}

func signalNames() []string {
	names := make([]string, 0, len(signals))
	for n := range signals {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// mergeEnv sets the variables of over in base (KEY=VALUE entries): a key of
// base keeps its place with the new value; new keys follow, sorted.
func mergeEnv(base []string, over map[string]string) []string {
	out := make([]string, 0, len(base)+len(over))
	seen := map[string]bool{}
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if v, ok := over[k]; ok {
			if !seen[k] {
				out = append(out, k+"="+v)
			}
			seen[k] = true
			continue
		}
		out = append(out, kv)
	}
	keys := make([]string, 0, len(over))
	for k := range over {
		if !seen[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+over[k])
	}
	return out
}

// Exec is the exec kind: an OS process in its own process group. See the
// package doc for its args, stopping and exit reasons.
func Exec() workers.Kind {
	return workers.Kind{
		Name:  "exec",
		Doc:   "an OS process in its own process group, started when ready, stopped with stop_signal then SIGKILL",
		Args:  execSchema,
		Start: startExec,
		Check: checkExecArgs,
	}
}

var execSchema = `{
  "type": "object",
  "additionalProperties": false,
  "required": ["command"],
  "properties": {
    "command": {"type": "array", "items": {"type": "string"}, "minItems": 1, "prefixItems": [{"minLength": 1}], "description": "the program and its arguments (the program is looked up in PATH)"},
    "env": {"type": "object", "additionalProperties": {"type": "string"}, "description": "variables set over otpctl's own environment"},
    "dir": {"type": "string", "description": "the working directory (default: otpctl's)"},
    "log": ` + logSchema + `,
    "stop_signal": {"enum": ["` + strings.Join(signalNames(), `", "`) + `"], "default": "TERM", "description": "sent to the process group to stop it; SIGKILL follows when the shutdown time passes"},
    "ready": {
      "type": "object",
      "additionalProperties": false,
      "description": "when the process counts as started (default: as soon as it runs); exactly one of tcp, http, log, delay",
      "properties": {
        "tcp": {"type": "string", "pattern": "^(\\[[0-9A-Fa-f:.]+\\]|[^\\s:\\[\\]]*):[0-9A-Za-z-]+$", "x-message": "must be host:port, such as 127.0.0.1:5432 or :8080", "description": "host:port that accepts a connection"},
        "http": {"type": "string", "pattern": "^https?://[^\\s]+$", "x-message": "must be an http:// or https:// URL, such as http://127.0.0.1:8080/health", "description": "a URL that answers GET with 2xx or 3xx"},
        "log": {"type": "string", "minLength": 1, "format": "regex", "x-message": "must be a regular expression in Go syntax, not empty", "description": "a regular expression (Go syntax) matched against each stdout and stderr line"},
        "delay": ` + durationSchema("", "ready this long after start, if still running") + `,
        "timeout": ` + durationSchema(`"30s"`, "how long to wait for tcp, http or log before the start fails") + `
      },
      "oneOf": [
        {"required": ["tcp"]},
        {"required": ["http"]},
        {"required": ["log"]},
        {"required": ["delay"]}
      ]
    }
  }
}`

// execMsg is what an exec worker's actor receives.
type execMsg struct {
	exited error                // the OS process ended, with this reason
	left   int                  // with exited: processes of its set that still ran
	trap   *runtime.ExitMessage // an exit signal (the worker traps exits)
	ready  bool                 // an output line matched the log check
	poll   bool                 // time to look again (readiness)
}

type execState struct {
	parent   runtime.Pid
	os       *osProc
	stop     syscall.Signal
	stopping error // set once asked to stop: the reason to exit with
}

// IndexEnv is the environment variable that holds a pool member's index
// (1 … size) in an exec member's environment.
const IndexEnv = "OTPCTL_INDEX"

func startExec(parent *runtime.Process, w workers.Worker) (workers.Instance, error) {
	cfg, err := parseExecArgs(w.Args)
	if err != nil {
		return workers.Instance{}, err
	}
	if w.Index > 0 { // a pool member: its index, for its args' ${OTPCTL_INDEX}'s sake too
		base := cfg.env
		if base == nil {
			base = os.Environ()
		}
		cfg.env = mergeEnv(base, map[string]string{IndexEnv: strconv.Itoa(w.Index)})
	}
	log := w.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sink, err := openSink(cfg.log, w)
	if err != nil {
		return workers.Instance{}, err
	}
	parentPid := parent.Self()
	var osPid int
	self, err := runtime.StartLink(parent, runtime.Spec[*execState, execMsg]{
		InitTimeout: cfg.ready.bound() + 10*time.Second,
		Init: func(p *runtime.Process, self runtime.Subject[execMsg], sel *runtime.Selector[execMsg]) (*execState, error) {
			p.TrapExits(true)
			sel.SelectingTrappedExits(func(m runtime.ExitMessage) execMsg { return execMsg{trap: &m} })
			o := &osProc{reaped: make(chan struct{})}
			// Whatever ends this process (its own stop, a crash, the
			// supervisor's kill after the shutdown time) kills the group
			// before anyone sees the exit.
			p.OnExit(func(error) { o.kill() })
			var watch atomic.Bool
			onLine := func(string) {}
			if re := cfg.ready.logRegexp(); re != nil {
				watch.Store(true)
				onLine = func(line string) {
					if watch.Load() && re.MatchString(line) && watch.CompareAndSwap(true, false) {
						self.Send(execMsg{ready: true})
					}
				}
			}
			cmd := exec.Command(cfg.command[0], cfg.command[1:]...)
			cmd.Env, cmd.Dir = cfg.env, cfg.dir
			stdout := &lineWriter{log: log, stream: "stdout", onLine: onLine, sink: sink}
			stderr := &lineWriter{log: log, stream: "stderr", onLine: onLine, sink: sink}
			cmd.Stdout, cmd.Stderr = stdout, stderr
			pid, err := o.forkAndWait(cmd, func(reason error, left int) {
				stdout.flush()
				stderr.flush()
				self.Send(execMsg{exited: reason, left: left})
			})
			sink.forkDone(pid)
			if err != nil {
				return nil, err
			}
			osPid = pid
			if err := cfg.ready.wait(p, self, sel); err != nil {
				// Kill it here, not only in OnExit: the runtime acks a
				// failed Init before the actor exits, and the start must
				// not return while the group lives.
				o.kill()
				return nil, err
			}
			watch.Store(false)
			return &execState{parent: parentPid, os: o, stop: cfg.stop}, nil
		},
		Loop: execLoop,
	})
	if err != nil {
		var ie *runtime.InitError
		if errors.As(err, &ie) && !errors.Is(ie.Reason, runtime.ErrTimeout) {
			return workers.Instance{}, ie.Reason
		}
		return workers.Instance{}, err
	}
	return workers.Instance{Pid: self.Owner(), OSPid: osPid}, nil
}

// execLoop: the supervisor's Shutdown sends stop_signal to the group and
// waits for the process to exit (the supervisor kills the worker, and so
// the group, when its shutdown time passes); any other exit signal ends the
// worker at once with its reason (the group is SIGKILLed on the way out);
// the process's own exit ends the worker with the mapped reason.
func execLoop(_ *runtime.Process, msg execMsg, st *execState) runtime.Next[*execState] {
	switch {
	case msg.exited != nil:
		if st.stopping != nil {
			return runtime.Stop[*execState](st.stopping)
		}
		return runtime.Stop[*execState](daemonized(msg))
	case msg.trap != nil:
		if msg.trap.From == st.parent && errors.Is(msg.trap.Reason, runtime.Shutdown) {
			if st.stopping == nil {
				st.stopping = runtime.Shutdown
				st.os.signal(st.stop)
			}
			return runtime.Continue(st)
		}
		return runtime.Stop[*execState](msg.trap.Reason)
	}
	return runtime.Continue(st)
}

// osProc is an exec worker's OS process and its process group (whose id is
// the process's pid, as it runs with Setpgid).
type osProc struct {
	mu     sync.Mutex
	pid    int  // 0 until forked
	doomed bool // SIGKILL was asked for: kill it as soon as it is forked
	exited bool // it has exited: the group is not signalled any more
	link   osLink
	// reaped is closed once the process has been reaped and its output
	// pipes have closed (so no process of its group holds them).
	reaped chan struct{}
}

// reapWait bounds how long kill waits for the killed group to be gone.
// SIGKILL takes effect at once unless a process is stuck in the kernel.
const reapWait = 2 * time.Second

// kill SIGKILLs the group and waits, up to reapWait, until the process has
// been reaped and its output pipes are closed: when the worker's supervisor
// sees it gone (and may start it again, on the same port), the OS process
// is gone too, not just signalled.
func (o *osProc) kill() {
	o.signal(syscall.SIGKILL)
	o.mu.Lock()
	forked := o.pid > 0
	o.mu.Unlock()
	if !forked {
		return
	}
	t := time.NewTimer(reapWait)
	defer t.Stop()
	select {
	case <-o.reaped:
	case <-t.C:
	}
}

// signal sends sig to the whole process group, if the process has not
// exited yet.
func (o *osProc) signal(sig syscall.Signal) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if sig == syscall.SIGKILL {
		o.doomed = true
	}
	if o.pid > 0 && !o.exited {
		o.signalGroup(sig)
	}
}
