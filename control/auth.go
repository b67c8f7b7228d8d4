package control

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net"
	"net/http"
	"strings"
)

// TokenBytes is how many random bytes a token of NewToken has (it reads as
// twice as many hex digits).
const TokenBytes = 32

// NewToken returns a new random token (crypto/rand), in hex.
func NewToken() string {
	b := make([]byte, TokenBytes)
	rand.Read(b) // never fails (crypto/rand's contract since Go 1.24)
	return hex.EncodeToString(b)
}

// RequireToken returns h behind the token rule of the TCP listener
// (`otpctl run --http`): a request that can change the tree (any method
// but GET and HEAD) needs the header "Authorization: Bearer TOKEN"; a GET
// or HEAD needs none when loopback is true (the listener's address is a
// loopback one), and otherwise needs the header or the token as the query
// parameter ?token=TOKEN (for what a browser opens by its address: the
// page, an event stream). Tokens are compared in constant time. A request
// without the token is answered 401 unauthorized. An empty token lets no
// request that needs one through.
func RequireToken(token string, loopback bool, h http.Handler) http.Handler {
	want := []byte(token)
	ok := func(got string) bool {
		return token != "" && subtle.ConstantTimeCompare([]byte(got), want) == 1
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		read := r.Method == http.MethodGet || r.Method == http.MethodHead
		bearer, hasBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		switch {
		case read && loopback:
		case hasBearer && ok(bearer):
		case read && r.URL.Query().Has("token") && ok(r.URL.Query().Get("token")):
		default:
			w.Header().Set("WWW-Authenticate", `Bearer realm="otpctl"`)
			what := "a request that changes the tree"
			if read {
				what = "a request to a listener that is not on loopback"
			}
			writeError(w, Errorf(CodeUnauthorized, "%s needs the token printed by otpctl run (and kept in NAME.token beside its socket): "+
				"send Authorization: Bearer TOKEN", what))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// IsLoopback reports whether addr, a listener's address, is a loopback one
// (127.0.0.0/8, ::1): one only this machine's users can reach. An
// unspecified address (":9090", 0.0.0.0) is not.
func IsLoopback(addr net.Addr) bool {
	a, ok := addr.(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
}
