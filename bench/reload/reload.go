// Package reload is W7, issue 8's reload of a 100,000-worker tree file, kept
// apart from package workload so that the runtime's own benchmarks, which use
// workload, do not depend on the loader and the command line.
package reload

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/otpctl/otpctl/bench/workload"
	"github.com/otpctl/otpctl/control"
	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/loader"
	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/spec"
	"github.com/otpctl/otpctl/workers"
	"github.com/otpctl/otpctl/workers/builtin"
)

// W7 — reload a large tree: a tree file of Sups supervisors of Workers
// counter workers each (100 × 1,000), each with its own args, started with
// the real loader and watched as `otpctl run` watches it (loader.Watch, its
// default debounce). One leaf's args change: the file is written in place.
//
//   - write_to_reload_s: from the write until the reload event, the real
//     path: the file watcher's event, its debounce (loader.DefaultDebounce),
//     reading, parsing and validating the file (which the watcher does
//     while it waits, once the file has been quiet for a quarter of the
//     debounce, and checks when the wait ends by reading the file again),
//     the diff, the restart.
//   - reload_no_debounce_s: write_to_reload_s minus the debounce
//     (loader.DefaultDebounce), what the watcher and the reload add to it:
//     for a file that takes longer to load than three quarters of the
//     debounce, the rest of its load.
//   - reload_file_s: the same reload with no watcher and no debounce
//     (Running.ReloadFile, the leaf changed back): what SIGHUP and `otpctl
//     reload` cost.
//   - validate_s: spec.Load of the file (what `otpctl validate` does).
//   - tree_json_s, tree_json_bytes: GET /v1/tree over the control socket,
//     as `otpctl tree --json` asks for it: the snapshot, its conversion and
//     JSON encoding by the server's own code, read to the end.
//
// Each reload must restart exactly the leaf: every other node keeps its
// pid, or the run fails.
func W7Reload(sz workload.Sizes) (workload.Result, error) {
	return w7(sz.Sups, sz.Workers, sz.RunTimeout())
}

// W7Reload1k is W7 on a tree of 1 supervisor of 1,000 workers, whatever the
// sizes (their timeout aside).
func W7Reload1k(sz workload.Sizes) (workload.Result, error) {
	return w7(1, 1_000, sz.RunTimeout())
}

func w7(sups, nworkers int, timeout time.Duration) (workload.Result, error) {
	dir, err := os.MkdirTemp("", "otpctl-w7-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "big.yaml")
	leafS, leafW := sups/2, nworkers/2
	leaf := fmt.Sprintf("big/s%d/w%d", leafS, leafW)
	text := func(leafValue int) []byte { return w7Tree(sups, nworkers, leafS, leafW, leafValue) }
	if err := os.WriteFile(file, text(leafW), 0o644); err != nil {
		return nil, err
	}
	reg := workers.NewRegistry()
	builtin.Register(reg)
	res := workload.Result{}

	t0 := time.Now()
	tree, err := spec.Load(file, reg)
	res["validate_s"] = time.Since(t0).Seconds()
	if err != nil {
		return nil, err
	}

	reloads := make(chan live.Event, 16)
	r, err := loader.Start(context.Background(), tree, loader.Options{
		Registry: reg, Log: slog.New(slog.DiscardHandler),
		Events: func(e live.Event) {
			if e.Type == loader.EventReload || e.Type == loader.EventReloadFailed {
				select {
				case reloads <- e:
				default: // never blocks a supervisor
				}
			}
		},
	})
	if err != nil {
		return nil, err
	}
	defer r.Shutdown(context.Background())
	w, err := r.Watch(loader.WatchOptions{})
	if err != nil {
		return nil, err
	}
	defer w.Close()
	deadline := time.After(timeout)

	// The real path: write, then the watcher reloads.
	before, err := w7Pids(r)
	if err != nil {
		return nil, err
	}
	t1 := time.Now()
	if err := os.WriteFile(file, text(leafW+1_000_000), 0o644); err != nil {
		return nil, err
	}
	var ev live.Event
	select {
	case ev = <-reloads:
	case <-deadline:
		return nil, fmt.Errorf("W7: no reload event within %v", timeout)
	}
	res["write_to_reload_s"] = ev.Time.Sub(t1).Seconds()
	res["reload_no_debounce_s"] = (ev.Time.Sub(t1) - loader.DefaultDebounce).Seconds()
	if ev.Type != loader.EventReload {
		return nil, fmt.Errorf("W7: %s %v", ev.Type, ev.Errors)
	}
	if err := w7OneRestart(r, before, leaf); err != nil {
		return nil, err
	}
	w.Close()

	// The reload alone: no watcher, no debounce.
	if err := os.WriteFile(file, text(leafW), 0o644); err != nil {
		return nil, err
	}
	before, err = w7Pids(r)
	if err != nil {
		return nil, err
	}
	t2 := time.Now()
	rr, err := r.ReloadFile()
	res["reload_file_s"] = time.Since(t2).Seconds()
	if err != nil {
		return nil, err
	}
	if n := len(rr.Plan.Changes); n != 1 || len(rr.Failed) > 0 {
		return nil, fmt.Errorf("W7: the reload changed %d paths (%d failed), want 1", n, len(rr.Failed))
	}
	if err := w7OneRestart(r, before, leaf); err != nil {
		return nil, err
	}

	secs, size, err := w7TreeJSON(dir, r)
	if err != nil {
		return nil, err
	}
	res["tree_json_s"], res["tree_json_bytes"] = secs, float64(size)
	return res, nil
}

// w7Tree writes the tree file: every worker's args differ (initial: its
// number), the leaf's is leafValue.
func w7Tree(sups, workers, leafS, leafW, leafValue int) []byte {
	var b bytes.Buffer
	b.WriteString("version: 1\nname: big\nsupervisor:\n  strategy: one_for_one\n  children:\n")
	for s := range sups {
		fmt.Fprintf(&b, "    - name: s%d\n      supervisor:\n        strategy: one_for_all\n        max_frequency: 5\n        period: 10s\n        children:\n", s)
		for w := range workers {
			v := w
			if s == leafS && w == leafW {
				v = leafValue
			}
			fmt.Fprintf(&b, "          - {name: w%d, kind: counter, args: {initial: %d}}\n", w, v)
		}
	}
	return b.Bytes()
}

// w7Pids returns every node's pid by path.
func w7Pids(r *loader.Running) (map[string]runtime.Pid, error) {
	snap, err := r.Snapshot()
	if err != nil {
		return nil, err
	}
	out := map[string]runtime.Pid{}
	snap.Walk(func(n *live.Node) { out[n.Path] = n.Proc })
	return out, nil
}

// w7OneRestart fails unless leaf alone has a new pid.
func w7OneRestart(r *loader.Running, before map[string]runtime.Pid, leaf string) error {
	after, err := w7Pids(r)
	if err != nil {
		return err
	}
	if len(after) != len(before) {
		return fmt.Errorf("W7: %d nodes after the reload, %d before", len(after), len(before))
	}
	var moved []string
	for path, pid := range after {
		if before[path] != pid {
			moved = append(moved, path)
		}
	}
	if len(moved) != 1 || moved[0] != leaf {
		return fmt.Errorf("W7: the reload gave %d nodes a new pid (%.5q), want exactly %s", len(moved), moved, leaf)
	}
	return nil
}

// w7TreeJSON serves r's control API on a socket in dir, as `otpctl run`
// does, and times one GET /v1/tree read to the end.
func w7TreeJSON(dir string, r *loader.Running) (float64, int64, error) {
	sock := filepath.Join(dir, "ctl.sock")
	ln, err := control.Listen(sock)
	if err != nil {
		return 0, 0, err
	}
	srv := control.NewServer(loader.NewBackend(r, nil, nil))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() { srv.Close(); <-served }()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	t0 := time.Now()
	resp, err := hc.Get("http://otpctl/v1/tree")
	if err != nil {
		return 0, 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	secs := time.Since(t0).Seconds()
	if err != nil {
		return 0, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("W7: GET /v1/tree: %s", resp.Status)
	}
	return secs, n, nil
}
