package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/otpctl/otpctl/control"
	"github.com/otpctl/otpctl/live"
)

// startRunTo runs `otpctl run FILE --log-format json --socket SOCK` with
// stderr going to the file given, and returns the command and its exit,
// and kills it at the end of the test if it still runs.
func startRunTo(t *testing.T, dir, file, sock string, stderr *os.File) (*exec.Cmd, *runExited) {
	t.Helper()
	cmd := exec.Command(otpctlBin(t), "run", file, "--log-format", "json", "--socket", sock)
	cmd.Env = append(os.Environ(), raceNoExitSleep, "XDG_RUNTIME_DIR="+dir, "OTPCTL_SOCKET=")
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e := &runExited{done: make(chan struct{})}
	go func() {
		defer close(e.done)
		var ee *exec.ExitError
		if errors.As(cmd.Wait(), &ee) {
			e.code = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				e.code = 128 + int(ws.Signal()) // as the shell says it
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-e.done
	})
	return cmd, e
}

// runExited is the exit of a run started by startRunTo: code is set when
// done is closed.
type runExited struct {
	done chan struct{}
	code int
}

// within waits up to d for run to exit and returns its status.
func (e *runExited) within(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-e.done:
		return e.code
	case <-time.After(d):
		t.Fatalf("run still runs %v after shutdown", d)
		return 0
	}
}

// TestRunOutlivesAClosedStderr is `otpctl run tree.yaml 2>&1 | head -2`:
// once head is gone, the tree keeps running and answers, and shutdown is
// orderly (status 0, the socket removed).
func TestRunOutlivesAClosedStderr(t *testing.T) {
	dir := t.TempDir()
	file := writeTree(t, dir, "shop.yaml", shopYAML)
	sock := filepath.Join(dir, "ctl.sock")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	_, exited := startRunTo(t, dir, file, sock, pw)
	pw.Close()
	sc := bufio.NewScanner(pr)
	for range 2 {
		if !sc.Scan() {
			t.Fatalf("run wrote less than 2 lines: %v", sc.Err())
		}
	}
	pr.Close() // head exits

	env := []string{"OTPCTL_SOCKET=" + sock}
	mustRun := func(args ...string) string {
		t.Helper()
		res := otpctl(t, env, args...)
		select {
		case <-exited.done:
			t.Fatalf("run exited with status %d once its stderr was closed", exited.code)
		default:
		}
		if res.code != 0 {
			t.Fatalf("otpctl %s: status %d, stderr %q", strings.Join(args, " "), res.code, res.stderr)
		}
		return res.stdout
	}
	mustRun("wait", "shop/echo", "--timeout", "10s")
	for range 3 { // each restart is logged to the closed pipe
		mustRun("kill", "shop/echo")
		mustRun("wait", "shop/echo", "--timeout", "10s")
	}
	var n live.Node
	if err := json.Unmarshal([]byte(mustRun("tree", "--json")), &n); err != nil {
		t.Fatal(err)
	}
	if e := n.Find("shop/echo"); e == nil || e.Restarts != 3 {
		t.Fatalf("shop/echo: %+v", e)
	}
	// Not mustRun: run may be gone by the time shutdown returns.
	if res := otpctl(t, env, "shutdown"); res.code != 0 {
		t.Fatalf("otpctl shutdown: status %d, stderr %q", res.code, res.stderr)
	}
	if code := exited.within(t, e2eTimeout); code != 0 {
		t.Fatalf("run exited with status %d", code)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("the socket is left behind: %v", err)
	}
}

// TestRunWithAStuckStderr gives run a stderr nobody reads (a FIFO) while a
// ticker logs every millisecond and a worker is killed thousands of times
// through the API: memory stays bounded, the ticker still answers, the
// lost lines are counted once the FIFO is read, and shutdown does not wait
// for stderr.
func TestRunWithAStuckStderr(t *testing.T) {
	dir := t.TempDir()
	file := writeTree(t, dir, "busy.yaml", `version: 1
name: busy
supervisor:
  max_frequency: 1000000
  period: 1s
  children:
    - {name: tick, kind: ticker, shutdown: 1s, args: {interval: 1ms}}
    - {name: victim, kind: counter, shutdown: 1s}
`)
	sock := filepath.Join(dir, "ctl.sock")
	fifo := filepath.Join(dir, "stderr")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	rd, err := os.OpenFile(fifo, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	wr, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	cmd, exited := startRunTo(t, dir, file, sock, wr)
	wr.Close()

	client := control.NewClient(sock)
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	for { // until the tree is up and answers
		_, err := client.Wait(ctx, "busy/victim", "running", e2eTimeout, false)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the tree does not answer: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	full := pipeFull(t, rd)
	full() // nobody reads: stderr is stuck from here on
	base := vmRSS(t, cmd.Process.Pid)
	const kills = 3000
	for i := 0; i < kills; i++ {
		if err := client.Kill(ctx, "busy/victim", ""); err != nil && !strings.Contains(err.Error(), "not running") {
			t.Fatalf("kill %d: %v", i, err)
		}
	}
	rss := vmRSS(t, cmd.Process.Pid)
	t.Logf("RSS %d MiB after %d kills with a stuck stderr (%d MiB before)", rss>>20, kills, base>>20)
	// Generous: the race-built binary keeps up to 10,000 events for
	// `otpctl events` and costs some 30 MiB more after these kills with
	// any stderr; a queue that kept every line would grow past it.
	if rss-base > 64<<20 {
		t.Errorf("run's RSS grew from %d to %d MiB in %d kills with a stuck stderr", base>>20, rss>>20, kills)
	}
	res := otpctl(t, []string{"OTPCTL_SOCKET=" + sock}, "call", "busy/tick", `{"op":"get"}`, "--timeout", "10s")
	if res.code != 0 || !strings.Contains(res.stdout, `"ticks"`) {
		t.Fatalf("call busy/tick with a stuck stderr: status %d, %q %q", res.code, res.stdout, res.stderr)
	}

	// Read the FIFO again: the lines that were lost are counted.
	dropped := make(chan int, 1)
	resume := make(chan struct{})
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(rd)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var l struct {
				Msg     string `json:"msg"`
				Dropped int    `json:"dropped"`
			}
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "log_dropped" {
				dropped <- l.Dropped
				<-resume // and stop reading again
			}
		}
	}()
	select {
	case n := <-dropped:
		t.Logf("log_dropped: %d lines", n)
		if n <= 0 {
			t.Errorf("log_dropped counts %d lines", n)
		}
	case <-time.After(e2eTimeout):
		t.Fatal("no log_dropped line once stderr was read again")
	}
	full()

	// Shutdown with 1s shutdown times, stderr stuck again: run exits within
	// 10s (stopping takes at most 1s, closing the socket and the last flush
	// of the log a second or two); before, it waited for stderr for ever.
	if res := otpctl(t, []string{"OTPCTL_SOCKET=" + sock}, "shutdown"); res.code != 0 {
		t.Fatalf("shutdown: status %d, %q", res.code, res.stderr)
	}
	asked := time.Now()
	if code := exited.within(t, 10*time.Second); code != 0 {
		t.Fatalf("run exited with status %d", code)
	}
	t.Logf("run exited %v after shutdown returned", time.Since(asked).Round(time.Millisecond))
	close(resume)
	<-read
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("the socket is left behind: %v", err)
	}
}

// pipeFull returns a function that waits until the pipe read by rd is
// full (less room left than a log line needs).
func pipeFull(t *testing.T, rd *os.File) func() {
	return func() {
		t.Helper()
		raw, err := rd.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(e2eTimeout)
		for {
			var size, queued int
			var err error
			raw.Control(func(fd uintptr) {
				if size, err = unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0); err == nil {
					queued, err = unix.IoctlGetInt(int(fd), unix.TIOCINQ) // FIONREAD
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if queued > size-4096 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the pipe holds %d of %d bytes after %v", queued, size, e2eTimeout)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// vmRSS is the resident memory of process pid, from /proc/PID/status.
func vmRSS(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// TestRunLogsOnlyJSON: with --log-format json every line run writes is
// JSON, the diagnostics of a bad file and the exit line too.
func TestRunLogsOnlyJSON(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, yaml string
		code       int
		last       string // in the last line's msg
	}{
		{"bad file", "version: 1\nsupervisor:\n  children:\n    - {name: a, kind: echoo}\n", ExitFailure, "bad_file.yaml:4:"},
		{"failed start", "version: 1\nsupervisor:\n  children:\n    - {name: a, kind: echo}\n    - {name: b, kind: exec, args: {command: [/nonexistent/program]}}\n",
			ExitFailure, "run: failed_start/b failed to start: "},
		{"give up", "version: 1\nsupervisor:\n  max_frequency: 1\n  children:\n    - {name: c, kind: crash, args: {reason: boom, after: 50ms}}\n",
			ExitGaveUp, "the root supervisor give_up gave up"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name := strings.ReplaceAll(c.name, " ", "_")
			file := writeTree(t, dir, name+".yaml", c.yaml)
			res := otpctl(t, []string{"XDG_RUNTIME_DIR=" + dir, "OTPCTL_SOCKET="}, "run", file, "--log-format", "json", "--socket", filepath.Join(dir, name+".sock"))
			if res.code != c.code {
				t.Fatalf("status %d, want %d; stderr:\n%s", res.code, c.code, res.stderr)
			}
			lines := strings.Split(strings.TrimSuffix(res.stderr, "\n"), "\n")
			var last map[string]any
			for _, l := range lines {
				last = nil
				if err := json.Unmarshal([]byte(l), &last); err != nil {
					t.Fatalf("not JSON: %q", l)
				}
			}
			if msg, _ := last["msg"].(string); !strings.Contains(msg, c.last) || last["level"] != "ERROR" {
				t.Fatalf("last line %v, want an error saying %q", last, c.last)
			}
			if c.name != "bad file" && last["exit_status"] != float64(c.code) {
				t.Fatalf("exit line %v, want exit_status %d", last, c.code)
			}
		})
	}
}

// TestRunWithAFIFOForItsTreeFile puts a FIFO in the tree file's place: the
// watcher does not open it for reading (it would block for ever), the
// reload fails saying why, and shutdown is not held up.
func TestRunWithAFIFOForItsTreeFile(t *testing.T) {
	dir := t.TempDir()
	file := writeTree(t, dir, "app.yaml", "version: 1\nsupervisor:\n  children:\n    - {name: a, kind: echo, shutdown: 1s}\n")
	r := startRun(t, dir, file, "--socket", filepath.Join(dir, "ctl.sock"))
	r.waitEvent(0, "started app boot")
	pid := r.node("app/a").Pid
	mark := r.count()
	tmp := file + ".new"
	if err := unix.Mkfifo(tmp, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
	ev, _ := r.nextReload(mark)
	if ev.Event != "reload_failed" || len(ev.Errors) != 1 || !strings.Contains(ev.Errors[0], "not a regular file") {
		t.Fatalf("got %+v", ev)
	}
	if now := r.node("app/a").Pid; now != pid {
		t.Fatalf("app/a is %s, was %s", now, pid)
	}
	r.mustCtl("shutdown")
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("run still runs 10s after shutdown; stderr:\n%s", r.stderr())
	}
	if code := r.exitCode(); code != 0 {
		t.Fatalf("run exited with status %d", code)
	}
}
