package control

import (
	"bytes"
	"embed"
	"net/http"
	"path"
	"time"
)

// webFiles are the web page's files: plain HTML, CSS and JavaScript, no
// build step, nothing fetched from elsewhere. The screenshot beside them
// is the README's, not served.
//
//go:embed web/index.html web/app.js web/style.css
var webFiles embed.FS

// webTypes are the content types of the page's files, by extension.
var webTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
}

// webCSP lets the page load only its own files and talk only to its own
// server: no inline script or style, no frame around it.
const webCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// handleWeb adds the web page to mux: GET / is the page, GET /ui/NAME its
// script and style sheet.
func handleWeb(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { serveWeb(w, r, "index.html") })
	mux.HandleFunc("GET /ui/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if name == "index.html" {
			name = "" // the page is at /
		}
		serveWeb(w, r, name)
	})
}

// serveWeb answers with the page's file name, or not_found.
func serveWeb(w http.ResponseWriter, r *http.Request, name string) {
	data, err := webFiles.ReadFile("web/" + name)
	ctype, known := webTypes[path.Ext(name)]
	if name == "" || err != nil || !known {
		writeError(w, Errorf(CodeNotFound, "no file %s in the web page (see the README's Web view)", r.URL.Path))
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Security-Policy", webCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	// The page's address may carry the token (?token=…): send it nowhere.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
}
