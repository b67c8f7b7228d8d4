package spec

import (
	"fmt"
	"strings"
	"testing"
)

// bigTree writes a tree of sups supervisors of workers echo workers each.
func bigTree(sups, workers int) []byte {
	var b strings.Builder
	b.WriteString("version: 1\nname: big\nsupervisor:\n  strategy: one_for_one\n  children:\n")
	for s := range sups {
		fmt.Fprintf(&b, "    - name: s%d\n      supervisor:\n        strategy: one_for_all\n        max_frequency: 5\n        period: 10s\n        children:\n", s)
		for w := range workers {
			fmt.Fprintf(&b, "          - {name: w%d, kind: counter, args: {initial: %d}}\n", w, w)
		}
	}
	return []byte(b.String())
}

// BenchmarkParse100k validates and resolves a 100,000-worker tree (100
// supervisors of 1,000 workers): the cost of `otpctl validate` and of a
// reload's first step.
func BenchmarkParse100k(b *testing.B) {
	data := bigTree(100, 1000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		t, err := Parse("big.yaml", data, testKinds)
		if err != nil {
			b.Fatal(err)
		}
		if n := len(t.Root.Supervisor.Children); n != 100 {
			b.Fatalf("%d supervisors", n)
		}
	}
}
