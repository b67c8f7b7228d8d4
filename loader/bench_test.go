package loader

import (
	"context"
	"encoding/json"
	"fmt"
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

// BenchmarkReload100k reloads a 100,000-worker tree (100 supervisors of
// 1,000 workers) with one leaf's args changed, back and forth: the diff,
// recording the new spec, and the one restart. Each reload must restart
// exactly that leaf.
func BenchmarkReload100k(b *testing.B) {
	const leaf = "big/s50/w500"
	trees := [2]*spec.Tree{bigTree(100, 1000, ""), bigTree(100, 1000, leaf)}
	var restarted atomic.Int64
	r, err := Start(context.Background(), trees[0], Options{Registry: testKinds(), Log: quiet, Events: func(e live.Event) {
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
	defer func() {
		if err := r.Shutdown(context.Background()); err != nil {
			b.Error(err)
		}
	}()
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
