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
	Health     *healthArgs       `json:"health"`
	runAsArgs                    // user, group, env_file, umask, limits: exec_env.go
	Log        *logArgs          `json:"log"`
}

// execConfig is an exec worker's args, checked.
type execConfig struct {
	command []string
	env     map[string]string // as written: expanded at start (resolve)
	dir     string
	runAs   *runAs
	stop    syscall.Signal
	ready   *readiness
	health  *healthCheck
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
	r, err := parseRunAs(a.runAsArgs)
	if err != nil {
		nuls = append(nuls, err)
	}
	if len(nuls) > 0 {
		return nil, errors.Join(nuls...)
	}
	c := &execConfig{command: a.Command, env: a.Env, dir: a.Dir, stop: syscall.SIGTERM, runAs: r}
	if a.StopSignal != "" {
		sig, ok := signals[strings.TrimPrefix(a.StopSignal, "SIG")]
		if !ok {
			return nil, &workers.ArgError{Pointer: "/stop_signal", Message: fmt.Sprintf("%q is not one of %s", a.StopSignal, strings.Join(signalNames(), ", "))}
		}
		c.stop = sig
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
	if a.Health != nil {
		h, err := a.Health.parse()
		if err != nil {
			return nil, err
		}
		c.health = h
	}
	return c, nil
}

// setProbeEnv gives the command probes of the ready and health checks
// the child's environment and folder, as a start resolved them.
func (c *execConfig) setProbeEnv(env []string, dir string) {
	if c.ready != nil {
		c.ready.env, c.ready.dir = env, dir
	}
	if c.health != nil {
		c.health.env, c.health.dir = env, dir
	}
}

// noNUL appends to errs the refusal of a string arg (a value, or an env
// key) that holds a NUL byte; path is where it is in the args.
func noNUL(errs []error, s string, path ...any) []error {
	if strings.IndexByte(s, 0) < 0 {
		return errs
	}
	return append(errs, &workers.ArgError{Pointer: workers.ArgPointer(path...), Message: fmt.Sprintf("%q must not contain a NUL byte", s)})
}

// checkExecArgs is exec's Check: its Start's own parser, and what its
// start reads of the machine (resolve: its user and group, its env files,
// the variables of its command, env and dir).
func checkExecArgs(raw json.RawMessage) error {
	cfg, err := parseExecArgs(raw)
	if err != nil {
		return err
	}
	_, err = cfg.resolve(0)
	return err
}

// warnExecArgs is exec's Warn: the program and the folder as a start on
// this machine would look for them (the program in otpctl's PATH, or, for
// a path with a slash, relative to dir), without running anything.
func warnExecArgs(raw json.RawMessage) error {
	cfg, err := parseExecArgs(raw)
	if err != nil {
		return nil // Check reports it
	}
	// As a start would see them: ${VAR} expanded.
	c, err := cfg.resolve(0)
	if err != nil {
		return nil // Check reports it
	}
	var warns []error
	dirOK := true
	if c.dir != "" {
		fi, err := os.Stat(c.dir)
		switch {
		case err != nil:
			dirOK = false
			warns = append(warns, &workers.ArgError{Pointer: "/dir", Message: fmt.Sprintf("folder %q does not exist on this machine", c.dir)})
		case !fi.IsDir():
			dirOK = false
			warns = append(warns, &workers.ArgError{Pointer: "/dir", Message: fmt.Sprintf("%q is not a folder", c.dir)})
		}
	}
	prog := c.command[0]
	if !strings.Contains(prog, "/") {
		if _, err := exec.LookPath(prog); err != nil {
			warns = append(warns, &workers.ArgError{Pointer: "/command/0", Message: fmt.Sprintf("program %q is not found in PATH on this machine", prog)})
		}
		return errors.Join(warns...)
	}
	path := prog
	if !filepath.IsAbs(path) && c.dir != "" {
		if !dirOK {
			return errors.Join(warns...) // the folder's warning says it
		}
		path = filepath.Join(c.dir, path)
	}
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		warns = append(warns, &workers.ArgError{Pointer: "/command/0", Message: fmt.Sprintf("program %q does not exist on this machine", prog)})
	case fi.IsDir() || fi.Mode().Perm()&0o111 == 0:
		warns = append(warns, &workers.ArgError{Pointer: "/command/0", Message: fmt.Sprintf("%q is not an executable file", prog)})
	}
	return errors.Join(warns...)
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
		Warn:  warnExecArgs,
	}
}

var execSchema = `{
  "type": "object",
  "additionalProperties": false,
  "required": ["command"],
  "properties": {
    "command": {"type": "array", "items": {"type": "string"}, "minItems": 1, "prefixItems": [{"minLength": 1}], "description": "the program and its arguments (the program is looked up in PATH); ${VAR} and ${VAR:-default} are expanded at each start, $$ is a $"},
    "env": {"type": "object", "additionalProperties": {"type": "string"}, "description": "variables set over otpctl's own environment and env_file; ${VAR} in values is expanded"},
    "dir": {"type": "string", "description": "the working directory (default: otpctl's); ${VAR} is expanded"},
    ` + runAsSchema() + `,
    "log": ` + logSchema + `,
    "stop_signal": {"enum": ["` + strings.Join(signalNames(), `", "`) + `"], "default": "TERM", "description": "sent to the process group to stop it; SIGKILL follows when the shutdown time passes"},
    "ready": {
      "type": "object",
      "additionalProperties": false,
      "description": "when the process counts as started (default: as soon as it runs); exactly one of tcp, http, exec, log, delay",
      "properties": {
        "tcp": ` + tcpSchema + `,
        "http": ` + httpSchema + `,
        "exec": ` + probeCommandSchema("a command run in the child's environment and folder that exits 0 when it is ready, such as [pg_isready, -h, 127.0.0.1]") + `,
        "log": {"type": "string", "minLength": 1, "format": "regex", "x-message": "must be a regular expression in Go syntax, not empty", "description": "a regular expression (Go syntax) matched against each stdout and stderr line"},
        "delay": ` + durationSchema("", "ready this long after start, if still running") + `,
        "timeout": ` + durationSchema(`"30s"`, "how long to wait for tcp, http or log before the start fails") + `
      },
      "oneOf": [
        {"required": ["tcp"]},
        {"required": ["http"]},
        {"required": ["exec"]},
        {"required": ["log"]},
        {"required": ["delay"]}
      ]
    },
    "health": ` + healthSchema + `
  }
}`

// execMsg is what an exec worker's actor receives.
type execMsg struct {
	exited error                // the OS process ended, with this reason
	left   int                  // with exited: processes of its set that still ran
	trap   *runtime.ExitMessage // an exit signal (the worker traps exits)
	ready  bool                 // an output line matched the log check
	poll   bool                 // time to look again (readiness)
	// The health check's: time to probe, a probe's result, and the end of
	// an unhealthy child's time to exit.
	probe     bool
	probed    *probeResult
	graceOver bool
}

type execState struct {
	parent   runtime.Pid
	os       *osProc
	stop     syscall.Signal
	stopping error // set once asked to stop: the reason to exit with
	health   *healthProber
	grace    *time.Timer // an unhealthy child's time to exit
}

// IndexEnv is the environment variable that holds a pool member's index
// (1 … size) in an exec member's environment.
const IndexEnv = "OTPCTL_INDEX"

func startExec(parent *runtime.Process, w workers.Worker) (workers.Instance, error) {
	cfg, err := parseExecArgs(w.Args)
	if err != nil {
		return workers.Instance{}, err
	}
	// Read at each start: a changed env file counts at the next.
	run, err := cfg.resolve(w.Index)
	if err != nil {
		return workers.Instance{}, err
	}
	cfg.setProbeEnv(run.env, run.dir)
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
	var proc *osProc
	var health *healthProber
	self, err := runtime.StartLink(parent, runtime.Spec[*execState, execMsg]{
		InitTimeout: cfg.ready.bound() + 10*time.Second,
		Init: func(p *runtime.Process, self runtime.Subject[execMsg], sel *runtime.Selector[execMsg]) (*execState, error) {
			p.TrapExits(true)
			sel.SelectingTrappedExits(func(m runtime.ExitMessage) execMsg { return execMsg{trap: &m} })
			o := &osProc{reaped: make(chan struct{})}
			hp := newHealthProber(cfg.health, p.Clock(), self)
			health = hp
			// Whatever ends this process (its own stop, a crash, the
			// supervisor's kill after the shutdown time) kills the group
			// before anyone sees the exit, and ends the health probes.
			p.OnExit(func(error) { hp.stop(); o.kill() })
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
			if cfg.ready != nil {
				// A ready check that something else answers would pass
				// for a child that is not up.
				if err := cfg.ready.answersAlready(); err != nil {
					return nil, err
				}
			}
			cmd := exec.Command(run.command[0], run.command[1:]...)
			cmd.Env, cmd.Dir = run.env, run.dir
			o.attr = run.attr
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
			osPid, proc = pid, o
			if err := cfg.ready.wait(p, self, sel); err != nil {
				// Kill it here, not only in OnExit: the runtime acks a
				// failed Init before the actor exits, and the start must
				// not return while the group lives.
				o.kill()
				return nil, err
			}
			watch.Store(false)
			hp.start()
			return &execState{parent: parentPid, os: o, stop: cfg.stop, health: hp}, nil
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
	return workers.Instance{Pid: self.Owner(), OSPid: osPid, Signal: proc.signalLive, Health: health.health()}, nil
}

// execLoop: the supervisor's Shutdown sends stop_signal to the group and
// waits for the process to exit (the supervisor kills the worker, and so
// the group, when its shutdown time passes); any other exit signal ends the
// worker at once with its reason (the group is SIGKILLed on the way out);
// the process's own exit ends the worker with the mapped reason.
func execLoop(_ *runtime.Process, msg execMsg, st *execState) runtime.Next[*execState] {
	switch {
	case msg.exited != nil:
		if st.grace != nil {
			st.grace.Stop()
		}
		if st.stopping != nil {
			return runtime.Stop[*execState](st.stopping)
		}
		return runtime.Stop[*execState](daemonized(msg))
	case msg.trap != nil:
		if msg.trap.From == st.parent && errors.Is(msg.trap.Reason, runtime.Shutdown) {
			if st.stopping == nil {
				st.os.signal(st.stop)
			}
			// Stopped by its supervisor, even while going for being
			// unhealthy: the supervisor waits for a shutdown.
			st.stopping = runtime.Shutdown
			return runtime.Continue(st)
		}
		return runtime.Stop[*execState](msg.trap.Reason)
	case msg.graceOver:
		if _, unhealthy := st.stopping.(*UnhealthyError); unhealthy {
			return runtime.Stop[*execState](st.stopping)
		}
	default:
		st.onProbe(msg)
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
	attr   *spawnAttr // what the keeper applies besides (user, umask, limits)
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

// signalLive is an operator's signal (`otpctl signal`): sig to the whole
// process group while the process has not exited (workers.ErrExited
// after). The supervisor knows nothing of it: an exit it causes is an
// exit as any other.
func (o *osProc) signalLive(sig syscall.Signal) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.pid <= 0 || o.exited {
		return workers.ErrExited
	}
	o.signalGroup(sig)
	return nil
}
