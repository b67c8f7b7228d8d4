package spec

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otpctl/otpctl/schema"
)

// FuzzParse feeds the loader anything: it must never panic, fail without
// a tree and with positioned diagnostics, or succeed with a whole tree.
// Includes resolve from spec/, so the fixtures can be reached.
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 20s ./spec/
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.yaml")
	more, _ := filepath.Glob("testdata/*/*/*.yaml")
	for _, file := range append(seeds, more...) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tree, err := Parse("fuzz.yaml", data, testKinds)
		if err != nil {
			if tree != nil {
				t.Fatal("a tree and an error")
			}
			var ds Diagnostics
			if !errors.As(err, &ds) || len(ds) == 0 {
				t.Fatalf("error %T %v is not Diagnostics", err, err)
			}
			for _, d := range ds {
				if d.Pos.File == "" || d.Pos.Line < 1 || d.Pos.Col < 1 || d.Summary == "" || d.Severity != SeverityError {
					t.Fatalf("diagnostic without a position or message: %#v", d)
				}
				if strings.Contains(d.Summary, "\n") {
					t.Fatalf("diagnostic of more than one line: %q", d.Summary)
				}
			}
			return
		}
		if tree == nil || tree.Root == nil || tree.Root.Supervisor == nil || !schema.ValidName(tree.Name) {
			t.Fatalf("no error and no usable tree: %+v", tree)
		}
		tree.Root.Walk(func(n *Node) {
			if n.Pos.Line < 1 || n.Pos.Col < 1 || !strings.HasPrefix(n.Path, tree.Name) {
				t.Fatalf("node %q at %v", n.Path, n.Pos)
			}
			if (n.Worker == nil) == (n.Supervisor == nil) {
				t.Fatalf("node %q is neither or both a worker and a supervisor", n.Path)
			}
			if n.Worker != nil && (!json.Valid(n.Worker.Args) || n.Worker.Base == "") {
				t.Fatalf("node %q: args %s base %q", n.Path, n.Worker.Args, n.Worker.Base)
			}
			if tree.Find(n.Path) == nil {
				t.Fatalf("Find(%q) found nothing", n.Path)
			}
		})
	})
}
