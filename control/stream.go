package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/otpctl/otpctl/live"
)

// StreamWriteTimeout is how long the server waits for an event stream's
// reader to take one write before it cuts the stream off (then it waits
// as long again for the last line to be read, and closes the connection).
const StreamWriteTimeout = 10 * time.Second

// streamBatch is how many events a stream copies out of the log at a time.
const streamBatch = 64

// streamEnd is the last line of a stream the server cut off, as the client
// reads it.
type streamEnd struct {
	Message string `json:"error"`
	Code    string `json:"code"`
}

// events streams the kept events after ?since and, with ?follow, the later
// ones. It reads the log by sequence number, a batch at a time, so a
// stream holds a batch, never a copy of the log. The connection is taken
// over from net/http so that a write that times out does not end it
// before its last line: a stream is cut off, with a last line saying why,
// when its reader falls behind the log or takes longer than
// StreamWriteTimeout over a write.
//
// With ?sse=1 the stream is in the server-sent events format, for the web
// page: it always follows, each event is a message whose id is its
// sequence number and whose data is its JSON, a reconnecting reader's
// Last-Event-ID header stands for ?since, and the last message of a
// stream cut off is a slow_follower event.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	follow := r.URL.Query().Get("follow")
	sse := r.URL.Query().Get("sse") == "1"
	sinceText, ok := query(w, r, "since")
	if !ok {
		return
	}
	if id := r.Header.Get("Last-Event-ID"); sse && id != "" {
		if e := fieldError("Last-Event-ID", id); e != nil {
			writeError(w, e)
			return
		}
		sinceText = id
	}
	if sse {
		follow = "1"
	}
	var since uint64
	if sinceText != "" {
		n, err := strconv.ParseUint(sinceText, 10, 64)
		if err != nil {
			writeError(w, Errorf(CodeBadRequest, "since %q: a sequence number is expected", sinceText))
			return
		}
		since = n
	}
	st, gone, ok := s.openStream(w, sse)
	if !ok {
		return
	}
	defer st.close()

	log := s.backend.EventLog()
	var ready <-chan struct{} // nil: not following
	if follow == "1" || follow == "true" {
		var stop func()
		ready, stop = log.Follow()
		defer stop()
	}
	first, end := log.Bounds()
	if since+1 < first {
		since = first - 1 // from the oldest kept: nothing of what was asked is lost
	}
	if !st.begin() {
		return
	}
	batch := make([]live.Event, streamBatch)
	for {
		n, behind := log.Read(since, batch)
		if behind {
			s.behind.Add(1)
			st.cut(fmt.Sprintf("the event stream fell behind: events after %d are no longer kept (the log keeps the last %d); read faster, or resume with ?since=%d and accept the gap", since, len(log.buf), since))
			return
		}
		for _, e := range batch[:n] {
			if ready == nil && e.Seq > end {
				n = 0
				break
			}
			st.add(e)
			since = e.Seq
		}
		if !st.flush() {
			return
		}
		if n == len(batch) {
			continue
		}
		if ready == nil {
			st.finish()
			return
		}
		select {
		case _, open := <-ready:
			if !open {
				// The log is closed: what is kept is all there will be.
				ready = nil
				_, end = log.Bounds()
			}
		case <-gone:
			return
		case <-s.done:
			return
		}
	}
}

// openStream takes the connection of a streaming request over from
// net/http, within MaxStreams: the stream it returns writes within the
// server's write timeout; gone is closed when the reader closes its end.
// It has answered the request itself when ok is false. st.close ends it.
func (s *Server) openStream(w http.ResponseWriter, sse bool) (st *stream, gone <-chan struct{}, ok bool) {
	if !s.streams.acquire() {
		writeBusy(w, "%d streams are open, the most the server allows (MaxStreams); try again later", MaxStreams)
		return nil, nil, false
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		s.streams.release()
		writeError(w, err)
		return nil, nil, false
	}
	if !s.track(conn, true) {
		s.streams.release()
		conn.Close()
		return nil, nil, false
	}
	conn.SetReadDeadline(time.Time{}) // the server's ReadTimeout was for the request
	closed := make(chan struct{})     // the reader closed its end
	go func() {
		io.Copy(io.Discard, brw.Reader)
		close(closed)
	}()
	st = &stream{conn: conn, timeout: s.streamTimeout(), stalled: &s.stalled, sse: sse}
	st.close = func() {
		conn.Close()
		<-closed
		s.track(conn, false)
		s.streams.release()
	}
	return st, closed, true
}

// stream writes an event stream as an HTTP/1.1 chunked response on a
// taken-over connection, a batch of lines a chunk, each write within its
// timeout.
type stream struct {
	conn    net.Conn
	timeout time.Duration
	stalled *atomic.Int64 // counts the streams cut off for not reading
	sse     bool          // in the server-sent events format, not JSON lines
	lines   bytes.Buffer  // the lines of the batch being written
	enc     *json.Encoder
	pending []byte // what a write that timed out left unwritten
	close   func() // ends the stream: closes and releases its connection
}

// begin writes the response header.
func (st *stream) begin() bool {
	st.enc = json.NewEncoder(&st.lines)
	contentType := "application/x-ndjson"
	if st.sse {
		contentType = "text/event-stream"
	}
	return st.write([]byte("HTTP/1.1 200 OK\r\nContent-Type: "+contentType+"\r\n"+
		"Transfer-Encoding: chunked\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n")) == nil
}

// addJSON adds v to the batch as one JSON line.
func (st *stream) addJSON(v any) { st.enc.Encode(v) }

// add adds e to the batch: a JSON line, or a server-sent event whose data
// is that line (JSON escapes every newline, so it is one data line).
func (st *stream) add(e live.Event) {
	if !st.sse {
		st.enc.Encode(e)
		return
	}
	fmt.Fprintf(&st.lines, "id: %d\ndata: ", e.Seq)
	st.enc.Encode(e)
	st.lines.WriteByte('\n')
}

// flush writes the lines added since the last flush, as one chunk. A write
// that times out cuts the stream off: flush writes the last line and
// reports false.
func (st *stream) flush() bool {
	if st.lines.Len() == 0 {
		return true
	}
	err := st.write(chunk(st.lines.Bytes()))
	st.lines.Reset()
	if err == nil {
		return true
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		st.stalled.Add(1)
		st.cut(fmt.Sprintf("the stream was not read for %v: the server cut it off", st.timeout))
	}
	return false
}

// cut ends the stream with a last line saying why (after the rest of a
// chunk a timed-out write left), waiting for it to be read as long as for
// any write.
func (st *stream) cut(why string) {
	line, _ := json.Marshal(streamEnd{Message: why, Code: CodeSlowFollower})
	if st.sse {
		line = append([]byte("event: "+CodeSlowFollower+"\ndata: "), append(line, '\n')...)
	}
	rest := append(st.pending, chunk(append(line, '\n'))...)
	st.pending = nil
	st.write(append(rest, lastChunk...))
}

// finish ends the stream cleanly: its reader sees the end of the response.
func (st *stream) finish() { st.write(lastChunk) }

// write writes p within the stream's timeout, and keeps what a write that
// fails leaves unwritten for cut to complete.
func (st *stream) write(p []byte) error {
	st.conn.SetWriteDeadline(time.Now().Add(st.timeout))
	n, err := st.conn.Write(p)
	if err != nil {
		st.pending = append(st.pending[:0], p[n:]...)
	}
	return err
}

// chunk frames data as one chunk of a chunked HTTP body.
func chunk(data []byte) []byte {
	var b bytes.Buffer
	httputil.NewChunkedWriter(&b).Write(data)
	return b.Bytes()
}

// lastChunk ends a chunked HTTP body (no trailer).
var lastChunk = []byte("0\r\n\r\n")

// writeBusy answers 503 busy.
func writeBusy(w http.ResponseWriter, format string, args ...any) {
	w.Header().Set("Retry-After", "1")
	writeError(w, Errorf(CodeBusy, format, args...))
}

// limit counts what is open of something the server bounds.
type limit chan struct{}

func (l limit) acquire() bool {
	select {
	case l <- struct{}{}:
		return true
	default:
		return false
	}
}

func (l limit) release() { <-l }
