package otptest_test

import (
	"testing"

	"github.com/otpctl/otpctl/otptest"
)

// A pool in a test: calls dispatched round robin, a member steered by
// path, Scale and the snapshot's Pool.
func TestPool(t *testing.T) {
	tree := otptest.StartYAML(t, `version: 1
name: shop
supervisor:
  children:
    - name: pool
      pool: {kind: counter, size: 2}
`)
	m := tree.Mark()
	tree.Call("shop/pool", `{"op":"increment"}`) // member 1
	tree.Call("shop/pool", `{"op":"increment"}`) // member 2
	tree.Call("shop/pool", `{"op":"increment"}`) // member 1
	if got := string(tree.Call("shop/pool/1", `{"op":"get"}`)); got != `{"value":2}` {
		t.Fatalf("member 1 counted %s, want 2 of the 3 calls", got)
	}
	tree.Kill("shop/pool/2", "boom")
	tree.AssertTrace(m, "exited shop/pool/2 reason=boom", "started shop/pool/2 cause=crash trigger=shop/pool/2")
	if old := tree.Scale("shop/pool", 3); old != 2 {
		t.Fatalf("Scale returned %d, want the old size 2", old)
	}
	snap := tree.Snapshot()
	if size, dispatch := snap.Pool("shop/pool"); size != 3 || dispatch != "round_robin" {
		t.Fatalf("pool: size %d, dispatch %s", size, dispatch)
	}
	if got := snap.Children("shop/pool"); got != "1:running 2:running 3:running" {
		t.Fatalf("members %q", got)
	}
}
