package cli

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otpctl/otpctl/control"
	"github.com/otpctl/otpctl/internal/promtest"
)

const metricsE2ETree = `version: 1
name: shop
supervisor:
  children:
    - {name: counter, kind: counter}
    - name: sleeper
      kind: exec
      args: {command: [sleep, "1000"]}
    - name: jobs
      dynamic: {kind: echo}
`

// runningLine waits for run's "running" line and returns its attributes.
func runningLine(t *testing.T, r *runner) map[string]any {
	t.Helper()
	r.waitStderr(`"msg":"running"`)
	for _, l := range r.raw.All() {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "running" {
			return m
		}
	}
	t.Fatalf("no running line in:\n%s", r.stderr())
	return nil
}

// `otpctl run --http 127.0.0.1:0`: the bound address, the token and the
// page's URL on the running line; /metrics on the TCP listener and on the
// socket; the token rule; the token file, 0600 while run runs and gone
// after.
func TestRunHTTPListenerEndToEnd(t *testing.T) {
	r := runYAML(t, "shop.yaml", metricsE2ETree, "--http", "127.0.0.1:0")
	run := runningLine(t, r)
	addr, _ := run["http"].(string)
	token, _ := run["token"].(string)
	socket, _ := run["socket"].(string)
	if !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") || len(token) != 2*control.TokenBytes {
		t.Fatalf("running line: http %q token %q; want the bound address and a token", addr, token)
	}
	if run["url"] != "http://"+addr+"/?token="+token {
		t.Errorf("running line: url %q", run["url"])
	}

	tokenFile := filepath.Join(r.dir, "otpctl", "shop.token")
	fi, err := os.Lstat(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != 0o600 {
		t.Errorf("%s: mode %v, want -rw-------", tokenFile, fi.Mode())
	}
	if b, _ := os.ReadFile(tokenFile); strings.TrimSpace(string(b)) != token {
		t.Errorf("%s holds %q, want the token", tokenFile, b)
	}

	tcp := &http.Client{Timeout: 10 * time.Second}
	unix := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		}}}
	post := func(path, body, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", "http://"+addr+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := tcp.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e control.Error
		json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e.Code
	}

	// Loopback: reading needs no token; changing the tree does.
	if _, err := promtest.Scrape(tcp, "http://"+addr+"/metrics", ""); err != nil {
		t.Fatalf("GET /metrics on the TCP listener without a token: %v", err)
	}
	if status, code := post("/v1/kill", `{"path":"shop/counter","reason":"boom"}`, ""); status != 401 || code != control.CodeUnauthorized {
		t.Errorf("POST /v1/kill without a token: %d %q, want 401 unauthorized", status, code)
	}
	if status, _ := post("/v1/kill", `{"path":"shop/counter","reason":"boom"}`, token+"x"); status != 401 {
		t.Errorf("POST /v1/kill with a wrong token: %d, want 401", status)
	}
	if status, _ := post("/v1/kill", `{"path":"shop/counter","reason":"boom"}`, token); status != 200 {
		t.Fatalf("POST /v1/kill with the token: %d, want 200", status)
	}
	r.waitEvent(0, "started shop/counter crash")
	for n := 1; n <= 50; n++ {
		if status, _ := post("/v1/start", `{"path":"shop/jobs","name":"j`+strconv.Itoa(n)+`"}`, token); status != 200 {
			t.Fatalf("POST /v1/start j%d: %d", n, status)
		}
	}

	for name, c := range map[string]*http.Client{"TCP": tcp, "socket": unix} {
		base := "http://" + addr
		if c == unix {
			base = "http://otpctl"
		}
		m, err := promtest.Scrape(c, base+"/metrics", "")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, w := range []struct {
			want   float64
			name   string
			labels []string
		}{
			{1, "otpctl_child_restarts_total", []string{"path", "shop/counter", "cause", "crash"}}, // the one kill with the token
			{1, "otpctl_child_up", []string{"path", "shop/counter"}},
			{1, "otpctl_child_up", []string{"path", "shop/sleeper"}},
			{50, "otpctl_child_up", []string{"path", "shop/jobs/*"}},
			{1, "otpctl_supervisor_restart_budget_used", []string{"path", "shop"}},
		} {
			if got, ok := m.Value(w.name, w.labels...); !ok || got != w.want {
				t.Errorf("%s: %s%v = %v (present %v), want %v", name, w.name, w.labels, got, ok, w.want)
			}
		}
		if rss, ok := m.Value("otpctl_child_resident_memory_bytes", "path", "shop/sleeper"); !ok || rss <= 0 {
			t.Errorf("%s: rss of the exec child = %v (present %v), want > 0", name, rss, ok)
		}
		if _, ok := m.Value("otpctl_child_cpu_seconds_total", "path", "shop/sleeper"); !ok {
			t.Errorf("%s: no cpu seconds for the exec child", name)
		}
		if paths := m.Labels("otpctl_child_up", "path"); len(paths) != 4 { // counter, sleeper, jobs, jobs/*: no j1…j50
			t.Errorf("%s: child_up has the paths %v", name, paths)
		}
		for _, g := range []string{"go_goroutines", "process_resident_memory_bytes"} {
			if _, ok := m.Value(g); !ok {
				t.Errorf("%s: no %s", name, g)
			}
		}
	}

	r.sig(syscall.SIGTERM)
	if code := r.wait(); code != 0 {
		t.Fatalf("run exited %d:\n%s", code, r.stderr())
	}
	if _, err := os.Lstat(tokenFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the token file is left after exit: %v", err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("the TCP listener still accepts after exit")
	}
}

func TestRunHTTPFlag(t *testing.T) {
	res := otpctl(t, nil, "run", "--help")
	for _, s := range []string{"--http ADDR", "Authorization: Bearer TOKEN", "NAME.token", "0600"} {
		if !strings.Contains(res.stdout, s) {
			t.Errorf("run --help does not say %q:\n%s", s, res.stdout)
		}
	}
	dir := t.TempDir()
	file := writeTree(t, dir, "shop.yaml", metricsE2ETree)
	res = runBinary(t, otpctlBin(t), []string{"XDG_RUNTIME_DIR=" + dir, "OTPCTL_SOCKET="}, "run", file, "--http", "9090")
	if res.code != ExitUsage || !strings.Contains(res.stderr, "HOST:PORT") {
		t.Errorf("run --http 9090: status %d, stderr %q; want %d and what is expected", res.code, res.stderr, ExitUsage)
	}
}
