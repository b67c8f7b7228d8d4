// Package builtin holds otpctl's built-in worker kinds: exec (an OS
// process), and the actors counter, cache, echo, ticker and crash.
// Importing it registers them in workers.Default; Register adds them to a
// private registry. Durations are Go duration strings ("500ms") or whole
// seconds.
//
// # exec
//
// An OS process. Args:
//
//	command      [string]        required; the program (looked up in PATH) and its arguments
//	env          {string:string} set over otpctl's own environment
//	dir          string          the working directory (default: otpctl's)
//	user         string|int      run as this user: its uid, gid and groups, HOME, USER, LOGNAME
//	group        string|int      run with this gid (with user: instead of the user's)
//	env_file     string|[string] KEY=VALUE files read at each start (a leading - : optional)
//	umask        string          octal, such as "027"
//	limits       object          nofile, nproc, core, memlock, stack, as, cpu: a number or "infinity"
//	stop_signal  string          TERM (default), INT, HUP, QUIT, KILL, USR1 or USR2
//	ready        object          exactly one of:
//	  tcp:   host:port   a connection is accepted
//	  http:  URL         GET answers 2xx or 3xx (redirects are not followed)
//	  exec:  [string]    a command exits 0 (in the child's environment and folder)
//	  log:   regex       a stdout or stderr line matches (Go syntax)
//	  delay: duration    it still runs after that long
//	  with timeout: duration (default 30s) for tcp, http, exec and log
//	health       object          exactly one of tcp, http, exec (as ready's), with
//	  interval: duration (10s), timeout: duration (2s), failures: int (3),
//	  start_period: duration (0)
//	log          object          where the output lines are kept:
//	  lines:    int       how many last lines Worker.Output keeps (default 1000, at most 100000)
//	  file:     path      append each line to it (relative to Worker.TreeDir; its folder must exist)
//	  max_size: size      rotate the file past it: NMB or NGB (default 10MB)
//	  keep:     int       rotated files kept (default 5; 0: all)
//
// At each start, command, env and dir have ${VAR}, ${VAR:-default} and
// ${VAR-default} expanded ($$ is a $; package internal/expand) from the
// child's environment, built in this order, each over the one before:
// otpctl's, OTPCTL_INDEX for a pool member, HOME, USER and LOGNAME of user,
// the env files in order, env (whose values expand from what comes before
// them; command and dir from all). Check, and so validate, does the same
// on the machine it runs on: an undefined variable, a user or group that
// does not exist, a missing env file, or a user otpctl cannot switch to
// (it is not root, nor already that user) are errors at the arg.
//
// user, group, umask and limits are applied by a start helper between fork
// and exec (internal/keeper): the limits as root, then the umask,
// setgroups, setgid, setuid, then dir as the user (one it cannot enter
// fails the start), so that the child and all it starts are still the
// keeper's descendants and stopped with it. As root, an env file that
// another user could change is refused (internal/trust).
//
// Start returns once the process is ready, so the next sibling waits for it
// (without ready: as soon as it runs). A check that fails in time, or a
// process that exits first, fails the start and the process group is
// killed. A program that is not found fails the start with
// `exec: "prog": executable file not found in $PATH`. A tcp or http ready
// address that already answers before the program starts fails the start
// at once with a *PortTakenError (a stale process holds the port: a check
// it answered would not be this child's).
//
// Health: once ready, the process is probed every interval (the first probe
// one interval after readiness) on the runtime's clock; each probe runs in
// a goroutine of its own, bounded by timeout, so the worker keeps answering
// its supervisor. Failures during start_period do not count until a probe
// passes (Docker's rule); after `failures` failures in a row the process is
// sent stop_signal, SIGKILLed if it still runs 5s later, and the worker
// exits with an *UnhealthyError ("unhealthy: " and the last probe's error),
// a crash to its supervisor. Instance.Health reads the state. A command
// probe runs as an exec child does (through the keeper on Linux, in a
// process group of its own), and its group is killed on timeout.
//
// The process runs in its own process group. When its supervisor stops it,
// stop_signal goes to the whole group and the worker waits for the process
// to exit (its reason is then shutdown); when the shutdown time passes the
// supervisor kills the worker, which SIGKILLs the process's set and reaps the
// process before the supervisor sees it gone. Any other exit signal (a
// crashed parent, `otpctl kill`) SIGKILLs the set at once. When the process
// exits by itself, what is left of its set is SIGKILLed. Its set is its
// group, every process below it, and every process it started that was
// re-parented since (setsid'd or double-forked daemons). A process that
// exits with status 0 while some of its set still runs exits with a
// *DaemonizedError ("... it may have daemonized: run it in the foreground"),
// before it is ready a failed start.
//
// On Linux the processes are children of a keeper (internal/keeper): a
// re-exec of the running binary, one per process that runs exec workers,
// entered from that package's init (before the rest of the binary's), a
// child subreaper that SIGKILLs every process below it when otpctl dies,
// even by SIGKILL. KeepRecord keeps a
// record of them for the next run, should both die at once. Elsewhere the
// process is a child of otpctl and only its group is signalled.
//
// Each line of its stdout and stderr is one log record on the worker's
// logger: message "output", attributes stream (stdout or stderr) and line;
// a line longer than 64 KiB is several. Each is also written to
// Worker.Output (the loader's kept lines, for `otpctl logs`) with its time
// and the OS pid that wrote it, and to log.file if set, as
// `TIME STREAM[PID]: LINE`. The file is rotated by size with
// gopkg.in/natefinch/lumberjack.v2 and created 0600; run as root, a file
// or folder another user could change fails the start (internal/trust).
// ReopenLogFiles closes the files so that the next line opens each again
// by name (`otpctl run` calls it on SIGHUP, for logrotate).
//
// Exit reasons: status 0 is runtime.Normal; another status an *ExitError
// reading "exit status N"; a signal an *ExitError reading "signal: NAME" as
// Go names signals ("signal: killed", "signal: terminated", "signal:
// interrupt"). Its ExitCode is the status a shell would report (N, or 128
// plus the signal's number), which `otpctl run` exits with when that exit
// ended the tree through auto_shutdown.
//
// # Actors
//
// Reachable with `otpctl call PATH JSON`: a request is a JSON object whose
// "op" names the operation; an unknown op gets an error naming the valid
// ones; an unknown field is an error.
//
//	counter  args: initial (integer, default 0)
//	         increment, decrement, get, reset (to initial) → {"value":N}
//	cache    args: max_size (integer ≥ 1, default 1000)
//	         put {key, value (any JSON)} → {"size":N}; error "cache is full" for a new key when full
//	         get {key} → {"found":true,"value":V} or {"found":false}
//	         delete {key} → {"deleted":true|false}
//	         size → {"size":N}
//	echo     no args; replies with the request it got, whatever it is
//	ticker   args: interval (duration > 0, default 1s)
//	         logs "heartbeat" (attribute tick: the count) every interval
//	         get → {"ticks":N}
//	crash    args: reason (string, default "crash"), after (duration, default
//	         1s when probability is not set), probability (0..1, per tick),
//	         interval (duration > 0, default 1s), seed (integer; default random)
//	         exits with reason (see Reason) after `after`, or with probability
//	         at each tick; it takes no requests
//
// The actors tick on their runtime clock (runtime.SendAfter), so a tree run
// with a runtime.FakeClock moves them by hand.
package builtin

import "github.com/otpctl/otpctl/workers"

// Register adds the built-in kinds to r.
func Register(r *workers.Registry) {
	for _, k := range Kinds() {
		r.Register(k)
	}
}

func init() { Register(workers.Default) }

// Kinds returns the built-in kinds.
func Kinds() []workers.Kind {
	return []workers.Kind{Exec(), Counter(), Cache(), Echo(), Ticker(), Crash()}
}
