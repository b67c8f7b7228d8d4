package loader

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otpctl/otpctl/control"
	"github.com/otpctl/otpctl/internal/promtest"
	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/spec"
)

const metricsTree = `version: 1
name: shop
supervisor:
  strategy: one_for_one
  max_frequency: 3
  period: 60s
  children:
    - {name: db, kind: echo}
    - name: pool
      supervisor:
        strategy: one_for_one
        max_frequency: 1
        period: 60s
        children:
          - {name: w1, kind: echo}
    - name: jobs
      dynamic: {kind: echo}
`

// GET /metrics of a real tree, served on its control socket, after real
// events: a kill through the API, a give-up, reloads that apply and fail,
// and a dynamic supervisor's 50 children.
func TestMetricsAfterRealEvents(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "shop.yaml")
	if err := os.WriteFile(file, []byte(metricsTree), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := spec.Load(file, testKinds())
	if err != nil {
		t.Fatal(err)
	}
	log := control.NewEventLog(1000)
	rec := newRecorder()
	r, err := Start(context.Background(), st, Options{Registry: testKinds(), Log: quiet,
		Events: func(e live.Event) { rec.Add(log.Append(e)) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdown(t, r) })

	sock := filepath.Join(dir, "run", "shop.sock")
	l, err := control.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := control.NewServer(NewBackend(r, log, nil))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	defer func() {
		srv.Close()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
	post := func(path, body string, want int) {
		t.Helper()
		resp, err := client.Post("http://otpctl"+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("POST %s %s: %s, want %d", path, body, resp.Status, want)
		}
	}
	scrape := func() promtest.Metrics {
		t.Helper()
		m, err := promtest.Scrape(client, "http://otpctl/metrics", "")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	expect := func(m promtest.Metrics, want float64, name string, labels ...string) {
		t.Helper()
		if got, ok := m.Value(name, labels...); !ok || got != want {
			t.Errorf("%s%v = %v (present %v), want %v\nseries:\n%s", name, labels, got, ok, want, m)
		}
	}

	m := scrape()
	expect(m, 1, "otpctl_child_up", "path", "shop/db")
	expect(m, 0, "otpctl_supervisor_restart_budget_used", "path", "shop")
	expect(m, 3, "otpctl_supervisor_restart_budget_max", "path", "shop")
	if _, ok := m.Value("otpctl_child_restarts_total", "path", "shop/db"); ok {
		t.Error("shop/db has restarts before any")
	}
	if v, ok := m.Value("otpctl_child_start_seconds", "path", "shop"); !ok || v <= 0 {
		t.Errorf("the tree's time to ready = %v (present %v), want > 0", v, ok)
	}

	// A kill through the API: a crash restart.
	post("/v1/kill", `{"path":"shop/db","reason":"boom"}`, 200)
	rec.wait(t, 0, "started shop/db crash")
	m = scrape()
	expect(m, 1, "otpctl_child_restarts_total", "path", "shop/db", "cause", "crash")
	expect(m, 1, "otpctl_child_up", "path", "shop/db")
	expect(m, 1, "otpctl_supervisor_restart_budget_used", "path", "shop")
	if v, ok := m.Value("otpctl_child_last_exit_timestamp_seconds", "path", "shop/db"); !ok || v < float64(time.Now().Add(-time.Hour).Unix()) {
		t.Errorf("last exit of shop/db = %v (present %v), want about now", v, ok)
	}

	// Two crashes of shop/pool/w1 pass shop/pool's intensity (1): it
	// gives up, and shop restarts it.
	i := rec.Len()
	post("/v1/kill", `{"path":"shop/pool/w1","reason":"boom"}`, 200)
	i = rec.wait(t, i, "started shop/pool/w1 crash")
	post("/v1/kill", `{"path":"shop/pool/w1","reason":"boom"}`, 200)
	i = rec.wait(t, i, "give_up shop/pool")
	rec.wait(t, i, "started shop/pool")
	m = scrape()
	expect(m, 1, "otpctl_supervisor_give_ups_total", "path", "shop/pool")
	expect(m, 0, "otpctl_supervisor_give_ups_total", "path", "shop")
	expect(m, 1, "otpctl_child_restarts_total", "path", "shop/pool/w1", "cause", "crash")
	expect(m, 1, "otpctl_child_up", "path", "shop/pool")

	// A reload that applies, and one that is refused.
	if err := os.WriteFile(file, []byte(metricsTree+"    - {name: cache, kind: echo}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	post("/v1/reload", "", 200)
	if err := os.WriteFile(file, []byte(metricsTree+"    - {name: cache, kind: nosuchkind}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	post("/v1/reload", "", 422)
	m = scrape()
	expect(m, 1, "otpctl_reloads_total", "result", "ok")
	expect(m, 1, "otpctl_reloads_total", "result", "failed")
	expect(m, 1, "otpctl_child_up", "path", "shop/cache")

	// 50 dynamic children: one series for all of them.
	for n := 1; n <= 50; n++ {
		post("/v1/start", fmt.Sprintf(`{"path":"shop/jobs","name":"j%d"}`, n), 200)
	}
	post("/v1/kill", `{"path":"shop/jobs/j7","reason":"boom"}`, 200)
	rec.wait(t, 0, "started shop/jobs/j7 crash")
	m = scrape()
	expect(m, 50, "otpctl_child_up", "path", "shop/jobs/*")
	expect(m, 1, "otpctl_child_restarts_total", "path", "shop/jobs/*", "cause", "crash")
	expect(m, 1, "otpctl_child_up", "path", "shop/jobs")
	if _, ok := m.Value("otpctl_child_last_exit_timestamp_seconds", "path", "shop/jobs/*"); !ok {
		t.Error("no last exit for shop/jobs/*")
	}
	for name := range m {
		for _, p := range m.Labels(name, "path") {
			if strings.HasPrefix(p, "shop/jobs/") && p != "shop/jobs/*" {
				t.Fatalf("%s has a series of its own for the dynamic child %s", name, p)
			}
		}
	}
}
