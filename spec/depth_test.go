package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// deepTree writes a tree whose supervisors nest depth deep (the root
// counting as 1) with workers echo workers spread evenly over the levels,
// and returns it with the line of the supervisor mapping at each depth.
func deepTree(depth, workers int) (data []byte, lines map[int]int) {
	var b strings.Builder
	lines = map[int]int{}
	line := 1
	w := func(format string, args ...any) {
		fmt.Fprintf(&b, format, args...)
		line++
	}
	w("version: 1\n")
	w("name: deep\n")
	w("supervisor:\n")
	indent := "  "
	per := workers / depth
	for d := 1; d <= depth; d++ {
		lines[d] = line
		w("%sstrategy: one_for_one\n", indent)
		w("%schildren:\n", indent)
		n := per
		if d == depth {
			n = workers - per*(depth-1)
		}
		for i := range n {
			w("%s  - {name: w%d, kind: echo}\n", indent, i)
		}
		if d < depth {
			w("%s  - name: s%d\n", indent, d)
			w("%s    supervisor:\n", indent)
			indent += "      "
		}
	}
	return []byte(b.String()), lines
}

// Issue 14 §7: nesting had no limit, and validating it grew much faster
// than the file (depth 2,400: 140 s). A supervisor deeper than MaxDepth is
// refused at its position.
func TestDepthLimit(t *testing.T) {
	data, _ := deepTree(MaxDepth, 10)
	if _, err := Parse("deep.yaml", data, testKinds); err != nil {
		t.Fatalf("a tree %d deep: %v", MaxDepth, err)
	}
	data, lines := deepTree(MaxDepth+5, 10)
	tree, err := Parse("deep.yaml", data, testKinds)
	ds := diags(t, tree, err)
	if len(ds) != 1 {
		t.Fatalf("want one diagnostic, got %v", err)
	}
	d := ds[0]
	col := 3 + 6*MaxDepth // the mapping's first key, indented 6 more each level
	if d.Pos.File != "deep.yaml" || d.Pos.Line != lines[MaxDepth+1] || d.Pos.Col != col ||
		!strings.Contains(d.Summary, fmt.Sprintf("nested %d deep: at most %d", MaxDepth+1, MaxDepth)) {
		t.Fatalf("got %s, want deep.yaml:%d:%d: nested %d deep", d.Error(), lines[MaxDepth+1], col, MaxDepth+1)
	}
}

// The limit counts through includes: each included file's root supervisor
// is a level, and the diagnostic is in the file of the first too-deep one.
func TestDepthLimitThroughIncludes(t *testing.T) {
	dir := t.TempDir()
	// Each file holds a supervisor 8 deep whose innermost child includes
	// the next file: 9 files are 72 deep.
	const files, per = 9, 8
	for i := range files {
		var b strings.Builder
		fmt.Fprintf(&b, "version: 1\nsupervisor:\n")
		indent := "  "
		for d := 1; d <= per; d++ {
			fmt.Fprintf(&b, "%schildren:\n", indent)
			if d < per {
				fmt.Fprintf(&b, "%s  - name: s%d\n%s    supervisor:\n", indent, d, indent)
				indent += "      "
				continue
			}
			if i < files-1 {
				fmt.Fprintf(&b, "%s  - {name: next, include: f%d.yaml}\n", indent, i+1)
			} else {
				fmt.Fprintf(&b, "%s  - {name: leaf, kind: echo}\n", indent)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.yaml", i)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tree, err := Load(filepath.Join(dir, "f0.yaml"), testKinds)
	ds := diags(t, tree, err)
	// Depth 65 is the first supervisor of f8.yaml (8 files of 8 levels
	// above it): its root supervisor, at line 3.
	if len(ds) != 1 || filepath.Base(ds[0].Pos.File) != "f8.yaml" || ds[0].Pos.Line != 3 || ds[0].Pos.Col != 3 ||
		!strings.Contains(ds[0].Summary, "nested 65 deep") {
		t.Fatalf("got %v, want f8.yaml:3:3: nested 65 deep", err)
	}
}

// BenchmarkValidateDepth validates trees of the same number of workers
// nested 8, 32 and 64 deep: the time per byte should not grow with depth
// (it did: the validator built every location from the root).
func BenchmarkValidateDepth(b *testing.B) {
	for _, depth := range []int{8, 32, 64} {
		data, _ := deepTree(depth, 100_000)
		b.Run(fmt.Sprintf("depth=%d", depth), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse("deep.yaml", data, testKinds); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
