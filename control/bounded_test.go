package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/runtime"
)

// serveWith serves b with s configured by the test.
func serveWith(t *testing.T, b Backend, configure func(*Server)) (*Client, string, *Server) {
	t.Helper()
	sock := t.TempDir() + "/run/shop.sock"
	l, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(b)
	if configure != nil {
		configure(srv)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return NewClient(sock), sock, srv
}

// rawGet sends a GET on a new connection and returns it unread.
func rawGet(t *testing.T, sock, target string) net.Conn {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", target)
	return c
}

// openStreams is how many event streams s has open.
func openStreams(s *Server) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// eventually fails the test unless cond holds within d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func heapInuse() uint64 {
	goruntime.GC()
	var m goruntime.MemStats
	goruntime.ReadMemStats(&m)
	return m.HeapInuse
}

// Issue 14 §7: each follower copied every kept event, and one that never
// read pinned its copy for ever (100 of them: 393 MB). A stream now holds
// a batch; a reader that does not take a write within the write timeout is
// cut off, with a last line saying why.
func TestNeverReadingFollowersAreBoundedAndCutOff(t *testing.T) {
	f := newFake()
	f.log = NewEventLog(10000)
	reason := strings.Repeat("r", 200)
	for i := range 10000 {
		f.log.Append(live.Event{Type: "exited", Path: fmt.Sprintf("shop/w%d", i), Reason: reason})
	}
	const followers = 100
	_, sock, srv := serveWith(t, f, func(s *Server) { s.WriteTimeout = 8 * time.Second })
	base := heapInuse()
	conns := make([]net.Conn, followers)
	for i := range conns {
		conns[i] = rawGet(t, sock, "/v1/events?follow=1")
		defer conns[i].Close()
	}
	eventually(t, 10*time.Second, "the followers' streams are not all open", func() bool { return openStreams(srv) == followers })
	grown := int64(heapInuse()) - int64(base)
	t.Logf("%d never-reading followers: heap in use grew by %d KB", followers, grown>>10)
	// A copy of the log is about 3 MB, so a copy a follower would be
	// 300 MB or more; a stream holds a batch of 64 (its events, their
	// lines and the chunk: 60 to 80 KB). Alone the 100 grow the heap by
	// 6 to 8 MB; with other packages' tests busy on every core, streams
	// caught mid-write were seen at 40 MB. The bound stays far below a copy
	// a follower.
	if grown > 100<<20 {
		t.Errorf("%d never-reading followers grew the heap by %d MB, want it bounded by their batches", followers, grown>>20)
	}
	// They stall; each is cut off, and when the server has cut them all
	// off, they read what it wrote, ending with the last line.
	eventually(t, 60*time.Second, "the stalled followers were not all cut off", func() bool { return srv.stalled.Load() == followers })
	var wg sync.WaitGroup
	errs := make(chan error, followers)
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(time.Now().Add(60 * time.Second))
			last, err := lastLine(c)
			if err != nil {
				errs <- err
				return
			}
			var e Error
			if json.Unmarshal([]byte(last), &e) != nil || e.Code != CodeSlowFollower || !strings.Contains(e.Message, "not read for 8s") {
				errs <- fmt.Errorf("last line %q, want a slow_follower error", last)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	eventually(t, 10*time.Second, "cut-off streams still open", func() bool { return openStreams(srv) == 0 })
}

// lastLine reads a chunked event stream to its end and returns its last
// line.
func lastLine(c net.Conn) (string, error) {
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var last string
	for sc.Scan() {
		last = sc.Text()
	}
	if err := sc.Err(); err != nil {
		return last, fmt.Errorf("stream ended with %v after %q", err, last)
	}
	return last, nil
}

// A follower that falls behind the ring is cut off with the reason, and
// the client returns it as an error.
func TestSlowFollowerFallingBehindTheRingIsCutOff(t *testing.T) {
	f := newFake()
	f.log = NewEventLog(50)
	c, _, _ := serveWith(t, f, nil)
	f.log.Append(live.Event{Type: "started", Path: "shop/db"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first := make(chan struct{})
	resume := make(chan struct{})
	var got atomic.Int64
	done := make(chan error, 1)
	go func() {
		done <- c.Events(ctx, 0, true, func(e live.Event) error {
			if got.Add(1) == 1 {
				close(first)
				<-resume // a reader that stops reading for a while
			}
			return nil
		})
	}()
	<-first
	reason := strings.Repeat("x", 500)
	for i := range 5000 { // far more than the socket buffers hold
		f.log.Append(live.Event{Type: "exited", Path: "shop/db", Reason: reason, Trigger: fmt.Sprint(i)})
	}
	close(resume)
	var e *Error
	select {
	case err := <-done:
		if !errors.As(err, &e) || e.Code != CodeSlowFollower || !strings.Contains(e.Message, "fell behind") {
			t.Fatalf("Events of a follower that fell behind: %v, want a slow_follower error", err)
		}
	case <-ctx.Done():
		t.Fatal("the slow follower was never cut off")
	}
	if n := got.Load(); n >= 5001 {
		t.Errorf("the follower got all %d events, yet it fell behind", n)
	}
}

// A stream that is read ends cleanly: a non-following read ends at the
// events kept when it began, and a following one when the log closes.
func TestEventStreamsEndCleanly(t *testing.T) {
	f := newFake()
	f.log = NewEventLog(1000)
	for range 300 { // several batches
		f.log.Append(live.Event{Type: "started", Path: "shop/db"})
	}
	c, _, _ := serveWith(t, f, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var seqs []uint64
	if err := c.Events(ctx, 10, false, func(e live.Event) error { seqs = append(seqs, e.Seq); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(seqs) != 290 || seqs[0] != 11 || seqs[289] != 300 {
		t.Fatalf("since 10: %d events, %v…", len(seqs), seqs[:min(3, len(seqs))])
	}
	n := 0
	done := make(chan error, 1)
	go func() { done <- c.Events(ctx, 0, true, func(live.Event) error { n++; return nil }) }()
	eventually(t, 10*time.Second, "follower not subscribed", func() bool {
		f.log.mu.Lock()
		defer f.log.mu.Unlock()
		return len(f.log.subs) == 1
	})
	f.log.Append(live.Event{Type: "exited", Path: "shop/db"})
	f.log.Close()
	if err := <-done; err != nil || n != 301 {
		t.Fatalf("follow until the log closed: %d events, %v", n, err)
	}
}

// Past MaxStreams event streams, and past MaxWaits waits, the server
// answers 503 busy instead of holding one more.
func TestStreamsAndWaitsAreBounded(t *testing.T) {
	f := newFake()
	c, sock, srv := serveWith(t, f, nil)
	for range MaxStreams {
		conn := rawGet(t, sock, "/v1/events?follow=1")
		defer conn.Close()
	}
	eventually(t, 10*time.Second, "streams not open", func() bool { return openStreams(srv) == MaxStreams })
	ctx := context.Background()
	var e *Error
	if err := c.Events(ctx, 0, true, func(live.Event) error { return nil }); !errors.As(err, &e) || e.Status != 503 || e.Code != CodeBusy {
		t.Fatalf("stream %d: %v, want 503 busy", MaxStreams+1, err)
	}
	for range MaxWaits {
		conn := rawGet(t, sock, "/v1/wait?path=shop/web&timeout=30s")
		defer conn.Close()
	}
	eventually(t, 10*time.Second, "waits not pending", func() bool { return len(srv.waits) == MaxWaits })
	if _, err := c.Wait(ctx, "shop/web", "running", time.Second, false); !errors.As(err, &e) || e.Status != 503 || e.Code != CodeBusy {
		t.Fatalf("wait %d: %v, want 503 busy", MaxWaits+1, err)
	}
	if _, err := c.Tree(ctx); err != nil {
		t.Fatalf("the API stopped answering: %v", err)
	}
}

// countingBackend counts the tree reads of the wait endpoint.
type countingBackend struct {
	*fakeBackend
	reads atomic.Int64
}

// Tree is the fake's tree with a worker for every other path it knows. A
// read is counted once its snapshot is taken, so that a test that waits for
// the count knows each reader has seen the states as they were.
func (c *countingBackend) Tree() (*live.Node, error) {
	defer c.reads.Add(1)
	root, _ := c.fakeBackend.Tree()
	c.mu.Lock()
	defer c.mu.Unlock()
	for p, st := range c.states {
		if root.Find(p) == nil {
			root.Children = append(root.Children, &live.Node{Path: p, Name: p[len("shop/"):], Type: "worker", Kind: "echo", State: runtime.ChildState(st)})
		}
	}
	return root, nil
}

// Issue 14 §7: every pending wait re-read the whole tree on every event
// (200 waits cut the kill rate 9×). A wait is woken only by events of its
// path or an ancestor's.
func TestWaitIsWokenOnlyByItsPath(t *testing.T) {
	f := newFake()
	const waits = 200
	for i := range waits {
		f.states[fmt.Sprintf("shop/w%d", i)] = "stopped"
	}
	b := &countingBackend{fakeBackend: f}
	_, sock, srv := serveWith(t, b, nil)
	// One connection a wait, so that no request is sent twice.
	status := make(chan string, waits)
	conns := make([]net.Conn, waits)
	for i := range waits {
		conns[i] = rawGet(t, sock, fmt.Sprintf("/v1/wait?path=shop/w%d&timeout=60s", i))
		defer conns[i].Close()
		go func() {
			resp, err := http.ReadResponse(bufio.NewReader(conns[i]), nil)
			if err != nil {
				status <- err.Error()
				return
			}
			resp.Body.Close()
			status <- fmt.Sprintf("w%d %d", i, resp.StatusCode)
		}()
	}
	eventually(t, 30*time.Second, "the waits did not all read the tree", func() bool { return b.reads.Load() == waits })
	// Each has read the tree once and waits. Events of other nodes, and
	// of w7 itself, come: w7's wait is answered.
	for range 50 {
		f.log.Append(live.Event{Type: "exited", Path: "shop/db", Reason: "boom"})
	}
	f.set("shop/w7", "running")
	select {
	case s := <-status:
		if s != "w7 200" {
			t.Fatalf("first answer %q, want w7 200", s)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("w7's wait was not answered")
	}
	// The others, woken by nothing, are given up without reading the
	// tree again.
	for _, c := range conns {
		c.Close()
	}
	for range waits - 1 {
		<-status
	}
	eventually(t, 30*time.Second, "waits still pending after their clients left", func() bool { return len(srv.waits) == 0 })
	if n := b.reads.Load(); n != waits+1 {
		t.Errorf("%d tree reads for %d waits and 51 events, want %d: only w7's wait woke", n, waits, waits+1)
	}
}

// An ancestor's event, and an event of no path (a reload), wake a wait:
// they can change its node's state.
func TestWaitIsWokenByAncestorsAndReloads(t *testing.T) {
	l := NewEventLog(10)
	changed, stop := l.Watch("shop/pool/w1")
	defer stop()
	woken := func() bool {
		select {
		case <-changed:
			return true
		default:
			return false
		}
	}
	tests := []struct {
		path string
		want bool
	}{
		{"shop/pool/w1", true},
		{"shop/pool", true},
		{"shop", true},
		{"", true},
		{"shop/pool/w10", false},
		{"shop/pool/w1/x", false},
		{"shop/pool2", false},
		{"shop/db", false},
	}
	for _, tt := range tests {
		l.Append(live.Event{Type: "started", Path: tt.path})
		if got := woken(); got != tt.want {
			t.Errorf("event of %q woke the wait of shop/pool/w1: %v, want %v", tt.path, got, tt.want)
		}
	}
}

// Issue 14 §7: a kill reason had no size limit (1 MB reasons × 10,000 kept
// events ≈ 10 GiB). Every text field of every endpoint is limited to
// MaxFieldBytes, with a 400 that names the field and the limit.
func TestTextFieldsOverTheLimitAreRefused(t *testing.T) {
	f := newFake()
	_, sock, _ := serveWith(t, f, nil)
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	long := strings.Repeat("a", MaxFieldBytes+1)
	ok := strings.Repeat("a", MaxFieldBytes)
	tests := []struct {
		endpoint, field, body string
	}{
		{"kill", "path", `{"path":"` + long + `"}`},
		{"kill", "reason", `{"path":"shop/db","reason":"` + long + `"}`},
		{"stop", "path", `{"path":"` + long + `"}`},
		{"restart", "path", `{"path":"` + long + `"}`},
		{"start", "path", `{"path":"` + long + `"}`},
		{"start", "name", `{"path":"shop","name":"` + long + `"}`},
		{"call", "path", `{"path":"` + long + `","request":{}}`},
		{"call", "timeout", `{"path":"shop/db","request":{},"timeout":"` + long + `"}`},
		{"wait", "path", "path=" + long},
		{"wait", "state", "path=shop&state=" + long},
		{"wait", "timeout", "path=shop&timeout=" + long},
		{"events", "since", "since=" + long},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint+"/"+tt.field, func(t *testing.T) {
			var resp *http.Response
			var err error
			if tt.endpoint == "wait" || tt.endpoint == "events" {
				resp, err = hc.Get("http://x/v1/" + tt.endpoint + "?" + tt.body)
			} else {
				resp, err = hc.Post("http://x/v1/"+tt.endpoint, "application/json", strings.NewReader(tt.body))
			}
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var e Error
			want := fmt.Sprintf("%q is %d bytes, over the limit of 1024 bytes", tt.field, MaxFieldBytes+1)
			if resp.StatusCode != 400 || json.Unmarshal(data, &e) != nil || e.Code != CodeBadRequest || !strings.Contains(e.Message, want) {
				t.Errorf("%d %s, want 400 bad_request saying %s", resp.StatusCode, data, want)
			}
		})
	}
	f.mu.Lock()
	killed := len(f.killed)
	f.mu.Unlock()
	if killed != 0 {
		t.Errorf("a refused kill reached the backend: %v", f.killed)
	}
	// At the limit, a field is accepted.
	c := NewClient(sock)
	if err := c.Kill(context.Background(), "shop/db", ok); err != nil {
		t.Errorf("a reason of exactly %d bytes: %v", MaxFieldBytes, err)
	}
}

// The client refuses a field over the limit before sending it, with the
// server's error.
func TestClientRefusesLongFieldsBeforeSending(t *testing.T) {
	c := NewClient(t.TempDir() + "/none.sock") // nobody answers: only a local refusal is not ErrNotRunning
	long := strings.Repeat("b", MaxFieldBytes+1)
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"reason": func() error { return c.Kill(ctx, "shop/db", long) },
		"path":   func() error { return c.Stop(ctx, long) },
		"name":   func() error { _, err := c.Start(ctx, StartRequest{Path: "shop", Name: long}); return err },
		"state":  func() error { _, err := c.Wait(ctx, "shop", long, time.Second, false); return err },
	} {
		var e *Error
		if err := call(); !errors.As(err, &e) || e.Code != CodeBadRequest || !strings.Contains(e.Message, fmt.Sprintf("%q is", name)) {
			t.Errorf("%s over the limit: %v, want bad_request naming it", name, err)
		}
	}
}

// Regression: an event stream that was being opened while Shutdown waited
// for the open ones joined the server's wait group as Shutdown waited on it:
// a data race (`go test -race` reported it from `otpctl shutdown` while
// `otpctl wait` followed), and a stream Shutdown would not wait for. Once
// Shutdown waits, a new stream is refused.
func TestStreamOpenedDuringShutdownIsRefused(t *testing.T) {
	srv := NewServer(newFake())
	a, aPeer := net.Pipe()
	defer aPeer.Close()
	if !srv.track(a, true) {
		t.Fatal("a stream refused before Shutdown")
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- srv.Shutdown(ctx)
	}()
	time.Sleep(50 * time.Millisecond) // Shutdown is waiting for a
	srv.track(a, false)
	b, bPeer := net.Pipe()
	defer b.Close()
	defer bPeer.Close()
	if srv.track(b, true) {
		srv.track(b, false)
		t.Error("a stream was let in while Shutdown waited for the open ones")
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}
