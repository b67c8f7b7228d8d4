package spec

import (
	"errors"
	"fmt"
	"strconv"
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

// treeSizes are the trees BenchmarkParse reads, as supervisors × workers:
// sizes people write by hand, and W7's 100,000 workers.
var treeSizes = []struct{ sups, workers int }{{1, 10}, {1, 100}, {10, 100}, {100, 1000}}

// BenchmarkParse validates and resolves trees of 10, 100, 1,000 and
// 100,000 workers (the last is W7's file: 100 supervisors of 1,000): the
// cost of `otpctl validate` and of a reload's first step.
//
//	go test -run '^$' -bench Parse ./spec/
func BenchmarkParse(b *testing.B) {
	for _, sz := range treeSizes {
		data := bigTree(sz.sups, sz.workers)
		b.Run(strconv.Itoa(sz.sups*sz.workers), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				t, err := Parse("big.yaml", data, testKinds)
				if err != nil {
					b.Fatal(err)
				}
				if n := len(t.Root.Supervisor.Children); n != sz.sups {
					b.Fatalf("%d supervisors", n)
				}
			}
		})
	}
}

// syntaxErrorTree writes a tree file of lines lines whose next to last
// line has a syntax error (a flow sequence closed by '}'), and returns the
// error's line.
func syntaxErrorTree(lines int) ([]byte, int) {
	var b strings.Builder
	b.WriteString("version: 1\nname: big\nsupervisor:\n  strategy: one_for_one\n  children:\n")
	for w := range lines - 7 {
		fmt.Fprintf(&b, "    - {name: w%d, kind: counter, args: {initial: %d}}\n", w, w)
	}
	b.WriteString("    - {name: bad, kind: counter, args: {initial: [1, 2}}\n")
	b.WriteString("    - {name: last, kind: counter}\n")
	return []byte(b.String()), lines - 1
}

// BenchmarkParseSyntaxError parses files of 10, 1,000 and 100,000 lines
// with a syntax error near the end: what `otpctl validate` costs to say
// where the error is.
//
//	go test -run '^$' -bench ParseSyntaxError ./spec/
func BenchmarkParseSyntaxError(b *testing.B) {
	for _, lines := range []int{10, 1000, 100_000} {
		data, line := syntaxErrorTree(lines)
		b.Run(strconv.Itoa(lines), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				_, err := Parse("big.yaml", data, testKinds)
				var ds Diagnostics
				if !errors.As(err, &ds) || len(ds) != 1 {
					b.Fatalf("want one diagnostic, got %v", err)
				}
				if got := ds[0].Pos.Line; got != line && len(data) <= syntaxSearchMax {
					b.Fatalf("error at line %d, want %d: %v", got, line, err)
				}
			}
		})
	}
}
