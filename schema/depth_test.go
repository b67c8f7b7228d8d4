package schema

import (
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
)

// chain is a tree document of depth supervisors nested in one another,
// each with a worker of a shape the schema checks (not a plain one).
func chain(depth int) any {
	inner := map[string]any{"children": []any{}}
	for d := depth; d > 0; d-- {
		inner = map[string]any{
			"strategy": "one_for_all",
			"children": []any{
				map[string]any{"name": fmt.Sprintf("w%d", d), "kind": "echo", "restart": "transient", "args": map[string]any{}, "significant": false, "shutdown": json.Number("5")},
				map[string]any{"name": fmt.Sprintf("s%d", d), "supervisor": inner},
			},
		}
	}
	return map[string]any{"version": json.Number("1"), "supervisor": inner}
}

// allocated is how many bytes ValidateTree allocates for doc.
func allocated(t *testing.T, doc any) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if vs := ValidateTree(doc); len(vs) != 0 {
		t.Fatalf("violations: %v", vs)
	}
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Issue 14 §7: validating a tree cost its size times its depth (the
// validator builds each location from the root): depth 1,000 took 10.6 s.
// Four times as deep must cost about four times as much, not sixteen.
func TestValidateTreeIsLinearInDepth(t *testing.T) {
	allocated(t, chain(10)) // compile the schema first
	small, big := allocated(t, chain(250)), allocated(t, chain(1000))
	if ratio := float64(big) / float64(small); ratio > 6 {
		t.Errorf("a chain of 1000 supervisors allocates %.1f times as much as one of 250 (%d and %d bytes), want about 4", ratio, big, small)
	}
}
