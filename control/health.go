package control

import (
	"fmt"
	"net/http"
)

// StopReporter is what a Backend may also implement to tell GET /healthz
// and GET /readyz at once that its tree is stopping (a stop was asked for,
// the root supervisor gave up or shuts down by auto_shutdown) or has
// stopped. Without it they learn so
// only when the tree cannot be read any more.
type StopReporter interface {
	Stopping() bool
}

// healthz answers GET /healthz, a liveness probe: 200 {"status":"ok"}
// while the instance is up (its tree started or starting), 503 stopping
// once the tree is stopping. It does not read the tree when the backend
// reports stops itself, so that it stays cheap and answers while a
// supervisor is busy.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if s.stopping() {
		writeHealth(w, stoppingReply())
		return
	}
	if _, ok := s.backend.Backend.(StopReporter); !ok {
		if _, err := s.backend.Tree(); err != nil {
			writeHealth(w, stoppingReply())
			return
		}
	}
	writeHealth(w, HealthReply{Status: HealthOK})
}

// readyz answers GET /readyz, a readiness probe: 200 {"status":"ok"} when
// every node of the tree is ready (live.Node.Ready), else 503 with the
// nodes that are not (at most MaxNotReady of them), or 503 stopping.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.stopping() {
		writeHealth(w, stoppingReply())
		return
	}
	n, err := s.backend.Tree()
	if err != nil {
		writeHealth(w, stoppingReply())
		return
	}
	bad := n.NotReady()
	if len(bad) == 0 {
		writeHealth(w, HealthReply{Status: HealthOK})
		return
	}
	rep := HealthReply{Status: HealthNotReady, Code: CodeUnavailable}
	for _, b := range bad[:min(len(bad), MaxNotReady)] {
		rep.NotReady = append(rep.NotReady, NotReadyNode{Path: b.Path, State: b.ReadyState()})
	}
	rep.More = len(bad) - len(rep.NotReady)
	nodes := "nodes are"
	if len(bad) == 1 {
		nodes = "node is"
	}
	rep.Message = fmt.Sprintf("%d %s not ready: %s %s", len(bad), nodes, bad[0].Path, bad[0].ReadyState())
	if len(bad) > 1 {
		rep.Message += ", …"
	}
	writeHealth(w, rep)
}

// stopping reports whether the backend says its tree is stopping.
func (s *Server) stopping() bool {
	sr, ok := s.backend.Backend.(StopReporter)
	return ok && sr.Stopping()
}

func stoppingReply() HealthReply {
	return HealthReply{Status: HealthStopping, Code: CodeUnavailable, Message: "the tree is stopping"}
}

// writeHealth writes rep with 200 when its status is ok, else 503.
func writeHealth(w http.ResponseWriter, rep HealthReply) {
	status := http.StatusOK
	if rep.Status != HealthOK {
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, rep)
}
