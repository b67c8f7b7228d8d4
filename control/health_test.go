package control

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/runtime"
)

// healthBackend is a fake backend whose tree the test sets whole, and
// that reports stops (StopReporter) as the test says.
type healthBackend struct {
	*fakeBackend
	mu       sync.Mutex
	tree     *live.Node
	gone     bool // the tree cannot be read: it has stopped
	stopping atomic.Bool
}

func (h *healthBackend) Tree() (*live.Node, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.gone {
		return nil, Errorf(CodeRefused, "the tree has stopped")
	}
	return h.tree, nil
}

func (h *healthBackend) setTree(n *live.Node, gone bool) {
	h.mu.Lock()
	h.tree, h.gone = n, gone
	h.mu.Unlock()
}

func (h *healthBackend) Stopping() bool { return h.stopping.Load() }

// noStops is a backend that does not implement StopReporter.
type noStops struct{ *healthBackend }

func (noStops) Stopping() {} // not StopReporter's method

func nodeOf(path, state, restart string, children ...*live.Node) *live.Node {
	return &live.Node{Path: path, State: runtime.ChildState(state), Restart: restart, Children: children}
}

// healthGet asks path over the socket and returns the status and the
// decoded body, checking that it is JSON.
func healthGet(t *testing.T, sock, path string) (int, HealthReply, string) {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get("http://otpctl" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var rep HealthReply
	if err := json.Unmarshal(data, &rep); err != nil || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s: %d %q: not JSON: %v", path, resp.StatusCode, data, err)
	}
	return resp.StatusCode, rep, string(data)
}

func TestHealthEndpoints(t *testing.T) {
	h := &healthBackend{fakeBackend: newFake()}
	h.setTree(nodeOf("shop", "running", "permanent",
		nodeOf("shop/db", "running", "permanent"),
		nodeOf("shop/job", "stopped", "temporary")), false)
	_, sock := serve(t, h)

	for _, path := range []string{"/healthz", "/readyz"} {
		if code, rep, body := healthGet(t, sock, path); code != 200 || rep.Status != HealthOK || body != "{\n  \"status\": \"ok\"\n}\n" {
			t.Errorf("GET %s on a running tree: %d %s", path, code, body)
		}
	}

	// A permanent child stopped, one restarting: not ready, in tree
	// order; the instance is still live.
	sick := nodeOf("shop/web", "running", "permanent")
	sick.Health = &live.Health{Status: live.HealthUnhealthy, Last: "connection refused", Failures: 3}
	h.setTree(nodeOf("shop", "running", "permanent",
		nodeOf("shop/db", "stopped", "permanent"),
		nodeOf("shop/pool", "running", "permanent", nodeOf("shop/pool/w1", "restarting", "permanent")),
		sick,
		nodeOf("shop/job", "stopped", "temporary")), false)
	if code, rep, body := healthGet(t, sock, "/healthz"); code != 200 || rep.Status != HealthOK {
		t.Errorf("GET /healthz with a child stopped: %d %s", code, body)
	}
	code, rep, body := healthGet(t, sock, "/readyz")
	want := []NotReadyNode{{"shop/db", "stopped"}, {"shop/pool/w1", "restarting"}, {"shop/web", "unhealthy"}}
	if code != 503 || rep.Status != HealthNotReady || rep.Code != CodeUnavailable || fmt.Sprint(rep.NotReady) != fmt.Sprint(want) || rep.More != 0 ||
		rep.Message != "3 nodes are not ready: shop/db stopped, …" {
		t.Errorf("GET /readyz with a child stopped: %d %s", code, body)
	}

	// The client reads both answers.
	c := NewClient(sock)
	if r, err := c.Health(context.Background(), false); err != nil || r.Status != HealthOK {
		t.Errorf("Health: %+v, %v", r, err)
	}
	if r, err := c.Health(context.Background(), true); err != nil || r.Status != HealthNotReady || len(r.NotReady) != 3 {
		t.Errorf("Health ready: %+v, %v", r, err)
	}

	// Stopping: both 503 at once, without reading the tree.
	h.stopping.Store(true)
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, rep, body := healthGet(t, sock, path); code != 503 || rep.Status != HealthStopping || rep.Code != CodeUnavailable || rep.Message == "" {
			t.Errorf("GET %s while stopping: %d %s", path, code, body)
		}
	}
}

// A 503 of /readyz lists at most MaxNotReady nodes and counts the others.
func TestReadyzIsBounded(t *testing.T) {
	h := &healthBackend{fakeBackend: newFake()}
	jobs := nodeOf("shop/jobs", "running", "permanent")
	for i := range MaxNotReady + 50 {
		jobs.Children = append(jobs.Children, nodeOf(fmt.Sprintf("shop/jobs/w%d", i), "starting", "transient"))
	}
	h.setTree(nodeOf("shop", "running", "permanent", jobs), false)
	_, sock := serve(t, h)
	code, rep, _ := healthGet(t, sock, "/readyz")
	if code != 503 || len(rep.NotReady) != MaxNotReady || rep.More != 50 || rep.NotReady[0].Path != "shop/jobs/w0" ||
		rep.Message != fmt.Sprintf("%d nodes are not ready: shop/jobs/w0 starting, …", MaxNotReady+50) {
		t.Errorf("readyz: %d, %d listed, %d more, %q", code, len(rep.NotReady), rep.More, rep.Message)
	}
}

// A backend that does not report stops: /healthz reads the tree, and says
// stopping once it cannot.
func TestHealthWithoutStopReporter(t *testing.T) {
	h := &healthBackend{fakeBackend: newFake()}
	h.setTree(nodeOf("shop", "running", "permanent", nodeOf("shop/db", "stopped", "permanent")), false)
	_, sock := serve(t, noStops{h})
	if code, _, body := healthGet(t, sock, "/healthz"); code != 200 {
		t.Errorf("healthz: %d %s", code, body)
	}
	if code, rep, body := healthGet(t, sock, "/readyz"); code != 503 || rep.Status != HealthNotReady || rep.Message != "1 node is not ready: shop/db stopped" {
		t.Errorf("readyz: %d %s", code, body)
	}
	h.stopping.Store(true) // not seen: noStops hides it
	if code, _, body := healthGet(t, sock, "/healthz"); code != 200 {
		t.Errorf("healthz: %d %s", code, body)
	}
	h.setTree(nil, true)
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, rep, body := healthGet(t, sock, path); code != 503 || rep.Status != HealthStopping {
			t.Errorf("GET %s once the tree is gone: %d %s", path, code, body)
		}
	}
}
