package control

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The token rule of the TCP listener, as a table: what changes the tree
// needs the token; reading needs it only off loopback (the loopback flag
// stands for the listener's address, so no other address is bound here).
func TestRequireTokenRule(t *testing.T) {
	const token = "s3cret"
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	cases := []struct {
		name     string
		loopback bool
		method   string
		target   string
		auth     string
		want     int
	}{
		{"loopback GET without token", true, "GET", "/metrics", "", 200},
		{"loopback HEAD without token", true, "HEAD", "/v1/tree", "", 200},
		{"loopback POST without token", true, "POST", "/v1/kill", "", 401},
		{"loopback POST with token", true, "POST", "/v1/kill", "Bearer s3cret", 200},
		{"loopback POST with wrong token", true, "POST", "/v1/kill", "Bearer s3cres", 401},
		{"loopback POST with a longer token", true, "POST", "/v1/kill", "Bearer s3cret2", 401},
		{"loopback POST with the token in the query only", true, "POST", "/v1/kill?token=s3cret", "", 401},
		{"loopback POST, token not as Bearer", true, "POST", "/v1/kill", "s3cret", 401},
		{"loopback DELETE without token", true, "DELETE", "/v1/tree", "", 401},
		{"other GET without token", false, "GET", "/metrics", "", 401},
		{"other GET with token", false, "GET", "/metrics", "Bearer s3cret", 200},
		{"other GET with wrong token", false, "GET", "/metrics", "Bearer nope", 401},
		{"other GET with the token in the query", false, "GET", "/?token=s3cret", "", 200},
		{"other GET with a wrong token in the query", false, "GET", "/?token=s3cre", "", 401},
		{"other POST without token", false, "POST", "/v1/reload", "", 401},
		{"other POST with token", false, "POST", "/v1/reload", "Bearer s3cret", 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(c.method, c.target, nil)
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			rec := httptest.NewRecorder()
			RequireToken(token, c.loopback, ok).ServeHTTP(rec, req)
			if rec.Code != c.want {
				t.Fatalf("status %d, want %d", rec.Code, c.want)
			}
			if c.want != 401 {
				return
			}
			var e Error
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code != CodeUnauthorized || !strings.Contains(e.Message, "token") {
				t.Errorf("body %q: want the house error with code %s", rec.Body, CodeUnauthorized)
			}
		})
	}
	t.Run("an empty token lets nothing through that needs one", func(t *testing.T) {
		req := httptest.NewRequest("POST", "/v1/kill", nil)
		req.Header.Set("Authorization", "Bearer ")
		rec := httptest.NewRecorder()
		RequireToken("", true, ok).ServeHTTP(rec, req)
		if rec.Code != 401 {
			t.Fatalf("status %d, want 401", rec.Code)
		}
	})
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:9090": true, "127.1.2.3:80": true, "[::1]:9090": true,
		"0.0.0.0:9090": false, "[::]:9090": false, "192.168.1.2:9090": false, "10.0.0.1:1": false,
	} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := IsLoopback(a); got != want {
			t.Errorf("IsLoopback(%s) = %v, want %v", addr, got, want)
		}
	}
	if IsLoopback(&net.UnixAddr{Name: "/tmp/x.sock", Net: "unix"}) {
		t.Error("a Unix socket's address is not a loopback TCP one")
	}
}

// The TCP listener serves the same API under the token rule, and a client
// that holds a connection open does not keep Shutdown past its deadline.
func TestServeTCP(t *testing.T) {
	srv := NewServer(newFake())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.ServeTCP(l, "tok", true) }()
	base := "http://" + l.Addr().String()
	get := func(method, path, auth string) int {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(`{"path":"shop/db"}`))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get("GET", "/v1/tree", ""); got != 200 {
		t.Errorf("GET /v1/tree without token: %d, want 200", got)
	}
	if got := get("GET", "/metrics", ""); got != 200 {
		t.Errorf("GET /metrics without token: %d, want 200", got)
	}
	if got := get("POST", "/v1/kill", ""); got != 401 {
		t.Errorf("POST /v1/kill without token: %d, want 401", got)
	}
	if got := get("POST", "/v1/kill", "Bearer tok"); got != 200 {
		t.Errorf("POST /v1/kill with token: %d, want 200", got)
	}

	// A slow client: half a request, never finished.
	slow, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	slow.Write([]byte("GET /v1/tree HTTP/1.1\r\nHost: x\r\n"))
	time.Sleep(50 * time.Millisecond) // let the server take it (not needed for correctness)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	shut := make(chan struct{})
	go func() { srv.Shutdown(ctx); close(shut) }()
	select {
	case <-shut:
	case <-time.After(30 * time.Second):
		t.Fatal("Shutdown is held up by a slow client of the TCP listener")
	}
	if err := <-served; err != nil {
		t.Errorf("ServeTCP: %v", err)
	}
	// Once stopped, a listener given to ServeTCP is closed at once.
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.ServeTCP(l2, "tok", true); err != nil {
		t.Errorf("ServeTCP after Shutdown: %v", err)
	}
	if _, err := net.DialTimeout("tcp", l2.Addr().String(), time.Second); err == nil {
		t.Error("ServeTCP after Shutdown left its listener open")
	}
}
