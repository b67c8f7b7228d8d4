package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/otpctl/otpctl/internal/testrec"
	"github.com/otpctl/otpctl/live"
)

// e2eTimeout bounds every wait of the end-to-end tests: generous, for a
// race-built binary on a busy machine; no test asserts speed.
const e2eTimeout = 60 * time.Second

// logLine is one line of `run --log-format json`.
type logLine struct {
	Level   string   `json:"level"`
	Msg     string   `json:"msg"`
	Event   string   `json:"event"`
	Path    string   `json:"path"`
	Kind    string   `json:"kind"`
	Pid     string   `json:"pid"`
	OSPid   int      `json:"os_pid"`
	Reason  string   `json:"reason"`
	Cause   string   `json:"cause"`
	Trigger string   `json:"trigger"`
	Signal  string   `json:"signal"`
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
	Changed []string `json:"changed"`
	Updated []string `json:"updated"`
	Failed  []string `json:"failed"`
	Errors  []string `json:"errors"`
}

func (l logLine) String() string {
	s := l.Event + " " + l.Path
	for _, f := range []string{l.Reason, l.Cause, l.Trigger} {
		if f != "" {
			s += " " + f
		}
	}
	return s
}

// runner is an `otpctl run` in the background, its JSON log read line by
// line from its stderr.
type runner struct {
	t      *testing.T
	bin    string // the otpctl binary it runs, and its client commands use
	cmd    *exec.Cmd
	dir    string // its XDG_RUNTIME_DIR and the tree files'
	socket string // "" when it runs on its default socket
	env    []string

	raw    testrec.Log[string]  // every line of its stderr
	logged testrec.Log[logLine] // the lines that are events
	done   chan struct{}        // closed once it has exited and every line is in

	mu   sync.Mutex
	code int
}

// writeTree writes a tree file in dir and returns its path.
func writeTree(t *testing.T, dir, name, yaml string) string {
	t.Helper()
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// startRun runs `otpctl run FILE --log-format json args...` with
// XDG_RUNTIME_DIR in dir, and kills it at the end of the test if it still
// runs.
func startRun(t *testing.T, dir, file string, args ...string) *runner {
	t.Helper()
	return startRunBinary(t, otpctlBin(t), dir, file, args...)
}

// runYAML writes yaml as the tree file name in a folder of its own and
// runs it there as startRun does.
func runYAML(t *testing.T, name, yaml string, args ...string) *runner {
	t.Helper()
	dir := t.TempDir()
	return startRun(t, dir, writeTree(t, dir, name, yaml), args...)
}

// startRunBinary is startRun with another binary built on cli.Main (a
// program with kinds of its own); the runner's client commands use it too.
func startRunBinary(t *testing.T, bin, dir, file string, args ...string) *runner {
	t.Helper()
	return startRunWith(t, bin, dir, file, nil, args...)
}

// startRunWith is startRunBinary with setup, if not nil, called on the
// command before it starts (its process attributes).
func startRunWith(t *testing.T, bin, dir, file string, setup func(*exec.Cmd), args ...string) *runner {
	t.Helper()
	r := &runner{t: t, bin: bin, dir: dir, done: make(chan struct{}),
		env: []string{"XDG_RUNTIME_DIR=" + dir, "OTPCTL_SOCKET="}}
	r.raw.EndWith(r.done)
	r.logged.EndWith(r.done)
	for i, a := range args {
		if a == "--socket" {
			r.socket = args[i+1]
		}
	}
	r.cmd = exec.Command(bin, append([]string{"run", file, "--log-format", "json"}, args...)...)
	r.cmd.Env = append(append(os.Environ(), raceNoExitSleep), r.env...)
	if setup != nil {
		setup(r.cmd)
	}
	stderr, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go r.read(stderr)
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			r.cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

func (r *runner) read(stderr io.Reader) {
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l logLine
		json.Unmarshal(sc.Bytes(), &l)
		r.raw.Add(sc.Text())
		if l.Event != "" {
			r.logged.Add(l)
		}
	}
	err := r.cmd.Wait()
	r.mu.Lock()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	}
	r.mu.Unlock()
	close(r.done)
}

// stderr returns everything run printed so far.
func (r *runner) stderr() string { return strings.Join(r.raw.All(), "\n") }

// events returns the events logged from index from on, as lines.
func (r *runner) events(from int) []string {
	var out []string
	for _, l := range r.logged.Since(from) {
		out = append(out, l.String())
	}
	return out
}

func (r *runner) count() int { return r.logged.Len() }

// line returns the logged event at index i.
func (r *runner) line(i int) logLine { return r.logged.At(i) }

// waitEvent waits for a logged event at or after index from whose line
// starts with prefix, and returns its index.
func (r *runner) waitEvent(from int, prefix string) int {
	r.t.Helper()
	i, err := r.logged.Wait(from, e2eTimeout, func(l logLine) bool { return strings.HasPrefix(l.String(), prefix) })
	switch {
	case errors.Is(err, testrec.ErrEnded):
		r.t.Fatalf("run exited (status %d) without event %q; stderr:\n%s", r.exitCode(), prefix, r.stderr())
	case err != nil:
		r.t.Fatalf("no event %q after #%d within %v; stderr:\n%s", prefix, from, e2eTimeout, r.stderr())
	}
	return i
}

// waitStderr waits until run has printed a line containing s.
func (r *runner) waitStderr(s string) {
	r.t.Helper()
	_, err := r.raw.Wait(0, e2eTimeout, func(l string) bool { return strings.Contains(l, s) })
	switch {
	case errors.Is(err, testrec.ErrEnded):
		r.t.Fatalf("run exited without printing %q; stderr:\n%s", s, r.stderr())
	case err != nil:
		r.t.Fatalf("run did not print %q within %v; stderr:\n%s", s, e2eTimeout, r.stderr())
	}
}

// wait waits for run to exit and returns its status.
func (r *runner) wait() int {
	r.t.Helper()
	select {
	case <-r.done:
	case <-time.After(e2eTimeout):
		r.t.Fatalf("run still running after %v; stderr:\n%s", e2eTimeout, r.stderr())
	}
	return r.exitCode()
}

func (r *runner) exitCode() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.code
}

func (r *runner) sig(s syscall.Signal) {
	r.t.Helper()
	if err := r.cmd.Process.Signal(s); err != nil {
		r.t.Fatal(err)
	}
}

// ctl runs a client command against this instance (its --socket, or its
// XDG_RUNTIME_DIR for the default sockets).
func (r *runner) ctl(args ...string) result {
	r.t.Helper()
	env := r.env
	if r.socket != "" {
		env = append(env, "OTPCTL_SOCKET="+r.socket)
	}
	return runBinary(r.t, r.bin, env, args...)
}

// mustCtl runs a client command that must succeed.
func (r *runner) mustCtl(args ...string) string {
	r.t.Helper()
	res := r.ctl(args...)
	if res.code != 0 {
		r.t.Fatalf("otpctl %s: status %d, stderr %q", strings.Join(args, " "), res.code, res.stderr)
	}
	return res.stdout
}

// tree reads `otpctl tree --json`.
func (r *runner) tree() *live.Node {
	r.t.Helper()
	var n live.Node
	out := r.mustCtl("tree", "--json")
	if err := json.Unmarshal([]byte(out), &n); err != nil {
		r.t.Fatalf("tree --json: %v\n%s", err, out)
	}
	return &n
}

func (r *runner) node(path string) *live.Node {
	r.t.Helper()
	n := r.tree().Find(path)
	if n == nil {
		r.t.Fatalf("no %s in the tree", path)
	}
	return n
}

func expectLines(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
