package builtin_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/workers"
	"github.com/otpctl/otpctl/workers/builtin"
)

var execKind = builtin.Exec()

// execArgs builds exec args.
func execArgs(t *testing.T, command []string, extra map[string]any) string {
	t.Helper()
	m := map[string]any{"command": command}
	for k, v := range extra {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func checkNoOrphans(t *testing.T) { t.Cleanup(func() { noOrphans(t) }) }

// An HTTP server (python3) is up, for tcp and http checks, when Start
// returns: the supervisor's start waits for readiness.
func TestExecReadyNetwork(t *testing.T) {
	checkNoOrphans(t)
	for _, check := range []string{"tcp", "http"} {
		t.Run(check, func(t *testing.T) {
			port := freePort(t)
			addr := fmt.Sprintf("127.0.0.1:%d", port)
			target := addr
			if check == "http" {
				target = "http://" + addr + "/"
			}
			tr := mustStartTree(t, execKind, execArgs(t,
				[]string{"python3", "-m", "http.server", strconv.Itoa(port), "--bind", "127.0.0.1"},
				map[string]any{"ready": map[string]any{check: target, "timeout": "20s"}}), treeOpt{})
			// No retry: it must answer now.
			resp, err := http.Get("http://" + addr + "/")
			if err != nil {
				t.Fatalf("started but not serving: %v", err)
			}
			resp.Body.Close()
			http.DefaultClient.CloseIdleConnections()
			if resp.StatusCode != 200 {
				t.Fatalf("GET: %s", resp.Status)
			}
			osPid := tr.instance().OSPid
			if st, _, pgid := procState(osPid); st == "" || pgid != osPid {
				t.Fatalf("OS pid %d: state %q, process group %d; want a running group leader", osPid, st, pgid)
			}
			tr.stop()
			awaitGone(t, osPid)
		})
	}
}

// A log check is ready once a line matches: by then the line was relayed.
func TestExecReadyLog(t *testing.T) {
	checkNoOrphans(t)
	tr := mustStartTree(t, execKind, execArgs(t,
		[]string{"sh", "-c", "echo starting; sleep 0.2; echo ready on port 7 >&2; exec sleep 1000"},
		map[string]any{"ready": map[string]any{"log": "ready on port [0-9]+"}}), treeOpt{})
	var lines []string
	for _, r := range tr.logs.All() {
		if r.Msg == "output" {
			lines = append(lines, r.Attrs["stream"]+": "+r.Attrs["line"])
		}
	}
	if want := []string{"stdout: starting", "stderr: ready on port 7"}; strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Fatalf("output relayed before ready: %q, want %q", lines, want)
	}
}

// A delay check is ready after the delay if the process still runs; one
// that exits before fails the start with its exit reason (so the start did
// wait).
func TestExecReadyDelay(t *testing.T) {
	checkNoOrphans(t)
	mustStartTree(t, execKind, execArgs(t, []string{"sleep", "1000"},
		map[string]any{"ready": map[string]any{"delay": "50ms"}}), treeOpt{})

	// Readiness keeps real time even when the tree runs on a fake clock.
	mustStartTree(t, execKind, execArgs(t, []string{"sleep", "1000"},
		map[string]any{"ready": map[string]any{"delay": "50ms"}}), treeOpt{clock: runtime.NewFakeClock(time.Unix(0, 0))})

	_, err := startTree(t, execKind, execArgs(t, []string{"sh", "-c", "sleep 0.1; exit 3"},
		map[string]any{"ready": map[string]any{"delay": "60s"}}), treeOpt{})
	var ee *builtin.ExitError
	if !errors.As(err, &ee) || ee.Status != 3 || !strings.Contains(err.Error(), "exited before it was ready (delay 1m0s): exit status 3") {
		t.Fatalf("start error = %v; want exited before it was ready ... exit status 3", err)
	}
}

// A check that does not pass in time fails the start, and the process
// group is killed.
func TestExecReadyTimeout(t *testing.T) {
	checkNoOrphans(t)
	port := freePort(t)
	for _, tc := range []struct {
		name, check, target, want string
	}{
		{"tcp", "tcp", fmt.Sprintf("127.0.0.1:%d", port), "not ready within 300ms (tcp 127.0.0.1:"},
		{"http", "http", fmt.Sprintf("http://127.0.0.1:%d/", port), "not ready within 300ms (http http://127.0.0.1:"},
		{"log", "log", "never printed", `not ready within 300ms (log "never printed")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The shell prints its pid, then runs a grandchild.
			tr, err := startTree(t, execKind, execArgs(t, []string{"sh", "-c", "echo $$$$; sleep 1000 & echo $!; wait"},
				map[string]any{"ready": map[string]any{tc.check: tc.target, "timeout": "300ms"}}), treeOpt{})
			var se *runtime.StartError
			if !errors.As(err, &se) || se.Path != "t/w" || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("start error = %v; want a StartError for t/w with %q", err, tc.want)
			}
			var pids []int
			for _, r := range tr.logs.All() {
				if pid, err := strconv.Atoi(r.Attrs["line"]); err == nil {
					pids = append(pids, pid)
				}
			}
			if len(pids) != 2 {
				t.Fatalf("pids %v: want the shell's and its child's", pids)
			}
			// The shell was reaped before the start returned.
			if st, _, _ := procState(pids[0]); st != "" {
				t.Errorf("shell %d is %s after the failed start", pids[0], st)
			}
			for _, pid := range pids {
				awaitGone(t, pid)
			}
		})
	}
}

func TestExecCommandNotFound(t *testing.T) {
	checkNoOrphans(t)
	_, err := startTree(t, execKind, `{"command":["otpctl-no-such-program","x"]}`, treeOpt{})
	want := `exec: "otpctl-no-such-program": executable file not found in $PATH`
	var se *runtime.StartError
	if !errors.As(err, &se) || se.Reason.Error() != want {
		t.Fatalf("start error = %v; want reason %s", err, want)
	}
	if !errors.Is(err, exec.ErrNotFound) {
		t.Fatalf("start error %v does not wrap exec.ErrNotFound", err)
	}
}

// The OS process's end is the worker's exit reason.
func TestExecExitReasons(t *testing.T) {
	checkNoOrphans(t)
	for _, tc := range []struct {
		script string
		want   string
		code   int // ExitCode, as a shell reports it
	}{
		{"exit 0", "normal", 0},
		{"exit 2", "exit status 2", 2},
		{"exit 255", "exit status 255", 255},
		{"kill -TERM $$$$", "signal: terminated", 143},
		{"kill -KILL $$$$", "signal: killed", 137},
		{"kill -INT $$$$", "signal: interrupt", 130},
		{"kill -HUP $$$$", "signal: hangup", 129},
	} {
		t.Run(tc.script, func(t *testing.T) {
			tr := mustStartTree(t, execKind, execArgs(t, []string{"sh", "-c", tc.script}, nil),
				treeOpt{restart: runtime.Temporary})
			// It may exit before the start returns: the reason is in the
			// exited event.
			e := tr.event(runtime.EventExited)
			if e.Reason == nil || e.Reason.Error() != tc.want {
				t.Fatalf("exit reason = %v, want %s", e.Reason, tc.want)
			}
			var ee *builtin.ExitError
			if errors.As(e.Reason, &ee) != (tc.code != 0) || (tc.code != 0 && ee.ExitCode() != tc.code) {
				t.Fatalf("exit reason %#v: want an *ExitError with ExitCode %d", e.Reason, tc.code)
			}
			if tc.want == "normal" && !errors.Is(e.Reason, runtime.Normal) {
				t.Fatalf("status 0 is %#v, not runtime.Normal", e.Reason)
			}
			if tc.want != "normal" && !runtime.IsAbnormal(e.Reason) {
				t.Fatalf("%v is not abnormal", e.Reason)
			}
		})
	}
}

// Stopping sends stop_signal to the group; the worker's reason is shutdown.
func TestExecStopSignal(t *testing.T) {
	checkNoOrphans(t)
	// TERM is ignored: only INT stops it before the (long) shutdown time.
	script := `import signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
def stop(*a):
    print("got INT", flush=True)
    sys.exit(0)
signal.signal(signal.SIGINT, stop)
print("up", flush=True)
time.sleep(1000)`
	tr := mustStartTree(t, execKind, execArgs(t, []string{"python3", "-c", script},
		map[string]any{"stop_signal": "INT", "ready": map[string]any{"log": "^up$"}}),
		treeOpt{shutdown: runtime.ShutdownPolicy(60 * time.Second)})
	osPid := tr.instance().OSPid
	if err := tr.sup.TerminateChild("w"); err != nil {
		t.Fatal(err)
	}
	e := tr.event(runtime.EventTerminated)
	if !errors.Is(e.Reason, runtime.Shutdown) || e.NotStopped {
		t.Fatalf("terminated %v (not stopped %v), want shutdown", e.Reason, e.NotStopped)
	}
	tr.logs.line(t, "stdout", func(l string) bool { return l == "got INT" })
	awaitGone(t, osPid)
}

// A process that ignores the stop signal is SIGKILLed, with its whole group,
// when the shutdown time passes.
func TestExecStopKillsAfterShutdown(t *testing.T) {
	checkNoOrphans(t)
	tr := mustStartTree(t, execKind, execArgs(t,
		[]string{"sh", "-c", `trap "" TERM; sleep 1000 & echo $!; echo trapped; wait; wait`},
		map[string]any{"ready": map[string]any{"log": "^trapped$"}}),
		treeOpt{shutdown: runtime.ShutdownPolicy(300 * time.Millisecond)})
	osPid := tr.instance().OSPid
	grandchild := pidLine(t, tr)
	if err := tr.sup.TerminateChild("w"); err != nil {
		t.Fatal(err)
	}
	e := tr.event(runtime.EventTerminated)
	if !errors.Is(e.Reason, runtime.Killed) {
		t.Fatalf("terminated %v, want killed", e.Reason)
	}
	// The worker's OnExit killed the group and reaped the process before
	// the supervisor saw the Down; the grandchild, killed with it, may
	// still be on its way out (its pipes are closed).
	if st, _, _ := procState(osPid); st != "" {
		t.Errorf("process %d is %s after terminated, want reaped", osPid, st)
	}
	awaitGone(t, grandchild)
}

// brutal_kill kills the group at once.
func TestExecBrutalKill(t *testing.T) {
	checkNoOrphans(t)
	tr := mustStartTree(t, execKind, execArgs(t, []string{"sleep", "1000"}, nil), treeOpt{shutdown: runtime.BrutalKill})
	osPid := tr.instance().OSPid
	if err := tr.sup.TerminateChild("w"); err != nil {
		t.Fatal(err)
	}
	if e := tr.event(runtime.EventTerminated); !errors.Is(e.Reason, runtime.Killed) {
		t.Fatalf("terminated %v, want killed", e.Reason)
	}
	awaitGone(t, osPid)
}

// pidLine returns the first output line that is a number.
func pidLine(t *testing.T, tr *tree) int {
	t.Helper()
	l := tr.logs.line(t, "stdout", func(l string) bool { _, err := strconv.Atoi(l); return err == nil })
	n, _ := strconv.Atoi(l)
	return n
}

// A child's own children are in its group and are stopped with it.
func TestExecStopsGrandchildren(t *testing.T) {
	checkNoOrphans(t)
	tr := mustStartTree(t, execKind, execArgs(t,
		[]string{"sh", "-c", "sleep 1000 & echo $!; wait"},
		map[string]any{"ready": map[string]any{"log": "^[0-9]+$"}}), treeOpt{})
	osPid := tr.instance().OSPid
	grandchild := pidLine(t, tr)
	if st, _, pgid := procState(grandchild); st == "" || pgid != osPid {
		t.Fatalf("grandchild %d: state %q group %d, want running in group %d", grandchild, st, pgid, osPid)
	}
	if err := tr.sup.TerminateChild("w"); err != nil {
		t.Fatal(err)
	}
	if e := tr.event(runtime.EventTerminated); !errors.Is(e.Reason, runtime.Shutdown) {
		t.Fatalf("terminated %v, want shutdown", e.Reason)
	}
	awaitGone(t, osPid)
	awaitGone(t, grandchild)
}

// When the child exits by itself, what is left of its group is killed.
func TestExecExitKillsLeftovers(t *testing.T) {
	checkNoOrphans(t)
	tr := mustStartTree(t, execKind, execArgs(t,
		[]string{"sh", "-c", "sleep 1000 & echo $!; read x; exit 4"}, nil),
		treeOpt{restart: runtime.Temporary})
	grandchild := pidLine(t, tr)
	if e := tr.event(runtime.EventExited); e.Reason == nil || e.Reason.Error() != "exit status 4" {
		t.Fatalf("exited %v, want exit status 4", e.Reason)
	}
	awaitGone(t, grandchild)
}

// An exit signal from elsewhere (otpctl kill) ends the worker with its
// reason and kills the group.
func TestExecKilledFromOutside(t *testing.T) {
	checkNoOrphans(t)
	tr := mustStartTree(t, execKind, execArgs(t, []string{"sleep", "1000"}, nil), treeOpt{restart: runtime.Temporary})
	inst := tr.instance()
	runtime.Exit(inst.Pid, errors.New("injected"))
	if e := tr.event(runtime.EventExited); e.Reason == nil || e.Reason.Error() != "injected" {
		t.Fatalf("exited %v, want injected", e.Reason)
	}
	awaitGone(t, inst.OSPid)
}

// If the process that runs the tree dies, even by SIGKILL, its keeper (the
// exec children's parent) kills them.
func TestExecParentKilled(t *testing.T) {
	checkNoOrphans(t)
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), helperEnv+"=parent")
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	helper.Stderr = os.Stderr
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		helper.Process.Kill()
		helper.Wait()
		t.Fatalf("helper: %v", err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		helper.Process.Kill()
		helper.Wait()
		t.Fatalf("helper said %q", line)
	}
	_, keeper, _ := procState(child)
	if _, ppid, _ := procState(keeper); ppid != helper.Process.Pid {
		helper.Process.Kill()
		helper.Wait()
		t.Fatalf("child %d has parent %d whose parent is %d, want the helper's keeper", child, keeper, ppid)
	}
	helper.Process.Kill()
	helper.Wait()
	awaitGone(t, child)
	awaitGone(t, keeper)
}

// Output is relayed line by line with its stream; a last line without a
// newline too.
func TestExecOutputRelay(t *testing.T) {
	checkNoOrphans(t)
	tr := mustStartTree(t, execKind, execArgs(t,
		[]string{"sh", "-c", `echo "out 1"; echo "err 1" >&2; printf 'a\r\nb\n\n'; printf partial`}, nil),
		treeOpt{restart: runtime.Temporary})
	tr.event(runtime.EventExited)
	var got []string
	for _, r := range tr.logs.All() {
		if r.Msg == "output" {
			if r.Attrs["path"] != "t/w" {
				t.Errorf("record without the path: %v", r.Attrs)
			}
			got = append(got, r.Attrs["stream"]+":"+r.Attrs["line"])
		}
	}
	// stdout and stderr are relayed by two goroutines: compare each.
	var out, errs []string
	for _, g := range got {
		if s, ok := strings.CutPrefix(g, "stdout:"); ok {
			out = append(out, s)
		} else {
			errs = append(errs, strings.TrimPrefix(g, "stderr:"))
		}
	}
	if want := []string{"out 1", "a", "b", "", "partial"}; strings.Join(out, "|") != strings.Join(want, "|") {
		t.Errorf("stdout lines %q, want %q", out, want)
	}
	if want := []string{"err 1"}; strings.Join(errs, "|") != strings.Join(want, "|") {
		t.Errorf("stderr lines %q, want %q", errs, want)
	}
}

// env is merged over otpctl's environment; dir is the working directory.
func TestExecEnvDir(t *testing.T) {
	checkNoOrphans(t)
	dir := t.TempDir()
	t.Setenv("OTPCTL_TEST_KEPT", "kept")
	t.Setenv("OTPCTL_TEST_OVER", "old")
	tr := mustStartTree(t, execKind, execArgs(t,
		[]string{"sh", "-c", `echo "$OTPCTL_TEST_KEPT $OTPCTL_TEST_OVER $OTPCTL_TEST_NEW"; pwd`},
		map[string]any{"env": map[string]string{"OTPCTL_TEST_OVER": "new", "OTPCTL_TEST_NEW": "added"}, "dir": dir}),
		treeOpt{restart: runtime.Temporary})
	tr.logs.line(t, "stdout", func(l string) bool { return l == "kept new added" })
	tr.logs.line(t, "stdout", func(l string) bool { return l == dir })
}

// Bad args fail the start with a message that names the arg.
func TestExecBadArgs(t *testing.T) {
	for _, tc := range []struct{ args, want string }{
		{`{}`, "args.command: must name a program"},
		{`{"command":[]}`, "args.command: must name a program"},
		{`{"command":["sleep"],"stop_signal":"TERMINATE"}`, `args.stop_signal: "TERMINATE" is not one of HUP, INT, KILL, QUIT, TERM, USR1, USR2`},
		{`{"command":["sleep"],"ready":{}}`, "args.ready: needs exactly one of tcp, http, exec, log, delay"},
		{`{"command":["sleep"],"ready":{"tcp":"a:1","log":"x"}}`, "args.ready: needs exactly one of tcp, http, exec, log, delay"},
		{`{"command":["sleep"],"ready":{"log":"("}}`, "args.ready.log: error parsing regexp"},
		{`{"command":["sleep"],"ready":{"tcp":"nocolon"}}`, "args.ready.tcp: address nocolon: missing port in address"},
		{`{"command":["sleep"],"ready":{"http":"ftp://x"}}`, `args.ready.http: "ftp://x" is not an http:// or https:// URL`},
		{`{"command":["sleep"],"ready":{"delay":"-1s"}}`, `args.ready.delay: must be a duration such as 500ms, 5s or 2m, or a whole number of seconds, not "-1s" (negative)`},
		{`{"command":["sleep"],"usr":"root"}`, `args: json: unknown field "usr"`},
		{`{"command":["sleep"],"user":"no-such-user-otpctl"}`, `args.user: no user named "no-such-user-otpctl" on this machine`},
		{`{"command":["sleep","${OTPCTL_NOPE}"]}`, `args.command[1]: undefined variable OTPCTL_NOPE`},
		{`{"command":["${OTPCTL_NOPE:-}"]}`, `args.command[0]: is empty once expanded`},
		{`{"command":["sleep"],"env_file":"/no/such.env"}`, `args.env_file: env file /no/such.env does not exist`},
		{`{"command":["sleep"],"limits":{"files":1}}`, `args.limits.files: is not one of nofile, nproc, core, memlock, stack, as, cpu`},
	} {
		t.Run(tc.args, func(t *testing.T) {
			p, detach := runtime.Attach()
			defer detach()
			_, err := execKind.Start(p, workers.Worker{Path: "t/w", Args: json.RawMessage(tc.args)})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Start(%s) = %v, want %q", tc.args, err, tc.want)
			}
		})
	}
}

// Started directly (no supervisor), an exec worker is linked to its parent:
// when the parent dies the OS process is killed.
func TestExecLinkedToParent(t *testing.T) {
	checkNoOrphans(t)
	ready := make(chan workers.Instance, 1)
	parent := runtime.Spawn(func(p *runtime.Process) {
		inst, err := execKind.Start(p, workers.Worker{Path: "t/w", Args: json.RawMessage(`{"command":["sleep","1000"]}`)})
		if err != nil {
			panic(err)
		}
		ready <- inst
		runtime.Receive(p, runtime.NewSubject[int](p), runtime.Forever)
	})
	var inst workers.Instance
	select {
	case inst = <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("exec did not start")
	}
	p, detach := runtime.Attach()
	defer detach()
	m := p.Monitor(inst.Pid)
	runtime.Exit(parent, errors.New("parent crashed"))
	sel := runtime.NewSelector[runtime.Down]().SelectingProcessDown(m, func(d runtime.Down) runtime.Down { return d })
	d, err := sel.Select(p, 10*time.Second)
	if err != nil || d.Reason == nil || d.Reason.Error() != "parent crashed" {
		t.Fatalf("worker Down %v (%v), want parent crashed", d.Reason, err)
	}
	awaitGone(t, inst.OSPid)
}
