package control

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/otpctl/otpctl/live"
)

// sseEvent is one server-sent event as a reader parses it.
type sseEvent struct{ id, event, data string }

// readSSE reads server-sent events from r until n are read.
func readSSE(t *testing.T, r io.Reader, n int) []sseEvent {
	t.Helper()
	sc := bufio.NewScanner(r)
	var out []sseEvent
	var cur sseEvent
	for len(out) < n && sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			out = append(out, cur)
			cur = sseEvent{}
		case strings.HasPrefix(line, "id: "):
			cur.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			cur.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			cur.data += line[6:]
		default:
			t.Fatalf("a line that is not of the server-sent events format: %q", line)
		}
	}
	if len(out) < n {
		t.Fatalf("the stream ended after %d events (%v), want %d", len(out), sc.Err(), n)
	}
	return out
}

// The web page's event stream: server-sent events, one per event of the
// log, whose id is the sequence number (so a reconnecting reader's
// Last-Event-ID resumes after it) and whose data is the event's JSON; it
// follows without being asked to.
func TestEventsAsServerSentEvents(t *testing.T) {
	f := newFake()
	f.log.Append(live.Event{Type: "started", Path: "shop/db", Cause: "boot"})
	f.log.Append(live.Event{Type: "exited", Path: "shop/db", Reason: "line one\nline two"})
	srv := NewServer(f)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	defer srv.Close()

	get := func(target, lastID string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", ts.URL+target, nil)
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := get("/v1/events?sse=1", "")
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	got := readSSE(t, resp.Body, 2)
	var e live.Event
	if err := json.Unmarshal([]byte(got[1].data), &e); err != nil || got[1].id != "2" || e.Seq != 2 || e.Reason != "line one\nline two" {
		t.Fatalf("second event %+v: %+v %v", got[1], e, err)
	}
	// It follows: an event appended later comes on the same stream.
	f.log.Append(live.Event{Type: "started", Path: "shop/web"})
	if got := readSSE(t, resp.Body, 1); got[0].id != "3" || !strings.Contains(got[0].data, `"path":"shop/web"`) {
		t.Fatalf("followed event %+v", got[0])
	}
	resp.Body.Close()

	// A reconnecting reader resumes after its Last-Event-ID.
	resp = get("/v1/events?sse=1", "2")
	if got := readSSE(t, resp.Body, 1); got[0].id != "3" {
		t.Fatalf("after Last-Event-ID 2: %+v", got[0])
	}
	resp.Body.Close()
	for _, bad := range []string{"x", strings.Repeat("9", MaxFieldBytes+1)} {
		resp = get("/v1/events?sse=1", bad)
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("Last-Event-ID %.10q…: status %d, want 400", bad, resp.StatusCode)
		}
	}
}

// A server-sent event stream whose reader stops reading is cut off as any
// other, its last event a slow_follower one saying why.
func TestServerSentEventsSlowFollowerIsCutOff(t *testing.T) {
	f := newFake()
	f.log = NewEventLog(50)
	srv := NewServer(f)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	defer srv.Close()
	resp, err := http.Get(ts.URL + "/v1/events?sse=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	eventually(t, 10*time.Second, "the stream is not following", func() bool {
		f.log.mu.Lock()
		defer f.log.mu.Unlock()
		return len(f.log.subs) == 1
	})
	reason := strings.Repeat("x", 500)
	for range 5000 { // far more than the socket buffers hold, while nobody reads
		f.log.Append(live.Event{Type: "exited", Path: "shop/db", Reason: reason})
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var event, data string
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "event: ") {
			event = line[7:]
		} else if strings.HasPrefix(line, "data: ") {
			data = line[6:]
		}
	}
	if event != CodeSlowFollower || !strings.Contains(data, "fell behind") {
		t.Fatalf("last event %q %s, want a slow_follower one", event, data)
	}
}
