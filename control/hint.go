package control

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/otpctl/otpctl/internal/suggest"
	"github.com/otpctl/otpctl/live"
)

// hinting is the Backend a Server serves: b, with every not_found answer
// for a path followed by the path that was likely meant ("; did you mean
// shop/pool/w1?"), so that every verb says it.
type hinting struct{ Backend }

func (h hinting) Kill(path, reason string) error { return h.hint(path, h.Backend.Kill(path, reason)) }
func (h hinting) Stop(path string) error         { return h.hint(path, h.Backend.Stop(path)) }

func (h hinting) Start(req StartRequest) (StartReply, error) {
	rep, err := h.Backend.Start(req)
	return rep, h.hint(req.Path, err)
}

func (h hinting) Restart(path string) (StartReply, error) {
	rep, err := h.Backend.Restart(path)
	return rep, h.hint(path, err)
}

func (h hinting) Call(path string, request json.RawMessage, timeout time.Duration) (json.RawMessage, error) {
	rep, err := h.Backend.Call(path, request, timeout)
	return rep, h.hint(path, err)
}

// hint adds the likely path to a not_found err.
func (h hinting) hint(path string, err error) error {
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeNotFound {
		return err
	}
	n, terr := h.Backend.Tree()
	if terr != nil {
		return err
	}
	if s := likelyPath(n, path); s != "" {
		hinted := *e
		hinted.Message += "; did you mean " + s + "?"
		return &hinted
	}
	return err
}

// likelyPath is the path of the tree at n that path likely meant, or "".
func likelyPath(n *live.Node, path string) string {
	var paths []string
	n.Walk(func(c *live.Node) { paths = append(paths, c.Path) })
	return suggest.Path(path, paths)
}

// absent is the not_found answer of a wait for a path the tree does not
// have.
func absent(n *live.Node, path string) *Error {
	e := Errorf(CodeNotFound, "wait %s: no such node", path)
	if s := likelyPath(n, path); s != "" {
		e.Message += "; did you mean " + s + "?"
	} else {
		e.Message += " (to wait for a node a reload will add, use --absent-ok)"
	}
	return e
}
