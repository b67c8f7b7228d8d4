package control

import (
	"context"
	"net/http"
)

// ScaleRequest is the body of POST /v1/scale: the pool at Path is to have
// Size members.
type ScaleRequest struct {
	Path string `json:"path"`
	Size int    `json:"size"`
}

// ScaleReply answers POST /v1/scale: the pool's size before (Old) and now.
type ScaleReply struct {
	Path string `json:"path"`
	Old  int    `json:"old"`
	Size int    `json:"size"`
}

// Scaler is a Backend that resizes pools (POST /v1/scale): new members
// start at the end, surplus ones stop from the end, the others are not
// touched. A Backend that is not a Scaler answers every scale refused.
type Scaler interface {
	Scale(path string, size int) (ScaleReply, error)
}

func (s *Server) scale(w http.ResponseWriter, r *http.Request) {
	var req ScaleRequest
	if !decode(w, r, &req) || !needPath(w, req.Path) {
		return
	}
	sc, ok := s.backend.Backend.(Scaler)
	if !ok {
		writeError(w, Errorf(CodeRefused, "this instance cannot scale pools"))
		return
	}
	rep, err := sc.Scale(req.Path, req.Size)
	if err != nil {
		writeError(w, s.backend.hint(req.Path, err))
		return
	}
	writeJSON(w, 200, rep)
}

// Scale resizes the pool at path to size members, in place, and returns
// its size before and after.
func (c *Client) Scale(ctx context.Context, path string, size int) (ScaleReply, error) {
	var rep ScaleReply
	err := c.do(ctx, "POST", "/v1/scale", ScaleRequest{Path: path, Size: size}, &rep)
	return rep, err
}
