package cli

import (
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otpctl/otpctl/live"
)

// freePortPrefix returns a prefix P (2001 … 6552) such that the ports P1,
// P2 … Pn (P*10+i, all above 20000) are free now.
func freePortPrefix(t *testing.T, n int) int {
	t.Helper()
	for p := 2001 + time.Now().Nanosecond()%4000; p < 6553; p++ {
		var ls []net.Listener
		for i := 1; i <= n; i++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d%d", p, i))
			if err != nil {
				break
			}
			ls = append(ls, l)
		}
		for _, l := range ls {
			l.Close()
		}
		if len(ls) == n {
			return p
		}
	}
	t.Skip("no free ports")
	return 0
}

// poolTree is a tree of a pool of web servers on ports P1 … Psites, and a
// pool of echo workers.
func poolTree(prefix, sites, echoes int) string {
	return fmt.Sprintf(`version: 1
name: farm
supervisor:
  children:
    - name: web
      pool:
        kind: exec
        size: %d
        args:
          command: [python3, -m, http.server, "%d${OTPCTL_INDEX}", --bind, 127.0.0.1]
          ready: {http: "http://127.0.0.1:%d${OTPCTL_INDEX}/", timeout: 30s}
    - name: echo
      pool: {kind: echo, size: %d}
    - name: env
      pool:
        kind: exec
        size: 2
        args: {command: [sh, -c, 'echo "index=$OTPCTL_INDEX"; exec sleep 600']}
`, sites, prefix, prefix, echoes)
}

func memberPids(t *testing.T, n *live.Node) map[string]string {
	t.Helper()
	out := map[string]string{}
	for i, c := range n.Children {
		if c.Name != strconv.Itoa(i+1) || c.State != "running" {
			t.Fatalf("%s: member %d is %s %s", n.Path, i+1, c.Name, c.State)
		}
		out[c.Name] = c.Pid
	}
	return out
}

func answersHTTP(port string) bool {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://127.0.0.1:" + port + "/")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

// TestPoolEndToEnd runs pools with the real binary: three python3 web
// servers listening side by side on ports from their index, echo members
// called through the pool and one by one, OTPCTL_INDEX in an exec member's
// environment, `scale` up and down keeping the other members, and a reload
// of the sizes (`plan` shows it first).
func TestPoolEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("needs python3")
	}
	prefix := freePortPrefix(t, 3)
	dir := t.TempDir()
	file := writeTree(t, dir, "farm.yaml", poolTree(prefix, 3, 2))
	r := startRun(t, dir, file, "--no-watch")
	r.waitEvent(0, "started farm boot")

	for i := 1; i <= 3; i++ {
		if port := fmt.Sprintf("%d%d", prefix, i); !answersHTTP(port) {
			t.Errorf("member %d's web server does not answer on port %s", i, port)
		}
	}
	r.waitStderr("index=1")
	r.waitStderr("index=2")

	web := r.node("farm/web")
	if !web.Pool || web.Size != 3 || web.Dispatch != "round_robin" || web.Kind != "exec" || len(web.Children) != 3 {
		t.Fatalf("farm/web: %+v", web)
	}
	for _, c := range web.Children {
		if c.OSPid == 0 {
			t.Errorf("%s has no OS pid", c.Path)
		}
	}
	if out := r.mustCtl("tree"); !strings.Contains(out, "web   ") || !strings.Contains(out, "round_robin") || !strings.Contains(out, "└─ 3") {
		t.Errorf("tree does not show the pool and its members:\n%s", out)
	}

	// Calls: dispatched, or to one member.
	if got := r.mustCtl("call", "farm/echo", `{"op":"hi"}`); got != "{\"op\":\"hi\"}\n" {
		t.Errorf("call farm/echo: %q", got)
	}
	if got := r.mustCtl("call", "farm/echo/2", `{"op":"two"}`); got != "{\"op\":\"two\"}\n" {
		t.Errorf("call farm/echo/2: %q", got)
	}
	if res := r.ctl("call", "farm/web", `{}`); res.code != 1 || !strings.Contains(res.stderr, "take no requests") {
		t.Errorf("call to a pool of exec members: status %d, %q", res.code, res.stderr)
	}

	// Scale up and down: the others keep their pids.
	echo := memberPids(t, r.node("farm/echo"))
	if got := r.mustCtl("scale", "farm/echo", "4"); got != "scaled farm/echo 2 → 4\n" {
		t.Errorf("scale up: %q", got)
	}
	grown := memberPids(t, r.node("farm/echo"))
	if len(grown) != 4 || grown["1"] != echo["1"] || grown["2"] != echo["2"] {
		t.Errorf("scale 2 → 4: members %v, before %v", grown, echo)
	}
	webPids := memberPids(t, web)
	if got := r.mustCtl("scale", "farm/web", "2"); got != "scaled farm/web 3 → 2\n" {
		t.Errorf("scale down: %q", got)
	}
	shrunk := memberPids(t, r.node("farm/web"))
	if len(shrunk) != 2 || shrunk["1"] != webPids["1"] || shrunk["2"] != webPids["2"] {
		t.Errorf("scale 3 → 2: members %v, before %v", shrunk, webPids)
	}
	for _, bad := range [][]string{{"scale", "farm/echo", "0"}, {"scale", "farm/echo", "2000"}, {"scale", "farm/echo/1", "2"}, {"scale", "farm/nope", "2"}} {
		if res := r.ctl(bad...); res.code != 1 {
			t.Errorf("otpctl %s: status %d, want 1", strings.Join(bad, " "), res.code)
		}
	}
	if res := r.ctl("scale", "farm/echo", "many"); res.code != 2 {
		t.Errorf("scale with a size that is not a number: status %d, want 2", res.code)
	}

	// A reload of the sizes: the file says web 3 (member 3 starts again)
	// and echo 6 (two more than the 4 it runs).
	next := writeTree(t, dir, "next.yaml", poolTree(prefix, 3, 6))
	plan := otpctl(t, nil, "plan", file, next)
	if plan.code != 1 || !strings.Contains(plan.stdout, "~ farm/echo (size 2 → 6: 4 started)") {
		t.Errorf("plan: status %d\n%s", plan.code, plan.stdout)
	}
	writeTree(t, dir, "farm.yaml", poolTree(prefix, 3, 6))
	out := r.mustCtl("reload")
	for _, want := range []string{"~ farm/web (size 2 → 3: 1 started)", "~ farm/echo (size 4 → 6: 2 started)"} {
		if !strings.Contains(out, want) {
			t.Errorf("reload does not say %q:\n%s", want, out)
		}
	}
	after := memberPids(t, r.node("farm/echo"))
	if len(after) != 6 || after["3"] != grown["3"] || after["4"] != grown["4"] {
		t.Errorf("reload 4 → 6: members %v, before %v", after, grown)
	}
	if port := fmt.Sprintf("%d3", prefix); !answersHTTP(port) {
		t.Errorf("member 3 started again by the reload does not answer on port %s", port)
	}

	bad := writeTree(t, dir, "bad.yaml", strings.Replace(poolTree(prefix, 3, 2), "size: 3", "size: 0", 1))
	if res := otpctl(t, nil, "validate", bad); res.code != 1 || !strings.Contains(res.stdout+res.stderr, filepath.Base(bad)+":8:15: size: must be at least 1; got 0") {
		t.Errorf("validate of a pool of size 0: status %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	r.mustCtl("shutdown")
	if code := r.wait(); code != 0 {
		t.Errorf("run exited %d", code)
	}
}
