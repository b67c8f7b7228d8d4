package control

import (
	"net/http"
	"strconv"
	"time"
)

// LogLine is one kept output line of a worker (an exec child's stdout or
// stderr line), as GET /v1/logs streams it and `otpctl logs --json`
// prints it.
type LogLine struct {
	// Seq orders the lines of the whole tree as they were kept: a
	// supervisor's lines are merged by it.
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Path   string    `json:"path"`
	OSPid  int       `json:"os_pid"`
	Stream string    `json:"stream"` // stdout or stderr
	Line   string    `json:"line"`
}

// LogQuery selects kept output lines: those of Path (a worker, or every
// worker under a supervisor) after the sequence number After, not before
// Since when it is set, the last N of them (0: all).
type LogQuery struct {
	Path  string
	N     int
	After uint64
	Since time.Time
}

// LogReader is what a Backend may also implement to serve GET /v1/logs:
// the output lines it keeps per worker. Without it the endpoint answers
// not_found.
type LogReader interface {
	// Logs returns the lines q selects, oldest first; a path the tree
	// does not have is a not_found *Error.
	Logs(q LogQuery) ([]LogLine, error)
	// FollowLogs returns a channel that gets a value (it holds one at
	// most) whenever a line is kept, and the function that stops it.
	FollowLogs() (<-chan struct{}, func())
}

// DefaultLogRead is how many lines GET /v1/logs returns without ?n, and
// MaxLogRead the most it returns for any n (a larger n is capped).
const (
	DefaultLogRead = 100
	MaxLogRead     = 10000
)

// logs answers GET /v1/logs?path=P[&n=N][&since=D][&follow=1] with the kept
// output lines of P (merged in time order over P's subtree for a
// supervisor), one JSON LogLine a line, as a stream that ends after them,
// or with follow goes on with each new line. since is a duration (lines of
// the last 5m) or an RFC 3339 time. The stream is bounded as the event
// stream is: a reader that does not take a write within the write timeout
// is cut off with a slow_follower last line; a follower that falls behind
// the kept lines goes on from the oldest kept.
func (s *Server) logs(w http.ResponseWriter, r *http.Request) {
	q, follow, ok := logQuery(w, r)
	if !ok {
		return
	}
	lr, isReader := s.backend.Backend.(LogReader)
	if !isReader {
		writeError(w, Errorf(CodeNotFound, "this instance keeps no output lines"))
		return
	}
	lines, err := lr.Logs(q)
	if err != nil {
		writeError(w, s.backend.hint(q.Path, err))
		return
	}
	var ready <-chan struct{}
	if follow {
		var stop func()
		ready, stop = lr.FollowLogs()
		defer stop()
	}
	st, gone, ok := s.openStream(w, false)
	if !ok {
		return
	}
	defer st.close()
	if !st.begin() {
		return
	}
	for {
		for _, l := range lines {
			st.addJSON(l)
			q.After = l.Seq
		}
		if !st.flush() {
			return
		}
		if ready == nil {
			st.finish()
			return
		}
		select {
		case <-ready:
		case <-gone:
			return
		case <-s.done:
			st.finish()
			return
		}
		q.N, q.Since = MaxLogRead, time.Time{}
		if lines, err = lr.Logs(q); err != nil {
			st.finish() // the node is gone (a reload removed it)
			return
		}
	}
}

// logQuery reads GET /v1/logs's parameters, answering a bad one itself.
func logQuery(w http.ResponseWriter, r *http.Request) (q LogQuery, follow, ok bool) {
	var text [4]string
	for i, name := range []string{"path", "n", "since", "follow"} {
		if text[i], ok = query(w, r, name); !ok {
			return q, false, false
		}
	}
	q.Path, q.N = text[0], DefaultLogRead
	if !needPath(w, q.Path) {
		return q, false, false
	}
	if text[1] != "" {
		n, err := strconv.Atoi(text[1])
		if err != nil || n < 0 {
			writeError(w, Errorf(CodeBadRequest, "n %q: a count of lines (0 or more) is expected", text[1]))
			return q, false, false
		}
		q.N = n
	}
	if q.N == 0 || q.N > MaxLogRead {
		q.N = MaxLogRead
	}
	if since := text[2]; since != "" {
		if d, err := time.ParseDuration(since); err == nil && d >= 0 {
			q.Since = time.Now().Add(-d)
		} else if t, err := time.Parse(time.RFC3339Nano, since); err == nil {
			q.Since = t
		} else {
			writeError(w, Errorf(CodeBadRequest, "since %q: a duration (5m) or an RFC 3339 time (2024-05-01T12:00:00Z) is expected", since))
			return q, false, false
		}
	}
	return q, text[3] == "1" || text[3] == "true", true
}
