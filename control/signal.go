package control

import (
	"context"
	"net/http"
)

// SignalRequest is the body of POST /v1/signal: send Signal (HUP, USR1,
// USR2, INT, TERM, QUIT or WINCH; SIGHUP and hup read the same) to the
// process group of the exec child at Path.
type SignalRequest struct {
	Path   string `json:"path"`
	Signal string `json:"signal"`
}

// SignalReply answers POST /v1/signal: the path, the signal's short name
// (HUP) and the OS pid whose group was signalled.
type SignalReply struct {
	Path   string `json:"path"`
	Signal string `json:"signal"`
	OSPid  int    `json:"os_pid"`
}

// Signaller is a Backend that signals exec children (POST /v1/signal).
// The signal is not a restart and not a crash; a child that exits because
// of it exits as by itself. An actor or a supervisor is refused (409). A
// Backend that is not a Signaller answers every signal refused.
type Signaller interface {
	Signal(path, signal string) (SignalReply, error)
}

func (s *Server) signal(w http.ResponseWriter, r *http.Request) {
	var req SignalRequest
	if !decode(w, r, &req) || !needPath(w, req.Path) {
		return
	}
	if req.Signal == "" {
		writeError(w, Errorf(CodeBadRequest, `"signal" is required`))
		return
	}
	sg, ok := s.backend.Backend.(Signaller)
	if !ok {
		writeError(w, Errorf(CodeRefused, "this instance cannot signal its children"))
		return
	}
	rep, err := sg.Signal(req.Path, req.Signal)
	if err != nil {
		writeError(w, s.backend.hint(req.Path, err))
		return
	}
	writeJSON(w, 200, rep)
}

// Signal sends sig (HUP, USR1, …) to the process group of the exec child
// at path.
func (c *Client) Signal(ctx context.Context, path, sig string) (SignalReply, error) {
	var rep SignalReply
	err := c.do(ctx, "POST", "/v1/signal", SignalRequest{Path: path, Signal: sig}, &rep)
	return rep, err
}
