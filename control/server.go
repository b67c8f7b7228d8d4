package control

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// MaxBodyBytes bounds a request body; a larger one is refused.
const MaxBodyBytes = 1 << 20

// Backend is the running tree as the server sees it. Its methods are called
// from the server's request goroutines, concurrently. An error that is an
// *Error is answered as it is; any other is an internal error.
type Backend interface {
	Tree() (*Node, error)
	Kill(path, reason string) error
	Stop(path string) error
	Start(req StartRequest) (StartReply, error)
	Restart(path string) (StartReply, error)
	Call(path string, request json.RawMessage, timeout time.Duration) (json.RawMessage, error)
	Reload() (ReloadReply, error)
	// Shutdown begins stopping the tree and returns at once.
	Shutdown()
	// Events returns the logged events after sequence number since and,
	// with follow, a channel of those that come later, closed when ctx
	// ends or the tree stops.
	Events(ctx context.Context, since uint64, follow bool) ([]Event, <-chan Event)
}

// Server serves the control API for a Backend.
type Server struct {
	backend Backend
	http    *http.Server
}

// NewServer returns a server for b.
func NewServer(b Backend) *Server {
	s := &Server{backend: b}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/tree", s.tree)
	mux.HandleFunc("GET /v1/events", s.events)
	mux.HandleFunc("GET /v1/wait", s.wait)
	mux.HandleFunc("POST /v1/kill", s.kill)
	mux.HandleFunc("POST /v1/stop", s.stop)
	mux.HandleFunc("POST /v1/start", s.start)
	mux.HandleFunc("POST /v1/restart", s.restart)
	mux.HandleFunc("POST /v1/call", s.call)
	mux.HandleFunc("POST /v1/reload", s.reload)
	mux.HandleFunc("POST /v1/shutdown", s.shutdown)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, Errorf(CodeNotFound, "no endpoint %s %s (see the README's control API)", r.Method, r.URL.Path))
	})
	s.http = &http.Server{
		Handler: mux,
		// A slow or stuck client cannot hold a request goroutine for
		// long; event streams are not bound by a write timeout.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	return s
}

// Serve serves on l until Close. It returns nil after Close.
func (s *Server) Serve(l net.Listener) error {
	err := s.http.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops serving: the listener is closed, then open connections
// (event streams included).
func (s *Server) Close() error { return s.http.Close() }

// Shutdown stops serving gracefully: the listener is closed, then it waits
// for the requests in progress to finish until ctx ends (an event stream
// finishes when the backend's event channel is closed), then closes what is
// left. `otpctl run` closes its event log, then calls Shutdown, so that
// every follower sees its stream end cleanly.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if err != nil {
		s.http.Close()
	}
	return err
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

// decode reads a JSON body into v strictly: unknown fields, trailing data
// and bodies over MaxBodyBytes are refused.
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
	return true
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

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	follow := q.Get("follow") == "1" || q.Get("follow") == "true"
	var since uint64
	if v := q.Get("since"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			writeError(w, Errorf(CodeBadRequest, "since %q: a sequence number is expected", v))
			return
		}
		since = n
	}
	past, live := s.backend.Events(r.Context(), since, follow)
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	for _, e := range past {
		enc.Encode(e)
	}
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	if live == nil {
		return
	}
	for e := range live {
		if enc.Encode(e) != nil {
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
}

func (s *Server) wait(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	path, state := q.Get("path"), q.Get("state")
	if !needPath(w, path) {
		return
	}
	if state == "" {
		state = "running"
	}
	switch state {
	case "running", "starting", "restarting", "stopped", "failed":
	default:
		writeError(w, Errorf(CodeBadRequest, "state %q: one of running, starting, restarting, stopped, failed", state))
		return
	}
	timeout := 30 * time.Second
	if v := q.Get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			writeError(w, Errorf(CodeBadRequest, "timeout %q: a Go duration is expected (e.g. 10s)", v))
			return
		}
		timeout = d
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	// Subscribe before looking, so no change is missed in between.
	_, live := s.backend.Events(ctx, ^uint64(0), true)
	for {
		n, err := s.backend.Tree()
		if err != nil {
			writeError(w, err)
			return
		}
		if f := n.Find(path); f != nil && f.State == state {
			writeJSON(w, 200, f)
			return
		}
		select {
		case _, ok := <-live:
			if !ok {
				if ctx.Err() != nil {
					writeError(w, Errorf(CodeTimeout, "%s is not %s after %v", path, state, timeout))
				} else {
					writeError(w, Errorf(CodeRefused, "the tree stopped while waiting for %s", path))
				}
				return
			}
		case <-ctx.Done():
			writeError(w, Errorf(CodeTimeout, "%s is not %s after %v", path, state, timeout))
			return
		}
	}
}
