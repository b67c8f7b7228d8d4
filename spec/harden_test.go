package spec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// diags returns the diagnostics of a failed load, failing the test if it
// did not fail or failed with something else.
func diags(t *testing.T, tree *Tree, err error) Diagnostics {
	t.Helper()
	if err == nil {
		t.Fatalf("loaded %q with no error", tree.Name)
	}
	var ds Diagnostics
	if !errors.As(err, &ds) {
		t.Fatalf("error is a %T, want Diagnostics: %v", err, err)
	}
	return ds
}

func TestTenMegabyteFile(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 10 MB")
	}
	var b strings.Builder
	b.WriteString("version: 1\nname: big\nsupervisor:\n  children:\n")
	long := strings.Repeat("y", 100_000)
	for i := 0; b.Len() < 10<<20; i++ {
		fmt.Fprintf(&b, "    - name: w%d\n      kind: exec\n      args: {command: [run, %q]}\n", i, long)
	}
	tree, err := Parse("big.yaml", []byte(b.String()), testKinds)
	if err != nil {
		t.Fatal(err)
	}
	kids := tree.Root.Supervisor.Children
	if len(kids) < 100 {
		t.Fatalf("%d children", len(kids))
	}
	if want := `{"command":["run","` + long + `"]}`; string(kids[0].Worker.Args) != want {
		t.Errorf("args of a 10 MB file were not kept whole")
	}
}

func TestTooLargeFile(t *testing.T) {
	// Parse refuses at once, without parsing.
	_, err := Parse("huge.yaml", make([]byte, MaxFileSize+1), testKinds)
	ds := diags(t, nil, err)
	if len(ds) != 1 || !strings.Contains(ds[0].Summary, "too large") || ds[0].Pos.Line != 1 {
		t.Fatalf("got %v", err)
	}
	// Load does not even read it: a sparse file costs nothing.
	name := filepath.Join(t.TempDir(), "huge.yaml")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxFileSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = Load(name, testKinds)
	ds = diags(t, nil, err)
	if len(ds) != 1 || !strings.Contains(ds[0].Summary, "too large") || ds[0].Pos.File != name {
		t.Fatalf("got %v", err)
	}
}

func TestLoadUnreadable(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ name, want string }{
		{filepath.Join(dir, "missing.yaml"), "no such file or directory"},
		{dir, "not a regular file"},
		{"/dev/zero", "not a regular file"}, // would never end
	} {
		_, err := Load(c.name, testKinds)
		ds := diags(t, nil, err)
		if len(ds) != 1 || !strings.Contains(ds[0].Summary, c.want) {
			t.Errorf("Load(%s): %v; want %q", c.name, err, c.want)
			continue
		}
		// A file that cannot be read has no line: FILE: message.
		if got, want := ds[0].Error(), c.name+": cannot read the file: "+c.want; got != want {
			t.Errorf("Load(%s) error reads %q, want %q", c.name, got, want)
		}
	}
}

func TestDeepYAMLNesting(t *testing.T) {
	src := "version: 1\nx-deep: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\nsupervisor: {}\n"
	_, err := Parse("deep.yaml", []byte(src), testKinds)
	ds := diags(t, nil, err)
	if len(ds) != 1 || ds[0].Pos.Line != 2 || !strings.Contains(ds[0].Summary, "max depth") {
		t.Fatalf("got %v", err)
	}
}

func TestDeepSupervisors(t *testing.T) {
	const depth = MaxDepth - 1 // under the root: as deep as allowed
	var b strings.Builder
	b.WriteString("version: 1\nname: deep\nsupervisor:\n")
	indent := "  "
	for i := range depth {
		fmt.Fprintf(&b, "%schildren:\n%s  - name: s%d\n%s    supervisor:\n", indent, indent, i, indent)
		indent += "      "
	}
	fmt.Fprintf(&b, "%schildren: [{name: leaf, kind: echo}]\n", indent)
	tree, err := Parse("deep.yaml", []byte(b.String()), testKinds)
	if err != nil {
		t.Fatal(err)
	}
	var leaf *Node
	tree.Root.Walk(func(n *Node) {
		if n.Worker != nil {
			leaf = n
		}
	})
	if leaf == nil || strings.Count(leaf.Path, "/") != depth+1 || tree.Find(leaf.Path) != leaf {
		t.Fatalf("leaf %+v", leaf)
	}
}

func TestAliasBombIsNotExpanded(t *testing.T) {
	// Nine levels of ten aliases each: a billion nodes if expanded. The
	// document is refused after a few thousand; the fixture
	// testdata/bad/laughs.yaml checks the message.
	data, err := os.ReadFile("testdata/bad/laughs.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Merge keys can multiply too.
	merges := "version: 1\nx-a: &a {k0: 1, k1: 1, k2: 1, k3: 1, k4: 1, k5: 1, k6: 1, k7: 1, k8: 1, k9: 1}\n"
	prev := "a"
	for _, l := range "bcdefghij" {
		merges += fmt.Sprintf("x-%c: &%c {", l, l)
		for i := range 10 {
			merges += fmt.Sprintf("m%d: *%s, ", i, prev)
		}
		merges += "}\n"
		prev = string(l)
	}
	merges += "supervisor: {}\n"
	for name, src := range map[string][]byte{"laughs": data, "nested": []byte(merges)} {
		_, err := Parse(name+".yaml", src, testKinds)
		ds := diags(t, nil, err)
		if len(ds) != 1 || !strings.Contains(ds[0].Summary, "too many aliases") {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

func TestParseInline(t *testing.T) {
	// No file: positions carry no file, the tree needs a name, and
	// includes are relative to the working directory (here, spec/).
	src := "version: 1\nname: inline\nsupervisor:\n  children:\n    - {name: sub, include: testdata/good/sub/refunds.yaml}\n"
	tree, err := Parse("", []byte(src), testKinds)
	if err != nil {
		t.Fatal(err)
	}
	if n := tree.Find("inline/sub/r1"); n == nil || n.Pos.File != "testdata/good/sub/refunds.yaml" {
		t.Fatalf("include relative to the working directory: %+v", n)
	}
	if tree.File != "" || len(tree.Files) != 2 || tree.Files[0] != "" {
		t.Errorf("File %q Files %q", tree.File, tree.Files)
	}

	_, err = Parse("", []byte("version: 1\nsupervisor:\n  strategy: one_for_any\n"), testKinds)
	if got, want := err.Error(), "1:1: name: missing; a tree that is not read from a file needs name:\n3:13: strategy: must be one of one_for_one, one_for_all, rest_for_one; got \"one_for_any\""; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestAllProblemsAtOnce(t *testing.T) {
	// Every file's problems come together, sorted by file, line, column.
	src := `version: 1
kinds:
  web: {base: nope}
supervisor:
  strategy: one_for_any
  children:
    - {name: a, kind: ecoh}
    - {name: a, kind: echo}
    - {name: p, include: testdata/bad/inc/broken.yaml}
`
	_, err := Parse("all.yaml", []byte(src), testKinds)
	want := `all.yaml:3:15: base: unknown kind "nope"
all.yaml:5:13: strategy: must be one of one_for_one, one_for_all, rest_for_one; got "one_for_any"
all.yaml:7:23: kind: unknown kind "ecoh" (did you mean "echo"?)
all.yaml:8:14: name: "a" is already the name of a sibling (line 7); sibling names must be unique
testdata/bad/inc/broken.yaml:4:11: base: unknown kind "ech" (did you mean "echo"?)
testdata/bad/inc/broken.yaml:6:13: strategy: must be one of one_for_one, one_for_all, rest_for_one; got "one_for_any"
testdata/bad/inc/broken.yaml:11:13: kind: unknown kind "nope"`
	if err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
}

func TestNodeLimit(t *testing.T) {
	// Each file includes the next one twice: 2^25 nodes if built. The
	// limit is lowered so the test builds few.
	defer func(n int) { maxNodes = n }(maxNodes)
	maxNodes = 5000
	dir := t.TempDir()
	for i := range 25 {
		src := fmt.Sprintf("version: 1\nsupervisor:\n  children:\n    - {name: a, include: f%d.yaml}\n    - {name: b, include: f%d.yaml}\n", i+1, i+1)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.yaml", i)), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "f25.yaml"), []byte("version: 1\nsupervisor: {children: [{name: w, kind: echo}]}\n"), 0o644)
	_, err := Load(filepath.Join(dir, "f0.yaml"), testKinds)
	ds := diags(t, nil, err)
	if len(ds) != 1 || !strings.Contains(ds[0].Summary, "more than 5000 nodes") {
		t.Fatalf("got %v", err)
	}
}
