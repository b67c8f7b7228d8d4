package spec

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/ from what the code does now")

// golden compares got with the golden file, or rewrites it with -update.
func golden(t *testing.T, file, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./spec/ -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from what the code says:\n--- got ---\n%s--- want ---\n%s", file, got, want)
	}
}

// fixtures runs check on each file that pattern matches, as a subtest
// named after it, and compares what check returns with the .golden file
// next to it.
func fixtures(t *testing.T, pattern string, check func(t *testing.T, file string) string) {
	files, _ := filepath.Glob(pattern)
	if len(files) == 0 {
		t.Fatalf("no fixtures match %s", pattern)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			golden(t, strings.TrimSuffix(file, ".yaml")+".golden", check(t, file))
		})
	}
}

// TestBadFiles loads every testdata/bad/*.yaml, each one kind of mistake,
// and compares its diagnostics, exactly, with the .golden file next to it.
func TestBadFiles(t *testing.T) {
	fixtures(t, "testdata/bad/*.yaml", func(t *testing.T, file string) string {
		tree, err := Load(file, testKinds)
		if err == nil {
			t.Fatalf("loaded with no error: %s has a mistake in it; tree %v", file, tree.Name)
		}
		if tree != nil {
			t.Errorf("got a tree and an error")
		}
		ds, ok := err.(Diagnostics)
		if !ok {
			t.Fatalf("error is a %T, want Diagnostics", err)
		}
		for _, d := range ds {
			if d.Pos.File == "" || d.Pos.Line < 1 || d.Pos.Col < 1 || d.Severity != SeverityError || d.Summary == "" {
				t.Errorf("diagnostic without a position, severity or message: %#v", d)
			}
		}
		return err.Error() + "\n"
	})
}

// TestGoodFiles loads every testdata/good/*.yaml and compares the resolved
// tree, printed one node a line, with the .golden file next to it.
func TestGoodFiles(t *testing.T) {
	fixtures(t, "testdata/good/*.yaml", func(t *testing.T, file string) string {
		tree, err := Load(file, testKinds)
		if err != nil {
			t.Fatal(err)
		}
		return dump(tree)
	})
}

// dump prints a tree for a golden file: every field of every node.
func dump(t *Tree) string {
	var b strings.Builder
	fmt.Fprintf(&b, "tree %s from %s; files %s\n", t.Name, t.File, strings.Join(t.Files, ", "))
	t.Root.Walk(func(n *Node) {
		fmt.Fprintf(&b, "%s @%d:%d", n.Path, n.Pos.Line, n.Pos.Col)
		if n.Pos.File != t.File {
			fmt.Fprintf(&b, " in %s", n.Pos.File)
		}
		if n.Include != "" {
			fmt.Fprintf(&b, " include %s", n.Include)
		}
		fmt.Fprintf(&b, " restart=%s shutdown=%s significant=%v", n.Restart, n.Shutdown, n.Significant)
		if w := n.Worker; w != nil {
			fmt.Fprintf(&b, "\n    worker %s (%s) args %s", w.Kind, w.Base, w.Args)
		}
		if s := n.Supervisor; s != nil {
			fmt.Fprintf(&b, "\n    supervisor %s max_frequency=%d period=%s auto_shutdown=%s children=%d",
				s.Strategy, s.MaxFrequency, s.Period, s.AutoShutdown, len(s.Children))
			if d := s.Dynamic; d != nil {
				fmt.Fprintf(&b, "\n    dynamic %s (%s) args %s restart=%s shutdown=%s max_children=%d",
					d.Kind, d.Base, d.Args, d.Restart, d.Shutdown, d.MaxChildren)
			}
			if p := s.Pool; p != nil {
				fmt.Fprintf(&b, "\n    pool %s (%s) args %s size=%d dispatch=%s restart=%s shutdown=%s",
					p.Kind, p.Base, p.Args, p.Size, p.Dispatch, p.Restart, p.Shutdown)
			}
		}
		b.WriteString("\n")
	})
	return b.String()
}
