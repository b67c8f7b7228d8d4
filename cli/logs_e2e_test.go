package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otpctl/otpctl/control"
	"github.com/otpctl/otpctl/live"
)

const logsYAML = `version: 1
name: lg
supervisor:
  strategy: one_for_one
  max_frequency: 20
  children:
    - name: app
      kind: exec
      args:
        command: [sh, -c, 'echo "hello $$$$"; echo "oops $$$$" >&2; while :; do echo "tick $$$$"; sleep 0.2; done']
        log: {lines: 50, file: logs/app.log}
    - name: back
      supervisor:
        strategy: one_for_one
        children:
          - {name: db, kind: exec, args: {command: [sh, -c, 'echo "db up"; exec sleep 1000']}}
`

// textLine is `otpctl logs`' text: TIME PATH[PID] STREAM: LINE.
var textLine = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (\S+)\[(\d+)\] (stdout|stderr): (.*)$`)

// waitLogLine runs `otpctl logs args...` until a line of it contains s.
func (r *runner) waitLogLine(s string, args ...string) string {
	r.t.Helper()
	deadline := time.Now().Add(e2eTimeout)
	for {
		out := r.mustCtl(append([]string{"logs"}, args...)...)
		if strings.Contains(out, s) {
			return out
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("otpctl logs %s: no %q within %v; got:\n%s", strings.Join(args, " "), s, e2eTimeout, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// `otpctl logs` prints a child's kept lines across its restarts with the
// pid that wrote each, a supervisor's subtree merged, --json and -n; an
// unknown path fails with the likely one; -f follows.
func TestLogsCommand(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "logs"), 0o700); err != nil {
		t.Fatal(err)
	}
	r := startRun(t, dir, writeTree(t, dir, "lg.yaml", logsYAML))
	r.waitStderr(`"msg":"running"`)
	first := r.node("lg/app").OSPid
	r.waitLogLine(fmt.Sprintf("hello %d", first), "lg/app")
	r.mustCtl("kill", "lg/app")
	second := 0
	deadline := time.Now().Add(e2eTimeout)
	for second == 0 || second == first {
		if time.Now().After(deadline) {
			t.Fatal("lg/app did not restart")
		}
		time.Sleep(50 * time.Millisecond)
		second = r.node("lg/app").OSPid
	}
	out := r.waitLogLine(fmt.Sprintf("hello %d", second), "lg/app", "-n", "50")
	pids := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		m := textLine.FindStringSubmatch(l)
		if m == nil || m[1] != "lg/app" || !strings.HasSuffix(m[4], " "+m[2]) {
			t.Fatalf("line %q: want TIME lg/app[PID] STREAM: LINE written by PID", l)
		}
		pids[m[2]] = true
	}
	if !pids[strconv.Itoa(first)] || !pids[strconv.Itoa(second)] {
		t.Fatalf("lines of both starts (%d, %d) expected:\n%s", first, second, out)
	}
	if !strings.Contains(out, fmt.Sprintf("lg/app[%d] stderr: oops %d", first, first)) {
		t.Errorf("no stderr line of the first start:\n%s", out)
	}

	// The root merges its subtree; -n takes the last lines.
	out = r.waitLogLine("lg/back/db", "lg", "-n", "50")
	if !strings.Contains(out, "lg/back/db[") || !strings.Contains(out, "lg/app[") {
		t.Errorf("otpctl logs lg: want lines of lg/app and lg/back/db:\n%s", out)
	}
	if out := r.mustCtl("logs", "lg/app", "-n", "2", "--json"); strings.Count(out, "\n") != 2 {
		t.Errorf("-n 2 --json: %q, want 2 lines", out)
	} else {
		var l control.LogLine
		if err := json.Unmarshal([]byte(strings.Split(out, "\n")[0]), &l); err != nil || l.Path != "lg/app" || l.OSPid != second || (l.Stream != "stdout" && l.Stream != "stderr") {
			t.Errorf("--json line %q: %v", out, err)
		}
	}
	if out := r.mustCtl("logs", "lg/app", "--since", "1h", "-n", "1000"); !strings.Contains(out, fmt.Sprintf("hello %d", first)) {
		t.Errorf("--since 1h misses the first start's lines:\n%s", out)
	}
	if res := r.ctl("logs", "lg/ap"); res.code != ExitFailure || !strings.Contains(res.stderr, "did you mean lg/app?") {
		t.Errorf("logs lg/ap: status %d, %q", res.code, res.stderr)
	}

	// -f: the lines of a start that comes after it began.
	cmd := exec.Command(r.bin, "logs", "lg/app", "-f", "-n", "1")
	cmd.Env = append(append(os.Environ(), raceNoExitSleep), r.env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	<-lines // the last kept line: following has begun
	r.mustCtl("kill", "lg/app")
	timeout := time.After(e2eTimeout)
	for found := false; !found; {
		select {
		case l, open := <-lines:
			if !open {
				t.Fatal("logs -f ended")
			}
			m := textLine.FindStringSubmatch(l)
			found = m != nil && m[2] != strconv.Itoa(second) && strings.HasPrefix(m[4], "hello ")
		case <-timeout:
			t.Fatal("logs -f did not print the new start's hello")
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Errorf("logs -f after SIGINT: %v", err)
	}
}

// log.file (relative to the tree file's folder) gets every line; after
// logrotate's rename, SIGHUP makes the child's next lines land in a new
// file by the configured name.
func TestLogsFileReopenedOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "logs"), 0o700); err != nil {
		t.Fatal(err)
	}
	r := startRun(t, dir, writeTree(t, dir, "lg.yaml", logsYAML))
	r.waitStderr(`"msg":"running"`)
	file := filepath.Join(dir, "logs", "app.log")
	waitFile(t, file, "tick")
	if err := os.Rename(file, file+".1"); err != nil {
		t.Fatal(err)
	}
	r.sig(syscall.SIGHUP)
	waitFile(t, file, "tick")
	data, _ := os.ReadFile(file)
	if first, _, _ := strings.Cut(string(data), "\n"); !regexp.MustCompile(`^\S+Z stdout\[\d+\]: tick \d+$`).MatchString(first) {
		t.Errorf("a line of the reopened file reads %q", first)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the new file: %v %v, want mode 0600", fi.Mode(), err)
	}
}

// waitFile waits until file exists and holds s.
func waitFile(t *testing.T, file, s string) {
	t.Helper()
	deadline := time.Now().Add(e2eTimeout)
	for {
		data, err := os.ReadFile(file)
		if err == nil && strings.Contains(string(data), s) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %q within %v (%v)", file, s, e2eTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A child that floods its output (yes) with run's stderr stuck does not
// stall the tree: it answers, a kill works, `otpctl logs` shows the flood's
// last lines, and the lines stderr did not take are counted.
func TestLogsFloodDoesNotStallTheTree(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "flood.sock")
	file := writeTree(t, dir, "flood.yaml", `version: 1
name: flood
supervisor:
  strategy: one_for_one
  children:
    - {name: yes, kind: exec, args: {command: ["yes"]}}
    - {name: steady, kind: exec, args: {command: [sh, -c, 'echo "steady $$$$"; exec sleep 1000']}}
`)
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close() // never read: run's stderr is stuck once the pipe is full
	_, exited := startRunTo(t, dir, file, sock, wr)
	wr.Close()
	env := []string{"OTPCTL_SOCKET=" + sock}
	if res := otpctl(t, env, "wait", "flood/steady", "--timeout", "60s"); res.code != 0 {
		t.Fatalf("wait: %d %q", res.code, res.stderr)
	}
	res := otpctl(t, env, "logs", "flood/yes", "-n", "3")
	if res.code != 0 || res.stdout == "" {
		t.Fatalf("logs flood/yes: %d %q %q", res.code, res.stdout, res.stderr)
	}
	for _, l := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		if m := textLine.FindStringSubmatch(l); m == nil || m[1] != "flood/yes" || m[4] != "y" {
			t.Errorf("logs flood/yes: line %q", l)
		}
	}
	before := otpctlTreeNode(t, env, "flood/steady")
	if res := otpctl(t, env, "kill", "flood/steady"); res.code != 0 {
		t.Fatalf("kill: %d %q", res.code, res.stderr)
	}
	deadline := time.Now().Add(e2eTimeout)
	for p := 0; p == 0 || p == before; p = otpctlTreeNode(t, env, "flood/steady") {
		if time.Now().After(deadline) {
			t.Fatal("flood/steady was not restarted")
		}
		time.Sleep(50 * time.Millisecond)
	}
	deadline = time.Now().Add(e2eTimeout)
	for dropped(t, sock) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("otpctl_events_dropped_total stays 0 with stderr stuck")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if res := otpctl(t, env, "shutdown"); res.code != 0 {
		t.Fatalf("shutdown: %d %q", res.code, res.stderr)
	}
	if code := exited.within(t, e2eTimeout); code != 0 {
		t.Fatalf("run exited with status %d", code)
	}
}

// otpctlTreeNode is the OS pid of path in `otpctl tree --json` (0 when
// it is not running).
func otpctlTreeNode(t *testing.T, env []string, path string) int {
	t.Helper()
	res := otpctl(t, env, "tree", "--json")
	var n live.Node
	if res.code != 0 || json.Unmarshal([]byte(res.stdout), &n) != nil {
		t.Fatalf("tree --json: %d %q", res.code, res.stderr)
	}
	if c := n.Find(path); c != nil {
		return c.OSPid
	}
	return 0
}

// dropped reads otpctl_events_dropped_total from GET /metrics.
func dropped(t *testing.T, sock string) int {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	resp, err := hc.Get("http://otpctl/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^otpctl_events_dropped_total (\d+)`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no otpctl_events_dropped_total in /metrics:\n%s", body)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}
