package loader

import (
	"context"
	"fmt"
	goruntime "runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/spec"
)

// instanceCount is how many workers and nested supervisors the tree keeps
// a record of.
func (r *Running) instanceCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.insts) + len(r.sups)
}

func heapAlloc() uint64 {
	goruntime.GC()
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// Regression (issue 14, 4): `otpctl kill shop/pool` killed the pool's
// workers through their links, but nothing reported them and the tree kept
// each one: 2,000 kills of a 100-worker supervisor leaked 200 MB. Each kill
// now reports every worker (and nested supervisor) terminated, and the
// records come back to their baseline.
func TestKilledSupervisorIsForgotten(t *testing.T) {
	kills, width := 2000, 100
	if testing.Short() {
		kills = 200
	}
	var workers []*spec.Node
	for i := range width {
		workers = append(workers, w(fmt.Sprintf("w%d", i), "echo"))
	}
	nested := sup("sub", spec.OneForOne, w("x", "echo"), w("y", "echo"))
	pool := sup("pool", spec.OneForOne, append(workers, nested)...)
	root := sup("shop", spec.OneForOne, w("db", "echo"), pool)
	root.Supervisor.MaxFrequency, root.Supervisor.Period = kills+1, time.Hour
	restarted := make(chan struct{}, 1)
	// The hook runs on the supervisors' goroutines; the nested supervisor
	// reports itself on its own, so the count is read atomically.
	var terminated atomic.Int64
	events := func(e live.Event) {
		switch {
		case e.Type == runtime.EventTerminated && e.Trigger == "shop/pool" && e.Cause == "escalation":
			terminated.Add(1)
		case e.Type == runtime.EventStarted && e.Path == "shop/pool":
			restarted <- struct{}{}
		}
	}
	r, err := Start(context.Background(), tree(root), Options{Registry: testKinds(), Events: events, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, r)
	<-restarted // shop/pool's start at boot
	// The orphaned shop/pool/sub stops its children and reports them on
	// its own goroutine, after the restart perhaps: wait until every
	// record of kill i is reported gone (a record is dropped before its
	// event), then the count must be back at its baseline. Waiting on the
	// count alone could see it pass through the baseline while old
	// records were still going.
	perKill := int64(width + 3) // width workers by the killed pool, x, y by sub, and sub itself
	settle := func(i int) int {
		deadline := time.Now().Add(10 * time.Second)
		for terminated.Load() < int64(i+1)*perKill && time.Now().Before(deadline) {
			time.Sleep(100 * time.Microsecond)
		}
		return r.instanceCount()
	}
	base := r.instanceCount()
	if want := 1 + width + 1 + 1 + 2; base != want {
		t.Fatalf("%d instances at start, want %d", base, want)
	}
	heapBefore := heapAlloc()
	for i := range kills {
		if err := r.Kill("shop/pool", "killed"); err != nil {
			t.Fatalf("kill %d: %v", i, err)
		}
		select {
		case <-restarted:
		case <-time.After(10 * time.Second):
			t.Fatalf("kill %d: shop/pool was not restarted", i)
		}
		if n := settle(i); n != base {
			t.Fatalf("kill %d: %d instances, %d before", i, n, base)
		}
	}
	heapAfter := heapAlloc()
	want := int64(kills) * perKill
	deadline := time.Now().Add(10 * time.Second)
	for terminated.Load() != want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := terminated.Load(); got != want {
		t.Errorf("%d terminated events with cause escalation and trigger shop/pool, want %d", got, want)
	}
	grew := int64(heapAfter) - int64(heapBefore)
	t.Logf("%d kills of a %d-worker supervisor: heap %d KiB before, %d KiB after", kills, width, heapBefore>>10, heapAfter>>10)
	// Before the fix it grew by about 100 KiB a kill.
	if limit := int64(kills) * 10 << 10; grew > limit {
		t.Errorf("the heap grew by %d KiB over %d kills (more than %d KiB)", grew>>10, kills, limit>>10)
	}
}
