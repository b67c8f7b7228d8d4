package cli

import (
	"fmt"
	"net"

	"github.com/otpctl/otpctl/control"
)

// httpListener is `run --http ADDR`: the TCP listener that serves the
// control API beside the socket, and its token, kept in NAME.token beside
// the socket while it runs.
type httpListener struct {
	ln       net.Listener
	token    string
	loopback bool // the bound address is a loopback one: GETs need no token
	remove   func()
}

// listenHTTP listens on addr, as the operator wrote it (an address without
// a host listens on every interface; nothing is assumed), and writes a new
// token beside socket. A malformed address is a usage error.
func listenHTTP(addr, socket string) (*httpListener, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, exit(ExitUsage, "run: --http %q: HOST:PORT is expected (e.g. 127.0.0.1:9090; port 0 picks a free one)", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, exit(ExitFailure, "run: --http: %v", err)
	}
	token := control.NewToken()
	remove, err := control.WriteTokenFile(control.TokenFile(socket), token)
	if err != nil {
		ln.Close()
		return nil, exit(ExitFailure, "run: --http: %v", err)
	}
	return &httpListener{ln: ln, token: token, loopback: control.IsLoopback(ln.Addr()), remove: remove}, nil
}

// attrs are what the "running" line says of the listener: its bound
// address, the token, and the URL of the page with the token.
func (h *httpListener) attrs() []any {
	addr := h.ln.Addr().String()
	return []any{"http", addr, "token", h.token, "url", fmt.Sprintf("http://%s/?token=%s", addr, h.token)}
}

// close removes the token file (the server closes the listener).
func (h *httpListener) close() {
	h.ln.Close()
	h.remove()
}
