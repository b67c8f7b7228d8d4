package control

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The page and its files are served with a policy that lets them load
// only their own files; anything else under /ui/ is not found, and the
// page's address (it may carry the token) is sent to no one.
func TestWebPageIsServed(t *testing.T) {
	srv := NewServer(newFake())
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	defer srv.Close()
	for _, c := range []struct{ path, ctype, has string }{
		{"/", "text/html; charset=utf-8", `<script src="/ui/app.js"`},
		{"/ui/app.js", "text/javascript; charset=utf-8", "textContent"},
		{"/ui/style.css", "text/css; charset=utf-8", ".tree"},
	} {
		resp, err := http.Get(ts.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode != 200 || h.Get("Content-Type") != c.ctype || !strings.Contains(string(body), c.has) {
			t.Errorf("GET %s: %d %q, body has %q: %v", c.path, resp.StatusCode, h.Get("Content-Type"), c.has, strings.Contains(string(body), c.has))
		}
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "connect-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q", c.path, csp)
		}
		if h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: headers %v", c.path, h)
		}
	}
	// No inline data in the page: every text from the tree goes in as text.
	app, _ := webFiles.ReadFile("web/app.js")
	if strings.Contains(string(app), "innerHTML") || strings.Contains(string(app), "insertAdjacentHTML") {
		t.Error("app.js puts HTML into the page; use textContent")
	}
	for _, path := range []string{"/ui/", "/ui/index.html", "/ui/screenshot.png", "/ui/nothing.js", "/index.html"} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
}
