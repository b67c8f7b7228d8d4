package control

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeLogs is the fake tree with kept output lines the test appends.
type fakeLogs struct {
	*fakeBackend
	mu      sync.Mutex
	lines   []LogLine
	asked   []LogQuery
	ready   chan struct{}
	stopped chan struct{}
}

func newFakeLogs() *fakeLogs {
	return &fakeLogs{fakeBackend: newFake(), ready: make(chan struct{}, 1), stopped: make(chan struct{}, 8)}
}

func (f *fakeLogs) add(path, line string, at time.Time) {
	f.mu.Lock()
	f.lines = append(f.lines, LogLine{Seq: uint64(len(f.lines) + 1), Time: at, Path: path, OSPid: 7, Stream: "stdout", Line: line})
	f.mu.Unlock()
	select {
	case f.ready <- struct{}{}:
	default:
	}
}

func (f *fakeLogs) Logs(q LogQuery) ([]LogLine, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, q)
	if err := f.known(q.Path); err != nil && q.Path != "shop" {
		return nil, err
	}
	var out []LogLine
	for _, l := range f.lines {
		if (l.Path == q.Path || strings.HasPrefix(l.Path, q.Path+"/")) && l.Seq > q.After && !l.Time.Before(q.Since) {
			out = append(out, l)
		}
	}
	if q.N > 0 && len(out) > q.N {
		out = out[len(out)-q.N:]
	}
	return out, nil
}

func (f *fakeLogs) FollowLogs() (<-chan struct{}, func()) {
	return f.ready, func() { f.stopped <- struct{}{} }
}

func readLogs(t *testing.T, c *Client, q LogQuery) []string {
	t.Helper()
	var got []string
	err := c.Logs(context.Background(), q, false, func(l LogLine) error {
		got = append(got, l.Path+" "+l.Line)
		return nil
	})
	if err != nil {
		t.Fatalf("Logs(%+v): %v", q, err)
	}
	return got
}

// GET /v1/logs serves the last n lines (100 without n, at most
// MaxLogRead), those since a time, a supervisor's subtree, and a 404 with
// the likely path for a path the tree does not have.
func TestLogsEndpoint(t *testing.T) {
	f := newFakeLogs()
	old := time.Now().Add(-time.Hour)
	f.add("shop/db", "old", old)
	for _, s := range []string{"db-1", "db-2"} {
		f.add("shop/db", s, time.Now())
	}
	f.add("shop/web", "web-1", time.Now())
	c, sock := serve(t, f)

	if got := strings.Join(readLogs(t, c, LogQuery{Path: "shop/db"}), ","); got != "shop/db old,shop/db db-1,shop/db db-2" {
		t.Errorf("shop/db: %s", got)
	}
	if got := strings.Join(readLogs(t, c, LogQuery{Path: "shop", N: 2}), ","); got != "shop/db db-2,shop/web web-1" {
		t.Errorf("shop, n=2: %s", got)
	}
	if got := strings.Join(readLogs(t, c, LogQuery{Path: "shop/db", Since: time.Now().Add(-time.Minute)}), ","); got != "shop/db db-1,shop/db db-2" {
		t.Errorf("shop/db since a minute ago: %s", got)
	}

	err := c.Logs(context.Background(), LogQuery{Path: "shop/webb"}, false, func(LogLine) error { return nil })
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusNotFound || !strings.Contains(e.Message, "did you mean shop/web?") {
		t.Errorf("an unknown path: %v, want a 404 with the likely path", err)
	}

	hc := unixClient(sock)
	for target, want := range map[string]int{
		"/v1/logs?path=shop/db&n=1000000":  http.StatusOK,
		"/v1/logs?path=shop/db&since=2m":   http.StatusOK,
		"/v1/logs?path=shop/db&n=-1":       http.StatusBadRequest,
		"/v1/logs?path=shop/db&since=soon": http.StatusBadRequest,
		"/v1/logs?n=3":                     http.StatusBadRequest,
	} {
		resp, err := hc.Get("http://otpctl" + target)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", target, resp.StatusCode, want)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	capped := false
	for _, q := range f.asked {
		if q.N == MaxLogRead {
			capped = true
		}
		if q.N > MaxLogRead {
			t.Errorf("the backend was asked for %d lines, over MaxLogRead", q.N)
		}
	}
	if !capped {
		t.Errorf("n=1000000 was not capped to MaxLogRead: %+v", f.asked)
	}
}

// With follow, the stream goes on with each new line until the reader
// leaves, and then stops following.
func TestLogsFollow(t *testing.T) {
	f := newFakeLogs()
	f.add("shop/db", "first", time.Now())
	c, _ := serve(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan string, 8)
	done := make(chan error, 1)
	go func() {
		done <- c.Logs(ctx, LogQuery{Path: "shop/db"}, true, func(l LogLine) error {
			got <- l.Line
			return nil
		})
	}()
	for _, want := range []string{"first", "second"} {
		select {
		case line := <-got:
			if line != want {
				t.Fatalf("line %q, want %q", line, want)
			}
		case <-ctx.Done():
			t.Fatalf("no line %q within 10s", want)
		}
		if want == "first" {
			f.add("shop/web", "not followed", time.Now())
			f.add("shop/db", "second", time.Now())
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Logs -f: %v", err)
	}
	select {
	case <-f.stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not stop following after its reader left")
	}
}

// unixClient is an HTTP client of the socket sock, one connection a
// request.
func unixClient(sock string) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
}
