package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otpctl/otpctl/control"
	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/spec"
)

// shopYAML is the tree most end-to-end tests run.
const shopYAML = `version: 1
name: shop
supervisor:
  strategy: one_for_one
  max_frequency: 3
  period: 60s
  children:
    - {name: counter, kind: counter, args: {initial: 5}}
    - name: workers
      supervisor:
        strategy: rest_for_one
        children:
          - {name: w1, kind: echo}
          - {name: w2, kind: echo}
    - name: jobs
      dynamic: {kind: echo, max_children: 10}
    - {name: echo, kind: echo}
`

var shopPaths = []string{"shop", "shop/counter", "shop/workers", "shop/workers/w1", "shop/workers/w2", "shop/jobs", "shop/echo"}

func runShop(t *testing.T, args ...string) *runner {
	t.Helper()
	dir := t.TempDir()
	file := writeTree(t, dir, "shop.yaml", shopYAML)
	r := startRun(t, dir, file, append([]string{"--socket", filepath.Join(dir, "ctl.sock")}, args...)...)
	r.waitEvent(0, "started shop boot")
	return r
}

func TestRunKillRestartsThenGivesUp(t *testing.T) {
	r := runShop(t)
	n := r.tree()
	var paths []string
	n.Walk(func(m *live.Node) {
		paths = append(paths, m.Path)
		if m.State != "running" || m.Pid == "" || m.Restarts != 0 {
			t.Errorf("%s at start: state %s pid %q restarts %d", m.Path, m.State, m.Pid, m.Restarts)
		}
	})
	if !slices.Equal(paths, shopPaths) {
		t.Fatalf("paths %q, want %q", paths, shopPaths)
	}
	if n.Budget == nil || n.Budget.String() != "budget 0/3 in 1m" {
		t.Errorf("root budget %+v", n.Budget)
	}
	oldPid := n.Find("shop/echo").Pid

	mark := r.count()
	r.mustCtl("kill", "shop/echo")
	r.waitEvent(mark, "started shop/echo crash shop/echo")
	expectLines(t, r.events(mark), []string{"exited shop/echo killed", "started shop/echo crash shop/echo"})
	echo := r.node("shop/echo")
	if echo.Restarts != 1 || echo.Pid == oldPid || echo.LastRestart == nil {
		t.Errorf("echo after a kill: %+v", echo)
	}
	if b := r.node("shop").Budget; b.Used != 1 {
		t.Errorf("budget after a kill: %+v", b)
	}
	if out := r.mustCtl("tree"); !strings.Contains(out, "budget 1/3 in 1m") || !strings.Contains(out, "1 (") {
		t.Errorf("tree does not show the budget and the restart:\n%s", out)
	}

	for range 2 {
		mark = r.count()
		r.mustCtl("kill", "shop/echo", "--reason", "disk full")
		r.waitEvent(mark, "started shop/echo crash")
		expectLines(t, r.events(mark)[:1], []string{"exited shop/echo disk full"})
	}
	mark = r.count()
	r.mustCtl("kill", "shop/echo")
	r.waitEvent(mark, "give_up shop reached_max_restart_intensity")
	if code := r.wait(); code != ExitGaveUp {
		t.Fatalf("run exited %d, want %d; stderr:\n%s", code, ExitGaveUp, r.stderr())
	}
	got := r.events(mark)
	if got[len(got)-1] != "exited shop shutdown" {
		t.Errorf("last event %q, want the root's exit", got[len(got)-1])
	}
	if !strings.Contains(r.stderr(), "gave up") {
		t.Errorf("no word of giving up on stderr:\n%s", r.stderr())
	}
}

func TestRunSteering(t *testing.T) {
	r := runShop(t)

	mark := r.count()
	r.mustCtl("stop", "shop/echo")
	r.waitEvent(mark, "terminated shop/echo")
	expectLines(t, r.events(mark), []string{"terminated shop/echo shutdown operator"})
	if n := r.node("shop/echo"); n.State != "stopped" || n.Pid != "" {
		t.Errorf("echo after stop: %+v", n)
	}
	r.mustCtl("wait", "shop/echo", "--state", "stopped", "--timeout", "10s")
	if res := r.ctl("wait", "shop/echo", "--timeout", "200ms"); res.code != 1 || !strings.Contains(res.stderr, "not running") {
		t.Errorf("wait for a stopped child to run: %+v", res)
	}

	mark = r.count()
	out := r.mustCtl("start", "shop/echo")
	if !regexp.MustCompile(`^shop/echo <\d+\.\d+>\n$`).MatchString(out) {
		t.Errorf("start printed %q", out)
	}
	r.waitEvent(mark, "started shop/echo operator")
	r.mustCtl("wait", "shop/echo", "--timeout", "10s")
	if res := r.ctl("start", "shop/echo"); res.code != 1 || res.stderr != "otpctl: start shop/echo: it is running\n" {
		t.Errorf("start a running child: %+v", res)
	}

	mark = r.count()
	r.mustCtl("restart", "shop/workers/w1")
	r.waitEvent(mark, "started shop/workers/w1")
	expectLines(t, r.events(mark), []string{"terminated shop/workers/w1 shutdown operator", "started shop/workers/w1 operator"})

	if got := r.mustCtl("call", "shop/counter", `{"op":"increment"}`); got != "{\"value\":6}\n" {
		t.Errorf("call increment = %q", got)
	}
	if got := r.mustCtl("call", "shop/counter", `{"op":"get"}`, "--timeout", "5s"); got != "{\"value\":6}\n" {
		t.Errorf("call get = %q", got)
	}

	if got := r.mustCtl("start", "shop/jobs"); !strings.HasPrefix(got, "shop/jobs/echo-1 <") {
		t.Errorf("start on a dynamic supervisor printed %q", got)
	}
	if got := r.mustCtl("start", "shop/jobs", "--name", "night"); !strings.HasPrefix(got, "shop/jobs/night <") {
		t.Errorf("start --name printed %q", got)
	}
	if got := r.mustCtl("call", "shop/jobs/night", `{"ping":1}`); got != "{\"ping\":1}\n" {
		t.Errorf("call the new child = %q", got)
	}
	if n := r.node("shop/jobs"); len(n.Children) != 2 || !n.Dynamic || n.Kind != "echo" || n.MaxChildren != 10 {
		t.Errorf("jobs: %+v", n)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"kill", "shop/nope"}, "otpctl: kill shop/nope: no such node\n"},
		{[]string{"stop", "shop"}, "otpctl: stop shop: the root is stopped with shutdown\n"},
		{[]string{"call", "shop/workers", `{}`}, "otpctl: call shop/workers: a supervisor takes no requests\n"},
		{[]string{"start", "shop/jobs", "--args", `{"x":1}`}, ""},
		{[]string{"start", "shop/jobs", "--name", "Night"}, "otpctl: start shop/jobs: name \"Night\": a child's name matches ^[a-z0-9][a-z0-9_.-]*$\n"},
		{[]string{"start", "shop/jobs", "--name", "a/b"}, "otpctl: start shop/jobs: name \"a/b\": a child's name matches ^[a-z0-9][a-z0-9_.-]*$\n"},
		{[]string{"start", "shop/jobs", "--name", ".."}, "otpctl: start shop/jobs: name \"..\": a child's name matches ^[a-z0-9][a-z0-9_.-]*$\n"},
		{[]string{"kill", "shop/workers", "--reason", "normal"}, ""},
	} {
		res := r.ctl(c.args...)
		if res.code != 1 || strings.Count(res.stderr, "\n") != 1 || (c.want != "" && res.stderr != c.want) {
			t.Errorf("otpctl %s: status %d, stderr %q; want status 1 and %q", strings.Join(c.args, " "), res.code, res.stderr, c.want)
		}
	}

	// A request that is not JSON is a usage error.
	if res := r.ctl("call", "shop/counter", `{"op":`); res.code != ExitUsage || res.stderr != "otpctl: call: the request is not valid JSON: {\"op\":\n" {
		t.Errorf("otpctl call with a bad request: status %d, stderr %q", res.code, res.stderr)
	}

	res := r.ctl("events", "--json")
	var first live.Event
	if err := json.Unmarshal([]byte(strings.SplitN(res.stdout, "\n", 2)[0]), &first); err != nil || first.Type != "started" || first.Path != "shop/counter" || first.Seq != 1 {
		t.Errorf("events --json starts with %+v (%v)", first, err)
	}
	if res := r.ctl("events"); !strings.Contains(res.stdout, "msg=started event=started path=shop/counter") {
		t.Errorf("events:\n%s", res.stdout)
	}
	if b := r.node("shop").Budget; b.Used != 0 {
		t.Errorf("operator commands counted against the intensity: %+v", b)
	}
}

// stopOrder is what stopping shop logs, in order.
var stopOrder = []string{
	"terminated shop/echo shutdown shutdown",
	"terminated shop/jobs shutdown shutdown",
	"terminated shop/workers/w2 shutdown shutdown",
	"terminated shop/workers/w1 shutdown shutdown",
	"terminated shop/workers shutdown shutdown",
	"terminated shop/counter shutdown shutdown",
	"terminated shop shutdown shutdown",
}

func TestRunShutdownStopsInReverseOrder(t *testing.T) {
	r := runShop(t)
	// A watcher draws the tree until the instance stops.
	watch := exec.Command(otpctlBin(t), "tree", "--watch", "--socket", r.socket)
	pipe, err := watch.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { watch.Process.Kill() })
	firstLine := make([]byte, len("\x1b[H\x1b[2JNODE"))
	if _, err := io.ReadFull(pipe, firstLine); err != nil || !strings.HasSuffix(string(firstLine), "NODE") {
		t.Fatalf("tree --watch began with %q (%v)", firstLine, err)
	}
	rest := make(chan string, 1)
	go func() { b, _ := io.ReadAll(pipe); rest <- string(b) }()

	mark := r.count()
	r.mustCtl("shutdown")
	if code := r.wait(); code != 0 {
		t.Fatalf("run exited %d; stderr:\n%s", code, r.stderr())
	}
	expectLines(t, r.events(mark), stopOrder)
	select {
	case out := <-rest:
		if !strings.HasSuffix(out, "the instance has stopped\n") {
			t.Errorf("tree --watch ended with:\n%s", out)
		}
	case <-time.After(e2eTimeout):
		watch.Process.Kill()
		t.Fatal("tree --watch goes on after the instance stopped")
	}
	if err := watch.Wait(); err != nil {
		t.Errorf("tree --watch: %v", err)
	}
	if res := r.ctl("tree"); res.code != 1 || !strings.Contains(res.stderr, "no otpctl instance is running") {
		t.Errorf("tree after shutdown: %+v", res)
	}
	if _, err := os.Stat(r.socket); !os.IsNotExist(err) {
		t.Errorf("the socket is left behind: %v", err)
	}
}

func TestRunSIGTERMStopsInReverseOrder(t *testing.T) {
	r := runShop(t)
	mark := r.count()
	r.sig(syscall.SIGTERM)
	if code := r.wait(); code != 0 {
		t.Fatalf("run exited %d; stderr:\n%s", code, r.stderr())
	}
	expectLines(t, r.events(mark), stopOrder)
}

func TestRunSecondSIGINTKillsAtOnce(t *testing.T) {
	dir := t.TempDir()
	file := writeTree(t, dir, "stuck.yaml", `version: 1
name: stuck
supervisor:
  children:
    - name: mule
      kind: exec
      shutdown: infinity
      args: {command: ["sh", "-c", "trap '' TERM INT; echo up; while :; do sleep 1; done"], ready: {log: "up"}}
`)
	r := startRun(t, dir, file, "--socket", filepath.Join(dir, "ctl.sock"))
	r.waitEvent(0, "started stuck boot")
	osPid := r.node("stuck/mule").OSPid
	if osPid == 0 {
		t.Fatal("no OS pid for the exec worker")
	}
	r.sig(syscall.SIGINT)
	r.waitStderr("stopping the tree")
	r.sig(syscall.SIGINT) // mule ignores SIGTERM and its shutdown is infinity: only this ends it
	if code := r.wait(); code != ExitFailure {
		t.Fatalf("run exited %d; stderr:\n%s", code, r.stderr())
	}
	if err := syscall.Kill(osPid, 0); err != syscall.ESRCH {
		t.Errorf("the exec worker's process %d is still there: %v", osPid, err)
	}
	if !strings.Contains(r.stderr(), "killed at once") {
		t.Errorf("stderr:\n%s", r.stderr())
	}
}

func TestTwoInstancesSideBySide(t *testing.T) {
	dir := t.TempDir()
	file := writeTree(t, dir, "shop.yaml", shopYAML)
	a := startRun(t, dir, file, "--name", "a")
	b := startRun(t, dir, file, "--name", "b")
	a.waitEvent(0, "started shop boot")
	b.waitEvent(0, "started shop boot")

	if res := a.ctl("tree"); res.code != 1 || res.stderr != "otpctl: 2 instances are running (a, b): pick one with --name\n" {
		t.Errorf("tree without --name: %+v", res)
	}
	mark := b.count()
	a.mustCtl("kill", "shop/echo", "--name", "b")
	b.waitEvent(mark, "started shop/echo crash")
	if n := a.mustCtl("tree", "--json", "--name", "a"); !strings.Contains(n, `"restarts": 0`) || strings.Contains(n, `"restarts": 1`) {
		t.Errorf("a was touched by b's kill:\n%s", n)
	}
	if n := a.mustCtl("tree", "--json", "--instance", "b"); !strings.Contains(n, `"restarts": 1`) {
		t.Errorf("b's restart not in its tree:\n%s", n)
	}

	again := startRun(t, dir, file, "--name", "a")
	if code := again.wait(); code != 1 || !strings.Contains(again.stderr(), "another otpctl instance is running") {
		t.Errorf("a second run of a: status %d, stderr:\n%s", code, again.stderr())
	}
	if strings.Contains(again.stderr(), `"event":"started"`) {
		t.Errorf("the refused run started workers:\n%s", again.stderr())
	}
	a.mustCtl("tree", "--name", "a")
}

func TestSocketPermissions(t *testing.T) {
	dir := t.TempDir()
	file := writeTree(t, dir, "shop.yaml", shopYAML)
	r := startRun(t, dir, file)
	r.waitEvent(0, "started shop boot")
	folder := filepath.Join(dir, "otpctl")
	fi, err := os.Stat(folder)
	if err != nil || fi.Mode().Perm() != 0o700 || !fi.IsDir() {
		t.Errorf("socket folder: %v %v", fi.Mode(), err)
	}
	fi, err = os.Stat(filepath.Join(folder, "shop.sock"))
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Mode()&os.ModeSocket == 0 {
		t.Errorf("socket: %v %v", fi.Mode(), err)
	}
	r.mustCtl("tree") // the only instance, found in the folder
}

// rawClient talks HTTP to a socket without the control client's checks.
func rawClient(socket string) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
	}}
}

func TestMalformedRequestsLeaveTheTreeAlone(t *testing.T) {
	r := runShop(t)
	before := r.tree()
	mark := r.count()

	// A slow client holds a connection with half a request meanwhile.
	slow, err := net.Dial("unix", r.socket)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	slow.Write([]byte("POST /v1/kill HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"pa"))

	big := `{"path":"shop/echo","reason":"` + strings.Repeat("x", control.MaxBodyBytes) + `"}`
	cases := []struct {
		method, url, body string
		status            int
	}{
		{"POST", "/v1/kill", `{`, 400},
		{"POST", "/v1/kill", ``, 400},
		{"POST", "/v1/kill", `[]`, 400},
		{"POST", "/v1/kill", `{"path":""}`, 400},
		{"POST", "/v1/kill", `{"path":"shop/echo","extra":1}`, 400},
		{"POST", "/v1/kill", `{"path":"shop/echo"} {}`, 400},
		{"POST", "/v1/kill", big, 400},
		{"POST", "/v1/kill", `{"path":"shop/nope"}`, 404},
		{"POST", "/v1/kill", `{"path":"shop/workers","reason":"normal"}`, 409},
		{"POST", "/v1/stop", `{"path":1}`, 400},
		{"POST", "/v1/stop", `{"path":"shop/echo/x"}`, 404},
		{"POST", "/v1/stop", `{"path":"shop"}`, 409},
		{"POST", "/v1/restart", `{"pth":"shop/echo"}`, 400},
		{"POST", "/v1/restart", `{"path":"elsewhere/echo"}`, 404},
		{"POST", "/v1/start", `{"path":"shop/jobs","args":"red"}`, 400},
		{"POST", "/v1/start", `{"path":"shop/jobs","name":"Bad Name"}`, 400},
		{"POST", "/v1/start", `{"path":"shop/echo","name":"x"}`, 400},
		{"POST", "/v1/start", `{"path":"shop/echo"}`, 409},
		{"POST", "/v1/call", `{"path":"shop/counter"}`, 400},
		{"POST", "/v1/call", `{"path":"shop/counter","request":{"op":"get"},"timeout":"soon"}`, 400},
		{"POST", "/v1/call", `{"path":"shop/counter","request":{"op":"explode"}}`, 409},
		{"POST", "/v1/call", `{"path":"shop/nope","request":{}}`, 404},
		{"POST", "/v1/shutdown", ``, 0}, // refused below: not sent
		{"GET", "/v1/wait?path=", ``, 400},
		{"GET", "/v1/wait?path=shop/echo&state=dancing", ``, 400},
		{"GET", "/v1/wait?path=shop/echo&timeout=later", ``, 400},
		{"GET", "/v1/events?since=yesterday", ``, 400},
		{"GET", "/v1/nothing", ``, 404},
		{"GET", "/v1/kill", ``, 404},
	}
	hc := rawClient(r.socket)
	for _, c := range cases {
		if c.status == 0 {
			continue
		}
		req, _ := http.NewRequest(c.method, "http://otpctl"+c.url, strings.NewReader(c.body))
		resp, err := hc.Do(req)
		if err != nil {
			t.Errorf("%s %s: %v", c.method, c.url, err)
			continue
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e control.Error
		if resp.StatusCode != c.status || json.Unmarshal(data, &e) != nil || e.Message == "" || e.Code == "" {
			t.Errorf("%s %s %.60q: %d %s, want %d and a JSON error", c.method, c.url, c.body, resp.StatusCode, bytes.TrimSpace(data), c.status)
		}
	}

	after := r.tree()
	var pb, pa []string
	before.Walk(func(n *live.Node) { pb = append(pb, fmt.Sprint(n.Path, n.Pid, n.State, n.Restarts)) })
	after.Walk(func(n *live.Node) { pa = append(pa, fmt.Sprint(n.Path, n.Pid, n.State, n.Restarts)) })
	if !slices.Equal(pa, pb) {
		t.Errorf("the tree changed:\nbefore %q\nafter  %q", pb, pa)
	}
	if ev := r.events(mark); len(ev) != 0 {
		t.Errorf("bad requests made events: %q", ev)
	}
}

func TestRunRefusesBadFilesAndFailedStarts(t *testing.T) {
	dir := t.TempDir()
	bad := writeTree(t, dir, "bad.yaml", `version: 1
supervisor:
  children:
    - {name: a, kind: echoo}
    - {name: a, kind: echo}
`)
	res := otpctl(t, []string{"XDG_RUNTIME_DIR=" + dir}, "run", bad)
	if res.code != 1 || !regexp.MustCompile(`bad\.yaml:4:\d+: `).MatchString(res.stderr) || !regexp.MustCompile(`bad\.yaml:5:\d+: `).MatchString(res.stderr) {
		t.Errorf("run bad.yaml: status %d, stderr:\n%s", res.code, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "otpctl", "bad.sock")); !os.IsNotExist(err) {
		t.Errorf("a bad file opened a socket: %v", err)
	}

	failing := writeTree(t, dir, "failing.yaml", `version: 1
supervisor:
  children:
    - {name: a, kind: echo}
    - {name: broken, kind: exec, args: {command: ["/nonexistent/program"]}}
    - {name: c, kind: echo}
`)
	r := startRun(t, dir, failing)
	if code := r.wait(); code != 1 {
		t.Fatalf("run failing.yaml: status %d; stderr:\n%s", code, r.stderr())
	}
	if !strings.Contains(r.stderr(), `"msg":"run: failing/broken failed to start: `) {
		t.Errorf("stderr does not name the failing child:\n%s", r.stderr())
	}
	ev := r.events(0)
	if len(ev) != 3 || ev[0] != "started failing/a boot" || !strings.HasPrefix(ev[1], "start_failed failing/broken ") ||
		ev[2] != "terminated failing/a shutdown shutdown failing/broken" {
		t.Errorf("events:\n%s", strings.Join(ev, "\n"))
	}
}

func TestClientWithoutInstance(t *testing.T) {
	dir := t.TempDir()
	env := []string{"XDG_RUNTIME_DIR=" + dir, "OTPCTL_SOCKET="}
	for _, args := range [][]string{
		{"tree"},
		{"kill", "shop/echo"},
		{"tree", "--socket", filepath.Join(dir, "none.sock")},
		{"call", "shop/c", "{}", "--name", "shop"},
	} {
		res := otpctl(t, env, args...)
		if res.code != 1 || strings.Count(res.stderr, "\n") != 1 || !strings.Contains(res.stderr, "no otpctl instance is running") {
			t.Errorf("otpctl %s: status %d, stderr %q", strings.Join(args, " "), res.code, res.stderr)
		}
	}
}

func TestRunEndsWithZeroOnAutoShutdown(t *testing.T) {
	dir := t.TempDir()
	file := writeTree(t, dir, "job.yaml", `version: 1
name: job
supervisor:
  auto_shutdown: any_significant
  children:
    - {name: helper, kind: echo}
    - {name: task, kind: crash, restart: transient, significant: true, args: {reason: normal, after: 200ms}}
`)
	r := startRun(t, dir, file, "--socket", filepath.Join(dir, "ctl.sock"))
	if code := r.wait(); code != 0 {
		t.Fatalf("run exited %d; stderr:\n%s", code, r.stderr())
	}
	ev := r.events(0)
	want := []string{"exited job/task normal", "terminated job/helper shutdown shutdown job/task", "exited job shutdown"}
	if len(ev) < 3 || !slices.Equal(ev[len(ev)-3:], want) {
		t.Errorf("events:\n%s", strings.Join(ev, "\n"))
	}
}

// TestExamplesRun runs every example tree, as a user would first try it:
// it starts, answers `otpctl tree`, and stops in order on `otpctl
// shutdown` with status 0.
func TestExamplesRun(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.yaml")
	reg := builtinKinds()
	trees := map[string]*spec.Tree{}
	included := map[string]bool{}
	for _, file := range files {
		tree, err := spec.Load(file, reg)
		if err != nil {
			t.Fatal(err)
		}
		trees[file] = tree
		for _, f := range tree.Files[1:] {
			abs, _ := filepath.Abs(f)
			included[abs] = true
		}
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			tree := trees[file]
			if abs, _ := filepath.Abs(file); included[abs] {
				t.Skip("a subtree that another example includes")
			}
			needs := map[string]bool{}
			var ports []string
			tree.Root.Walk(func(n *spec.Node) {
				if n.Worker != nil && n.Worker.Base == "exec" {
					var a struct {
						Command []string
						Ready   struct{ TCP, HTTP string }
					}
					json.Unmarshal(n.Worker.Args, &a)
					if len(a.Command) > 0 {
						needs[a.Command[0]] = true
					}
					if u, err := url.Parse(a.Ready.HTTP); err == nil && u.Host != "" {
						ports = append(ports, u.Host)
					}
					if a.Ready.TCP != "" {
						ports = append(ports, a.Ready.TCP)
					}
				}
			})
			for prog := range needs {
				if _, err := exec.LookPath(prog); err != nil {
					t.Skipf("%s needs %s", filepath.Base(file), prog)
				}
			}
			for _, addr := range ports {
				l, err := net.Listen("tcp", addr)
				if err != nil {
					t.Skipf("%s needs %s, which is taken: %v", filepath.Base(file), addr, err)
				}
				l.Close()
			}
			dir := t.TempDir()
			r := startRun(t, dir, file, "--socket", filepath.Join(dir, "ctl.sock"))
			r.waitEvent(0, "started "+tree.Name+" boot")
			if n := r.tree(); n.Path != tree.Name || len(n.Children) != len(tree.Root.Supervisor.Children) {
				t.Errorf("tree: %+v", n)
			}
			r.mustCtl("shutdown")
			if code := r.wait(); code != 0 {
				t.Fatalf("run %s exited %d; stderr:\n%s", file, code, r.stderr())
			}
			ev := r.events(0)
			if last := ev[len(ev)-1]; last != "terminated "+tree.Name+" shutdown shutdown" {
				t.Errorf("last event %q", last)
			}
		})
	}
}
