package control

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/otpctl/otpctl/live"
)

// MaxBodyBytes bounds a request body; a larger one is refused.
const MaxBodyBytes = 1 << 20

// Backend is the running tree as the server sees it. Its methods are called
// from the server's request goroutines, concurrently. An error that is an
// *Error is answered as it is; any other is an internal error.
type Backend interface {
	Tree() (*live.Node, error)
	Kill(path, reason string) error
	Stop(path string) error
	Start(req StartRequest) (StartReply, error)
	Restart(path string) (StartReply, error)
	Call(path string, request json.RawMessage, timeout time.Duration) (json.RawMessage, error)
	Reload() (ReloadReply, error)
	// Shutdown begins stopping the tree and returns at once.
	Shutdown()
	// EventLog is the log of the tree's events, which the events and wait
	// endpoints read; it is closed when the tree stops.
	EventLog() *EventLog
}

// Server serves the control API for a Backend.
type Server struct {
	// WriteTimeout is how long an event stream's write may wait for its
	// reader before the stream is cut off; 0 means StreamWriteTimeout.
	// Set it before Serve.
	WriteTimeout time.Duration
	// DroppedLines, if set, returns how many lines the program's log has
	// dropped so far; GET /metrics serves it as otpctl_events_dropped_total
	// (`otpctl run` counts the lines its stderr did not take). Set it
	// before Serve.
	DroppedLines func() uint64

	backend hinting
	http    *http.Server
	streams limit        // open event streams, at most MaxStreams
	waits   limit        // pending waits, at most MaxWaits
	stalled atomic.Int64 // event streams cut off for not reading
	behind  atomic.Int64 // event streams cut off for falling behind the log

	// tcp are the servers of ServeTCP's listeners; stopped is set once
	// Close or Shutdown has begun, after which ServeTCP serves nothing.
	tcp     []*http.Server
	stopped bool

	mu     sync.Mutex
	conns  map[net.Conn]struct{} // the event streams' taken-over connections
	wg     sync.WaitGroup        // their handlers
	done   chan struct{}         // closed by Close and Shutdown
	closed bool
	// draining is set once Shutdown (or Close) waits for the streams:
	// no stream may join wg from then on.
	draining bool
}

// NewServer returns a server for b.
func NewServer(b Backend) *Server {
	s := &Server{backend: hinting{b}, streams: make(limit, MaxStreams), waits: make(limit, MaxWaits),
		conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/tree", s.tree)
	mux.HandleFunc("GET /v1/events", s.events)
	mux.HandleFunc("GET /v1/wait", s.wait)
	mux.HandleFunc("GET /v1/logs", s.logs)
	mux.HandleFunc("POST /v1/kill", s.kill)
	mux.HandleFunc("POST /v1/stop", s.stop)
	mux.HandleFunc("POST /v1/start", s.start)
	mux.HandleFunc("POST /v1/restart", s.restart)
	mux.HandleFunc("POST /v1/call", s.call)
	mux.HandleFunc("POST /v1/scale", s.scale)
	mux.HandleFunc("POST /v1/signal", s.signal)
	mux.HandleFunc("POST /v1/reload", s.reload)
	mux.HandleFunc("POST /v1/shutdown", s.shutdown)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	handleWeb(mux)
	mux.Handle("GET /metrics", s.metricsHandler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, Errorf(CodeNotFound, "no endpoint %s %s (see the README's control API)", r.Method, r.URL.Path))
	})
	s.http = httpServer(mux)
	return s
}

// httpServer is the http.Server of one of the server's listeners.
func httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler: h,
		// A slow or stuck client cannot hold a request goroutine for
		// long; event streams are not bound by a write timeout.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// Handler returns the server's handler, every endpoint of the API and the
// web page, as Serve serves it (no token is asked for): ServeTCP wraps it in
// RequireToken. Event streams opened through it are Server's like any
// other: Close and Shutdown end them.
func (s *Server) Handler() http.Handler { return s.http.Handler }

// Serve serves on l until Close. It returns nil after Close.
func (s *Server) Serve(l net.Listener) error {
	err := s.http.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// ServeTCP serves the same API on l, a TCP listener (`otpctl run --http`),
// under the token rule of RequireToken: loopback tells whether l's address
// is a loopback one (see IsLoopback). Close and Shutdown stop it with the
// rest, within the same bounds. It returns nil after Close or Shutdown,
// and at once (closing l) if they have begun.
func (s *Server) ServeTCP(l net.Listener, token string, loopback bool) error {
	hs := httpServer(RequireToken(token, loopback, s.http.Handler))
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		l.Close()
		return nil
	}
	s.tcp = append(s.tcp, hs)
	s.mu.Unlock()
	err := hs.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// servers marks the server stopped and returns every http.Server it runs.
func (s *Server) servers() []*http.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	return append([]*http.Server{s.http}, s.tcp...)
}

// Close stops serving: the listeners are closed, then open connections
// (event streams included), and it waits for their handlers to return.
func (s *Server) Close() error {
	var err error
	for _, hs := range s.servers() {
		err = errors.Join(err, hs.Close())
	}
	s.drain()
	s.closeStreams()
	s.wg.Wait()
	return err
}

// Shutdown stops serving gracefully: the listeners are closed, then it waits
// for the requests in progress to finish until ctx ends (an event stream
// finishes when the backend's event log is closed and its reader has
// taken what is left), then closes what is left. `otpctl run` closes its
// event log, then calls Shutdown, so that every follower sees its stream
// end cleanly.
func (s *Server) Shutdown(ctx context.Context) error {
	all := s.servers()
	errs := make([]error, len(all))
	var wg sync.WaitGroup
	for i, hs := range all {
		wg.Go(func() { errs[i] = hs.Shutdown(ctx) })
	}
	wg.Wait()
	err := errors.Join(errs...)
	s.drain()
	streamsDone := make(chan struct{})
	go func() { s.wg.Wait(); close(streamsDone) }()
	select {
	case <-streamsDone:
	case <-ctx.Done():
		if err == nil {
			err = ctx.Err()
		}
	}
	if err != nil {
		for _, hs := range all {
			hs.Close()
		}
	}
	s.closeStreams()
	<-streamsDone
	return err
}

// track adds (or removes) an event stream's connection to those Close
// closes; it reports false when the server is closed already.
func (s *Server) track(c net.Conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !add {
		delete(s.conns, c)
		s.wg.Done()
		return true
	}
	if s.closed || s.draining {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

// drain refuses new event streams, so that the streams' wait group can be
// waited on: a stream opened on a connection accepted before the listener
// closed would otherwise join it while Shutdown waits.
func (s *Server) drain() {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
}

// closeStreams ends every event stream at once.
func (s *Server) closeStreams() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	for c := range s.conns {
		c.Close()
	}
}

func (s *Server) streamTimeout() time.Duration {
	if s.WriteTimeout > 0 {
		return s.WriteTimeout
	}
	return StreamWriteTimeout
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Status: 500, Code: CodeInternal, Message: err.Error()}
	}
	if e.Status == 0 {
		e.Status = statusOf(e.Code)
	}
	writeJSON(w, e.Status, e)
}

// decode reads a JSON body into v strictly: unknown fields, trailing data,
// bodies over MaxBodyBytes and text fields over MaxFieldBytes are refused.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			writeError(w, Errorf(CodeBadRequest, "request body over %d bytes", MaxBodyBytes))
		case errors.Is(err, io.EOF):
			writeError(w, Errorf(CodeBadRequest, "empty request body: a JSON object is expected"))
		default:
			writeError(w, Errorf(CodeBadRequest, "malformed JSON request: %v", err))
		}
		return false
	}
	if dec.More() {
		writeError(w, Errorf(CodeBadRequest, "malformed JSON request: data after the object"))
		return false
	}
	if e := checkFields(v); e != nil {
		writeError(w, e)
		return false
	}
	return true
}

// query returns the query parameter name of r, or writes the bad_request
// error for one over MaxFieldBytes and reports false.
func query(w http.ResponseWriter, r *http.Request, name string) (string, bool) {
	v := r.URL.Query().Get(name)
	if e := fieldError(name, v); e != nil {
		writeError(w, e)
		return "", false
	}
	return v, true
}

func needPath(w http.ResponseWriter, path string) bool {
	if path == "" {
		writeError(w, Errorf(CodeBadRequest, `"path" is required`))
		return false
	}
	return true
}

func (s *Server) tree(w http.ResponseWriter, r *http.Request) {
	n, err := s.backend.Tree()
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, 200, n)
}

func (s *Server) kill(w http.ResponseWriter, r *http.Request) {
	var req KillRequest
	if !decode(w, r, &req) || !needPath(w, req.Path) {
		return
	}
	if err := s.backend.Kill(req.Path, req.Reason); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, 200, map[string]string{"path": req.Path})
}

func (s *Server) stop(w http.ResponseWriter, r *http.Request) {
	var req PathRequest
	if !decode(w, r, &req) || !needPath(w, req.Path) {
		return
	}
	if err := s.backend.Stop(req.Path); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, 200, map[string]string{"path": req.Path})
}

func (s *Server) start(w http.ResponseWriter, r *http.Request) {
	var req StartRequest
	if !decode(w, r, &req) || !needPath(w, req.Path) {
		return
	}
	rep, err := s.backend.Start(req)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, 200, rep)
}

func (s *Server) restart(w http.ResponseWriter, r *http.Request) {
	var req PathRequest
	if !decode(w, r, &req) || !needPath(w, req.Path) {
		return
	}
	rep, err := s.backend.Restart(req.Path)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, 200, rep)
}

func (s *Server) call(w http.ResponseWriter, r *http.Request) {
	var req CallRequest
	if !decode(w, r, &req) || !needPath(w, req.Path) {
		return
	}
	if len(req.Request) == 0 {
		writeError(w, Errorf(CodeBadRequest, `"request" is required`))
		return
	}
	timeout := 5 * time.Second
	if req.Timeout != "" {
		d, err := time.ParseDuration(req.Timeout)
		if err != nil || d <= 0 {
			writeError(w, Errorf(CodeBadRequest, "timeout %q: a positive Go duration is expected (e.g. 2s)", req.Timeout))
			return
		}
		timeout = d
	}
	rep, err := s.backend.Call(req.Path, req.Request, timeout)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(rep, '\n'))
}

func (s *Server) reload(w http.ResponseWriter, r *http.Request) {
	rep, err := s.backend.Reload()
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, 200, rep)
}

func (s *Server) shutdown(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, map[string]string{"status": "stopping"})
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	s.backend.Shutdown()
}

// wait answers when the node at ?path is in ?state. It reads the tree
// once, then again only when an event that may change that node comes
// (EventLog.Watch), so pending waits cost the tree's other events nothing.
func (s *Server) wait(w http.ResponseWriter, r *http.Request) {
	var path, state, timeoutText string
	for name, v := range map[string]*string{"path": &path, "state": &state, "timeout": &timeoutText} {
		var ok bool
		if *v, ok = query(w, r, name); !ok {
			return
		}
	}
	if !needPath(w, path) {
		return
	}
	if state == "" {
		state = "running"
	}
	if !live.IsState(state) {
		writeError(w, Errorf(CodeBadRequest, "state %q: one of %s", state, strings.Join(live.States, ", ")))
		return
	}
	timeout := 30 * time.Second
	if v := timeoutText; v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			writeError(w, Errorf(CodeBadRequest, "timeout %q: a Go duration is expected (e.g. 10s)", v))
			return
		}
		timeout = d
	}
	if !s.waits.acquire() {
		writeBusy(w, "%d waits are pending, the most the server allows (MaxWaits); try again later", MaxWaits)
		return
	}
	defer s.waits.release()
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	// Watch before looking, so no change is missed in between.
	changed, stop := s.backend.EventLog().Watch(path)
	defer stop()
	absentOK := r.URL.Query().Get("absent_ok") != ""
	for first := true; ; first = false {
		n, err := s.backend.Tree()
		if err != nil {
			writeError(w, err)
			return
		}
		f := n.Find(path)
		// While the tree boots, a declared child may not have started yet.
		if f == nil && first && !absentOK && n.State != "starting" {
			writeError(w, absent(n, path))
			return
		}
		if f != nil && string(f.State) == state {
			writeJSON(w, 200, f)
			return
		}
		select {
		case _, ok := <-changed:
			if !ok {
				writeError(w, Errorf(CodeRefused, "the tree stopped while waiting for %s", path))
				return
			}
		case <-ctx.Done():
			writeError(w, Errorf(CodeTimeout, "%s is not %s after %v", path, state, timeout))
			return
		}
	}
}
