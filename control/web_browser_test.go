package control_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/otpctl/otpctl/control"
	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/loader"
	"github.com/otpctl/otpctl/spec"
	"github.com/otpctl/otpctl/workers"
	_ "github.com/otpctl/otpctl/workers/builtin"
)

var screenshot = flag.String("screenshot", "", "TestWebScreenshot writes the web page's screenshot of examples/shop.yaml to this PNG file")

// browserTimeout bounds everything one test does in the browser.
const browserTimeout = 60 * time.Second

// waitTimeout bounds each wait for the page to show something.
const waitTimeout = 30 * time.Second

// token is the tree's token in these tests.
const token = "s3cret-token"

// chromium returns the headless browser's path. Without one the test is
// skipped, except in CI (CI set), where that is a failure: CI must not
// pass a browser test it did not run.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium on PATH, and CI is set: the browser test must run in CI (.ci/run installs chromium)")
	}
	t.Skip("no chromium on PATH: install it (apt-get install chromium) to run the browser test")
	return ""
}

// browser starts a headless chromium for the test, bounded by
// browserTimeout, and returns its context.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.WindowSize(1200, 800),
	)
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, _ := chromedp.NewContext(actx)
	t.Cleanup(func() {
		chromedp.Cancel(bctx) // closes the browser and waits for it
		acancel()
		cancel()
	})
	return bctx
}

// webTree runs tree with its control server on a loopback TCP listener
// (behind RequireToken, as `otpctl run --http` on loopback) and returns the tree, the server's URL and the
// event log.
func webTree(t *testing.T, tree *spec.Tree) (*loader.Running, string, *control.EventLog) {
	t.Helper()
	log := control.NewEventLog(10000)
	r, err := loader.Start(context.Background(), tree, loader.Options{
		Events: func(e live.Event) { log.Append(e) },
		Log:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := control.NewServer(loader.NewBackend(r, log, nil))
	ts := httptest.NewServer(control.RequireToken(token, true, srv.Handler()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := r.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		log.Close()
		srv.Close()
		ts.Close()
	})
	return r, ts.URL, log
}

// post calls the API as the command line would, with the token.
func post(t *testing.T, url, op string, body any) {
	t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url+"/v1/"+op, bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	reply, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST /v1/%s %s: %d %s", op, data, resp.StatusCode, reply)
	}
}

// run runs browser actions, failing the test with what on an error.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// evaluate returns the value of the JavaScript expression in the page.
func evaluate[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor waits until the JavaScript expression cond is true in the page.
func waitFor(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	poll := chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(waitTimeout))
	if err := chromedp.Do(ctx, poll); err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("the page never showed %s (%v); it shows:\n%s", what, err, page)
	}
}

// node is a JavaScript expression for the tree's row of path.
func node(path string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('#tree li.node')].find(li => li.dataset.path === %q)`, path)
}

// eventRows is a JavaScript expression for the event panel's rows of path
// and event.
func eventRows(path, event string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('#events li.ev')].filter(r => r.dataset.path === %q && r.dataset.event === %q)`, path, event)
}

const webYAML = `
version: 1
name: web
supervisor:
  strategy: one_for_one
  max_frequency: 10
  period: 60s
  children:
    - {name: counter, kind: counter}
    - {name: echo, kind: echo}
    - {name: sleeper, kind: exec, args: {command: [sh, -c, 'echo "sleeper <b>says</b> hi"; exec sleep 600']}}
    - name: pool
      supervisor:
        strategy: rest_for_one
        max_frequency: 5
        period: 5s
        children:
          - {name: w1, kind: echo}
          - {name: w2, kind: echo}
`

// The web page, in a real browser, on a real tree: it draws every node,
// follows the tree live (a kill through the API shows without a reload),
// steers it through the API with the token from its address, and filters
// its event log by path.
func TestWebPageInBrowser(t *testing.T) {
	ctx := browser(t)
	tree, err := spec.Parse("web.yaml", []byte(webYAML), workers.Default)
	if err != nil {
		t.Fatal(err)
	}
	r, url, log := webTree(t, tree)

	run(t, ctx, "open the page", chromedp.Navigate(url+"/?token="+token))
	snap, err := r.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	snap.Walk(func(n *live.Node) {
		waitFor(t, ctx, n.Path+" drawn, running, with its name", fmt.Sprintf(
			`(() => { const li = %s; return !!li && li.dataset.state === 'running' && li.querySelector('.name').textContent === %q && li.querySelector('.name').offsetParent !== null })()`,
			node(n.Path), n.Name))
	})
	waitFor(t, ctx, "the exec worker's OS pid", fmt.Sprintf(`%s.querySelector('.ospid').textContent === %q`, node("web/sleeper"), fmt.Sprint(snap.Find("web/sleeper").OSPid)))
	waitFor(t, ctx, "the root's restart budget", node("web")+`.querySelector('.budget-text').textContent === '0/10 in 1m'`)
	where := evaluate[string](t, ctx, `location.href`)
	kept := evaluate[string](t, ctx, `sessionStorage.getItem('otpctl.token')`)
	if strings.Contains(where, "token") || kept != token {
		t.Errorf("the token: address %q (want it removed), kept %q", where, kept)
	}
	run(t, ctx, "mark the page", chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`))

	// A kill through the API: the page shows the exit and the restart.
	post(t, url, "kill", control.KillRequest{Path: "web/echo", Reason: "boom"})
	waitFor(t, ctx, "web/echo restarted once", node("web/echo")+`.dataset.restarts === '1' && `+node("web/echo")+`.querySelector('.restarts').textContent === '1'`)
	waitFor(t, ctx, "web/echo's exit in the event panel", eventRows("web/echo", "exited")+`.some(r => r.textContent.includes('reason boom'))`)
	post(t, url, "kill", control.KillRequest{Path: "web/sleeper"})
	waitFor(t, ctx, "web/sleeper's new OS pid", fmt.Sprintf(`(() => { const t = %s.querySelector('.ospid').textContent; return t !== '' && t !== %q })()`,
		node("web/sleeper"), fmt.Sprint(snap.Find("web/sleeper").OSPid)))
	waitFor(t, ctx, "the root's budget used", node("web")+`.querySelector('.budget-text').textContent === '2/10 in 1m'`)

	// A budget empties as its period passes, with no event to say so.
	post(t, url, "kill", control.KillRequest{Path: "web/pool/w2"})
	waitFor(t, ctx, "web/pool's budget used", node("web/pool")+`.querySelector('.budget-text').textContent === '1/5 in 5s'`)
	waitFor(t, ctx, "web/pool's budget emptied after its period", node("web/pool")+`.querySelector('.budget-text').textContent === '0/5 in 5s'`)

	// Select a child and restart it with the button.
	run(t, ctx, "select web/pool/w1", chromedp.Click(chromedp.CSS(`li[data-path="web/pool/w1"] > .row .name`)))
	waitFor(t, ctx, "web/pool/w1 selected", `document.getElementById('d-path').textContent === 'web/pool/w1' && !document.getElementById('detail-body').hidden`)
	run(t, ctx, "click restart", chromedp.Click(chromedp.CSS(`.actions button[data-op="restart"]`)))
	waitFor(t, ctx, "the operator's restart of web/pool/w1 in the event panel", eventRows("web/pool/w1", "started")+`.some(r => r.textContent.includes('cause operator'))`)
	waitFor(t, ctx, "the restart in the selected node's last events", `[...document.querySelectorAll('#d-lines li.ev')].some(r => r.dataset.path === 'web/pool/w1' && r.textContent.includes('cause operator'))`)
	waitFor(t, ctx, "the restart done", `document.getElementById('action-status').textContent.startsWith('restart web/pool/w1: done')`)

	// The filter hides the other paths' events, new ones too.
	run(t, ctx, "type a filter", chromedp.SendKeys(chromedp.CSS(`#filter`), "pool"))
	waitFor(t, ctx, "only web/pool's events", `(() => { const rows = [...document.querySelectorAll('#events li.ev')];
		const echo = rows.filter(r => r.dataset.path === 'web/echo');
		return echo.length > 0 && echo.every(r => r.offsetParent === null) && rows.some(r => r.dataset.path === 'web/pool/w1' && r.offsetParent !== null) })()`)
	post(t, url, "kill", control.KillRequest{Path: "web/echo"})
	waitFor(t, ctx, "web/echo's new exit, hidden", `(() => { const rows = `+eventRows("web/echo", "exited")+`; return rows.length === 2 && rows.every(r => r.offsetParent === null) })()`)

	// Without the token the API refuses, and the page says what to do.
	run(t, ctx, "forget the token", chromedp.Evaluate[chromedp.Void](`sessionStorage.removeItem('otpctl.token')`))
	run(t, ctx, "click stop", chromedp.Click(chromedp.CSS(`.actions button[data-op="stop"]`)))
	waitFor(t, ctx, "the token asked for", `!document.getElementById('auth').hidden && document.getElementById('action-status').textContent.includes('401')`)
	if snap, _ := r.Snapshot(); snap.Find("web/pool/w1") == nil || snap.Find("web/pool/w1").State != "running" {
		t.Fatalf("web/pool/w1 after a refused stop: %+v", snap.Find("web/pool/w1"))
	}
	run(t, ctx, "give the token", chromedp.SendKeys(chromedp.CSS(`#auth-token`), token), chromedp.Click(chromedp.CSS(`#auth-form button`)))
	waitFor(t, ctx, "the token taken", `document.getElementById('auth').hidden`)
	run(t, ctx, "click stop again", chromedp.Click(chromedp.CSS(`.actions button[data-op="stop"]`)))
	waitFor(t, ctx, "web/pool/w1 stopped", node("web/pool/w1")+`.dataset.state === 'stopped' && `+node("web/pool/w1")+`.querySelector('.state').textContent === 'stopped'`)

	// The panel keeps the last 1000 events, however many come.
	run(t, ctx, "clear the filter", chromedp.Evaluate[chromedp.Void](`document.getElementById('filter').value = ''; document.getElementById('filter').dispatchEvent(new Event('input'))`))
	for i := range 1500 {
		log.Append(live.Event{Type: "exited", Path: "web/echo", Reason: fmt.Sprint("burst ", i)})
	}
	waitFor(t, ctx, "the last 1000 events", `(() => { const rows = document.querySelectorAll('#events li.ev');
		return rows.length === 1000 && rows[0].textContent.includes('burst 1499') && document.getElementById('events-count').textContent === '1000' })()`)

	// A selected exec child shows its last output lines, as text.
	run(t, ctx, "select web/sleeper", chromedp.Click(chromedp.CSS(`li[data-path="web/sleeper"] > .row .name`)))
	waitFor(t, ctx, "web/sleeper's output line", `document.getElementById('d-lines-h').textContent === 'Last log lines' &&
		[...document.querySelectorAll('#d-lines li')].some(li => li.textContent.endsWith('stdout: sleeper <b>says</b> hi') && !li.querySelector('b'))`)

	if !evaluate[bool](t, ctx, `window.notReloaded === true`) {
		t.Error("the page was reloaded; it must follow the tree live")
	}
}

// TestWebScreenshot writes the README's screenshot of the web page, of
// examples/shop.yaml after a few kills, when run with -screenshot FILE:
//
//	go test ./control -run TestWebScreenshot -screenshot web/screenshot.png
func TestWebScreenshot(t *testing.T) {
	if *screenshot == "" {
		t.Skip("run with -screenshot FILE to write the web page's screenshot")
	}
	ctx := browser(t)
	tree, err := spec.Load("../examples/shop.yaml", workers.Default)
	if err != nil {
		t.Fatal(err)
	}
	_, url, _ := webTree(t, tree)
	post(t, url, "start", control.StartRequest{Path: "shop/jobs", Name: "job-a"})
	post(t, url, "start", control.StartRequest{Path: "shop/jobs", Name: "job-b"})
	post(t, url, "kill", control.KillRequest{Path: "shop/pool/w2", Reason: "boom"})
	post(t, url, "kill", control.KillRequest{Path: "shop/counter", Reason: "overflow"})
	post(t, url, "stop", control.PathRequest{Path: "shop/cache"})
	run(t, ctx, "open the page", chromedp.EmulateViewport(1200, 800), chromedp.Navigate(url+"/?token="+token))
	waitFor(t, ctx, "shop/cache stopped", node("shop/cache")+`?.dataset.state === 'stopped'`)
	waitFor(t, ctx, "shop/pool/w3 restarted", node("shop/pool/w3")+`?.dataset.state === 'running' && `+node("shop/pool/w3")+`.dataset.restarts === '1'`)
	run(t, ctx, "select shop/pool/w2", chromedp.Click(chromedp.CSS(`li[data-path="shop/pool/w2"] > .row .name`)))
	waitFor(t, ctx, "shop/pool/w2's events", `document.querySelectorAll('#d-lines li.ev').length >= 3`)
	waitFor(t, ctx, "the uptimes ticking", node("shop")+`.querySelector('.uptime').textContent === '3s'`)
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(*screenshot, png, 0o644); err != nil {
		t.Fatal(err)
	}
}
