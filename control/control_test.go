package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/runtime"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeBackend is a tree of three nodes whose states the test sets.
type fakeBackend struct {
	mu       sync.Mutex
	states   map[string]string
	log      *EventLog
	killed   []string
	shutdown chan struct{}
}

func newFake() *fakeBackend {
	return &fakeBackend{
		states:   map[string]string{"shop": "running", "shop/db": "running", "shop/web": "stopped"},
		log:      NewEventLog(100),
		shutdown: make(chan struct{}, 1),
	}
}

func (f *fakeBackend) Tree() (*live.Node, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	root := &live.Node{Path: "shop", Name: "shop", Type: "supervisor", Strategy: "one_for_one", State: runtime.ChildState(f.states["shop"]),
		Budget: &live.Budget{Used: 1, Max: 3, Period: "5s"}}
	var paths []string
	for p := range f.states {
		if p != "shop" {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	for _, p := range paths {
		root.Children = append(root.Children, &live.Node{Path: p, Name: filepath.Base(p), Type: "worker", Kind: "echo", State: runtime.ChildState(f.states[p])})
	}
	return root, nil
}

func (f *fakeBackend) known(path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.states[path]; !ok {
		return Errorf(CodeNotFound, "no node at %s", path)
	}
	return nil
}

func (f *fakeBackend) set(path, state string) {
	f.mu.Lock()
	f.states[path] = state
	f.mu.Unlock()
	f.log.Append(live.Event{Type: "started", Path: path})
}

func (f *fakeBackend) Kill(path, reason string) error {
	if err := f.known(path); err != nil {
		return err
	}
	f.mu.Lock()
	f.killed = append(f.killed, path+":"+reason)
	f.mu.Unlock()
	return nil
}
func (f *fakeBackend) Stop(path string) error { return f.known(path) }
func (f *fakeBackend) Start(req StartRequest) (StartReply, error) {
	if err := f.known(req.Path); err != nil {
		return StartReply{}, err
	}
	return StartReply{Path: req.Path + "/" + req.Name, Pid: "<0.9>"}, nil
}
func (f *fakeBackend) Restart(path string) (StartReply, error) {
	return StartReply{}, Errorf(CodeRefused, "%s is running", path)
}
func (f *fakeBackend) Call(path string, req json.RawMessage, timeout time.Duration) (json.RawMessage, error) {
	if err := f.known(path); err != nil {
		return nil, err
	}
	return req, nil
}
func (f *fakeBackend) Reload() (ReloadReply, error) {
	return ReloadReply{}, &Error{Code: CodeInvalid, Message: "reload refused", Details: []string{"shop.yaml:3:5: bad"}}
}
func (f *fakeBackend) Shutdown()           { f.shutdown <- struct{}{} }
func (f *fakeBackend) EventLog() *EventLog { return f.log }

func serve(t *testing.T, b Backend) (*Client, string) {
	t.Helper()
	dir := t.TempDir()
	sock := filepath.Join(dir, "run", "shop.sock")
	l, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(b)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return NewClient(sock), sock
}

func TestSocketModes(t *testing.T) {
	_, sock := serve(t, newFake())
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("socket mode %o, want 600", got)
	}
	di, err := os.Stat(filepath.Dir(sock))
	if err != nil {
		t.Fatal(err)
	}
	if got := di.Mode().Perm(); got != 0o700 {
		t.Errorf("socket folder mode %o, want 700", got)
	}
}

func TestListenRefusesLiveAndReplacesStale(t *testing.T) {
	_, sock := serve(t, newFake())
	if _, err := Listen(sock); !errors.Is(err, ErrInUse) {
		t.Fatalf("second Listen on a live socket: %v, want ErrInUse", err)
	}

	stale := filepath.Join(t.TempDir(), "stale.sock")
	l, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close() // the file stays, nobody answers: a dead instance's socket
	if _, err := os.Stat(stale); err != nil {
		t.Fatalf("stale socket file should remain: %v", err)
	}
	l2, err := Listen(stale)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	l2.Close()
}

func TestSocketPath(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/7")
	if got := SocketPath("shop"); got != "/run/user/7/otpctl/shop.sock" {
		t.Errorf("with XDG_RUNTIME_DIR: %s", got)
	}
	t.Setenv("XDG_RUNTIME_DIR", "")
	want := filepath.Join(os.TempDir(), fmt.Sprintf("otpctl-%d", os.Getuid()), "shop.sock")
	if got := SocketPath("shop"); got != want {
		t.Errorf("without XDG_RUNTIME_DIR: %s, want %s", got, want)
	}
}

func TestClientCalls(t *testing.T) {
	f := newFake()
	c, _ := serve(t, f)
	ctx := context.Background()
	tree, err := c.Tree(ctx)
	if err != nil || tree.Find("shop/db") == nil || tree.Budget.String() != "budget 1/3 in 5s" {
		t.Fatalf("Tree: %+v, %v", tree, err)
	}
	if err := c.Kill(ctx, "shop/db", "boom"); err != nil {
		t.Fatal(err)
	}
	if f.killed[0] != "shop/db:boom" {
		t.Errorf("kill reached the backend as %v", f.killed)
	}
	rep, err := c.Call(ctx, "shop/db", json.RawMessage(`{"op":"get"}`), time.Second)
	if err != nil || string(rep) != `{"op":"get"}` {
		t.Errorf("Call: %s, %v", rep, err)
	}
	sr, err := c.Start(ctx, StartRequest{Path: "shop", Name: "x"})
	if err != nil || sr.Path != "shop/x" {
		t.Errorf("Start: %+v, %v", sr, err)
	}
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-f.shutdown:
	case <-time.After(5 * time.Second):
		t.Fatal("shutdown did not reach the backend")
	}
}

func TestErrorsReachTheClient(t *testing.T) {
	c, _ := serve(t, newFake())
	ctx := context.Background()
	tests := []struct {
		name   string
		call   func() error
		status int
		code   string
	}{
		{"unknown path", func() error { return c.Kill(ctx, "shop/nope", "") }, 404, CodeNotFound},
		{"refused", func() error { _, err := c.Restart(ctx, "shop/db"); return err }, 409, CodeRefused},
		{"invalid reload", func() error { _, err := c.Reload(ctx); return err }, 422, CodeInvalid},
		{"missing path", func() error { return c.Stop(ctx, "") }, 400, CodeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e *Error
			if err := tt.call(); !errors.As(err, &e) || e.Status != tt.status || e.Code != tt.code || e.Message == "" {
				t.Fatalf("got %#v, want status %d code %s", err, tt.status, tt.code)
			}
		})
	}
	_, err := c.Reload(ctx)
	var e *Error
	if errors.As(err, &e) && (len(e.Details) != 1 || e.Details[0] != "shop.yaml:3:5: bad") {
		t.Errorf("reload error details lost: %+v", e)
	}
}

func TestMalformedRequests(t *testing.T) {
	_, sock := serve(t, newFake())
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	big := `{"path":"` + strings.Repeat("a", MaxBodyBytes+10) + `"}`
	for _, ep := range []string{"kill", "stop", "start", "restart", "call"} {
		for name, body := range map[string]string{
			"not json":      `{"path":`,
			"unknown field": `{"path":"shop/db","bogus":1}`,
			"empty":         ``,
			"trailing":      `{"path":"shop/db"} {}`,
			"array":         `[1,2]`,
			"oversized":     big,
		} {
			resp, err := hc.Post("http://x/v1/"+ep, "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatalf("%s %s: %v", ep, name, err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var e Error
			if resp.StatusCode != 400 || json.Unmarshal(data, &e) != nil || e.Code != CodeBadRequest || e.Message == "" {
				t.Errorf("%s with %s body: %d %s, want 400 bad_request with a message", ep, name, resp.StatusCode, data)
			}
		}
	}
	for _, bad := range []string{"/v1/wait", "/v1/wait?path=shop&state=sleeping", "/v1/wait?path=shop&timeout=soon", "/v1/events?since=x"} {
		resp, err := hc.Get("http://x" + bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("GET %s: %d, want 400", bad, resp.StatusCode)
		}
	}
	resp, err := hc.Get("http://x/v2/nothing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("unknown endpoint: %d, want 404", resp.StatusCode)
	}
	// After all that the API still answers.
	if _, err := NewClient(sock).Tree(context.Background()); err != nil {
		t.Fatalf("tree after bad requests: %v", err)
	}
}

func TestSlowClientDoesNotBlockOthers(t *testing.T) {
	c, sock := serve(t, newFake())
	slow, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	slow.Write([]byte("POST /v1/kill HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Tree(ctx); err != nil {
		t.Fatalf("a slow client blocked the API: %v", err)
	}
}

func TestWait(t *testing.T) {
	f := newFake()
	c, _ := serve(t, f)
	ctx := context.Background()
	n, err := c.Wait(ctx, "shop/db", "running", time.Second, false)
	if err != nil || n.Path != "shop/db" {
		t.Fatalf("wait on a running node: %+v %v", n, err)
	}
	var e *Error
	if _, err := c.Wait(ctx, "shop/web", "running", 50*time.Millisecond, false); !errors.As(err, &e) || e.Code != CodeTimeout {
		t.Fatalf("wait that times out: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Wait(ctx, "shop/web", "running", 10*time.Second, false)
		done <- err
	}()
	// The waiter may subscribe before or after this change; either way
	// it sees the state, and repeated changes keep waking it.
	f.set("shop/web", "running")
	awaitWait(t, done, func() { f.log.Append(live.Event{Type: "nudge"}) })
}

// awaitWait waits up to 10 s for a wait's result on done, calling nudge
// every 10 ms meanwhile; the wait must succeed.
func awaitWait(t *testing.T, done <-chan error, nudge func()) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			return
		case <-tick.C:
			nudge()
		case <-deadline:
			t.Fatal("wait did not return after the state changed")
		}
	}
}

func TestEventsFollow(t *testing.T) {
	f := newFake()
	c, _ := serve(t, f)
	f.log.Append(live.Event{Type: "started", Path: "shop/db"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan live.Event, 10)
	done := make(chan error, 1)
	go func() {
		done <- c.Events(ctx, 0, true, func(e live.Event) error { got <- e; return nil })
	}()
	first := <-got
	if first.Seq != 1 || first.Path != "shop/db" {
		t.Fatalf("first event %+v", first)
	}
	f.log.Append(live.Event{Type: "exited", Path: "shop/db", Reason: "boom"})
	select {
	case e := <-got:
		if e.Type != "exited" || e.Seq != 2 || e.Reason != "boom" {
			t.Fatalf("followed event %+v", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no followed event")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Events after cancel: %v", err)
	}
}

func TestEventLogKeepsTheLastAndNumbers(t *testing.T) {
	l := NewEventLog(3)
	for i := 0; i < 5; i++ {
		l.Append(live.Event{Type: runtime.EventType(fmt.Sprint(i))})
	}
	buf := make([]live.Event, 10)
	n, behind := l.Read(0, buf)
	if !behind || n != 0 {
		t.Fatalf("read from 0 after the ring moved: %d %v, want behind", n, behind)
	}
	if first, last := l.Bounds(); first != 3 || last != 5 {
		t.Fatalf("bounds %d %d, want 3 5", first, last)
	}
	n, behind = l.Read(2, buf)
	if behind || n != 3 || buf[0].Seq != 3 || buf[2].Seq != 5 {
		t.Fatalf("kept %+v %v", buf[:n], behind)
	}
	n, _ = l.Read(4, buf[:1])
	if n != 1 || buf[0].Seq != 5 {
		t.Fatalf("since 4: %+v", buf[:n])
	}
	if n, behind := l.Read(5, buf); n != 0 || behind {
		t.Fatalf("since the last: %d %v", n, behind)
	}
	ready, _ := l.Follow()
	changed, _ := l.Watch("shop/db")
	l.Close()
	if _, ok := <-ready; ok {
		t.Fatal("follower channel not closed by Close")
	}
	if _, ok := <-changed; ok {
		t.Fatal("waiter channel not closed by Close")
	}
}

func TestNotRunning(t *testing.T) {
	c := NewClient(filepath.Join(t.TempDir(), "none.sock"))
	_, err := c.Tree(context.Background())
	if !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), "none.sock") {
		t.Fatalf("got %v", err)
	}
}

func TestWaitAbsent(t *testing.T) {
	f := newFake()
	c, _ := serve(t, f)
	ctx := context.Background()
	var e *Error
	// Not there: said at once, not after the timeout, with the likely path.
	start := time.Now()
	_, err := c.Wait(ctx, "shop/dbb", "running", time.Minute, false)
	if !errors.As(err, &e) || e.Code != CodeNotFound || e.Message != "wait shop/dbb: no such node; did you mean shop/db?" {
		t.Fatalf("wait on a path the tree does not have: %v", err)
	}
	if time.Since(start) > 30*time.Second {
		t.Fatalf("the not_found answer waited for the timeout")
	}
	if _, err := c.Wait(ctx, "shop/nosuch", "running", time.Minute, false); !errors.As(err, &e) || e.Code != CodeNotFound ||
		!strings.Contains(e.Message, "--absent-ok") {
		t.Fatalf("wait on a far path: %v", err)
	}
	// absent_ok: waits for the node to appear.
	done := make(chan error, 1)
	go func() {
		_, err := c.Wait(ctx, "shop/cache", "running", 30*time.Second, true)
		done <- err
	}()
	awaitWait(t, done, func() { f.set("shop/cache", "running") })
}

func TestNotFoundSaysLikelyPath(t *testing.T) {
	c, _ := serve(t, newFake())
	ctx := context.Background()
	var e *Error
	if err := c.Kill(ctx, "shop/weeb", "killed"); !errors.As(err, &e) || e.Code != CodeNotFound || e.Message != "no node at shop/weeb; did you mean shop/web?" {
		t.Fatalf("kill shop/weeb: %v", err)
	}
	if err := c.Stop(ctx, "shop/nosuch"); !errors.As(err, &e) || e.Message != "no node at shop/nosuch" {
		t.Fatalf("stop shop/nosuch: %v", err)
	}
	if _, err := c.Start(ctx, StartRequest{Path: "shpo/db"}); !errors.As(err, &e) || e.Message != "no node at shpo/db; did you mean shop/db?" {
		t.Fatalf("start shpo/db: %v", err)
	}
	if _, err := c.Call(ctx, "shop/dbb", json.RawMessage(`{}`), time.Second); !errors.As(err, &e) || e.Message != "no node at shop/dbb; did you mean shop/db?" {
		t.Fatalf("call shop/dbb: %v", err)
	}
	var refused *Error
	if _, err := c.Restart(ctx, "shop/db"); !errors.As(err, &refused) || refused.Code != CodeRefused || strings.Contains(refused.Message, "did you mean") {
		t.Fatalf("restart shop/db: %v", err)
	}
}
