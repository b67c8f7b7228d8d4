package loader

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/spec"
)

// bigTree is a tree of sups supervisors of workers echo workers each, with
// the worker at changed (if any) given other args.
func bigTree(sups, workers int, changed string) *spec.Tree {
	kids := make([]*spec.Node, sups)
	for s := range kids {
		ws := make([]*spec.Node, workers)
		for i := range ws {
			ws[i] = w(fmt.Sprintf("w%d", i), "echo")
		}
		kids[s] = sup(fmt.Sprintf("s%d", s), spec.OneForOne, ws...)
	}
	t := tree(sup("big", spec.OneForOne, kids...))
	if n := t.Find(changed); n != nil {
		n.Worker.Args = json.RawMessage(`{"n":1}`)
	}
	return t
}

// startBench starts t for a benchmark of reloads that change leaf, and
// shuts it down at its end; restarted counts the starts of reloads, which
// must be leaf's.
func startBench(b *testing.B, t *spec.Tree, leaf string) (r *Running, restarted *atomic.Int64) {
	restarted = new(atomic.Int64)
	r, err := Start(context.Background(), t, Options{Registry: testKinds(), Log: quiet, Events: func(e live.Event) {
		if e.Type == runtime.EventStarted && e.Cause == runtime.CauseReload {
			if e.Path != leaf {
				panic("the reload restarted " + e.Path)
			}
			restarted.Add(1)
		}
	}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := r.Shutdown(context.Background()); err != nil {
			b.Error(err)
		}
	})
	return r, restarted
}

// BenchmarkReload100k reloads a 100,000-worker tree (100 supervisors of
// 1,000 workers) with one leaf's args changed, back and forth: the diff,
// recording the new spec, and the one restart. Each reload must restart
// exactly that leaf.
func BenchmarkReload100k(b *testing.B) {
	const leaf = "big/s50/w500"
	trees := [2]*spec.Tree{bigTree(100, 1000, ""), bigTree(100, 1000, leaf)}
	r, restarted := startBench(b, trees[0], leaf)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		i++
		before := restarted.Load()
		res, err := r.Reload(trees[i%2])
		if err != nil || len(res.Failed) > 0 || len(res.Plan.Changes) != 1 {
			b.Fatalf("reload %d: %+v %v", i, res, err)
		}
		if got := restarted.Load() - before; got != 1 {
			b.Fatalf("reload %d restarted %d children, want 1", i, got)
		}
	}
}

// treeFile1k writes W7's 1,000-child tree file: one supervisor of 1,000
// echo workers, each with its own args, the one at leaf given n.
func treeFile1k(leaf, n int) []byte {
	var b strings.Builder
	b.WriteString("version: 1\nname: big\nsupervisor:\n  strategy: one_for_one\n  children:\n")
	b.WriteString("    - name: s0\n      supervisor:\n        strategy: one_for_all\n        max_frequency: 5\n        period: 10s\n        children:\n")
	for i := range 1000 {
		v := i
		if i == leaf {
			v = n
		}
		fmt.Fprintf(&b, "          - {name: w%d, kind: echo, args: {n: %d}}\n", i, v)
	}
	return []byte(b.String())
}

// BenchmarkReloadFile1k is W7's reload-1k without the watcher: a tree file
// of 1,000 workers with one child's args changed, back and forth, written
// and reloaded with ReloadFile (reading, parsing, validating, the diff and
// the one restart), what SIGHUP and `otpctl reload` cost. Each reload must
// restart exactly that child.
//
//	go test -run '^$' -bench ReloadFile1k ./loader/
func BenchmarkReloadFile1k(b *testing.B) {
	const leaf = "big/s0/w500"
	file := filepath.Join(b.TempDir(), "big.yaml")
	texts := [2][]byte{treeFile1k(500, 500), treeFile1k(500, 1_000_500)}
	if err := os.WriteFile(file, texts[0], 0o644); err != nil {
		b.Fatal(err)
	}
	t, err := spec.Load(file, testKinds())
	if err != nil {
		b.Fatal(err)
	}
	r, restarted := startBench(b, t, leaf)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if err := os.WriteFile(file, texts[i%2], 0o644); err != nil {
			b.Fatal(err)
		}
		before := restarted.Load()
		res, err := r.ReloadFile()
		if err != nil || len(res.Failed) > 0 || len(res.Plan.Changes) != 1 {
			b.Fatalf("reload %d: %+v %v", i, res, err)
		}
		if got := restarted.Load() - before; got != 1 {
			b.Fatalf("reload %d restarted %d children, want 1", i, got)
		}
	}
}
