package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Every package of the module is documented as the house style asks. This
// is the test that fails when a change forgets a doc comment or an Example.
func TestModuleIsDocumented(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("the module root is not two folders up: %v", err)
	}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if name := d.Name(); path != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			return filepath.SkipDir
		}
		problems, err := Check(path)
		if err != nil {
			return err
		}
		if matches, _ := filepath.Glob(filepath.Join(path, "*.go")); len(matches) > 0 {
			checked++
		}
		for _, p := range problems {
			t.Error(strings.TrimPrefix(p, root+"/"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 15 {
		t.Fatalf("checked %d packages; the walk missed the module", checked)
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		want []string
	}{
		{"testdata/good", nil},
		{"testdata/bad", []string{
			`testdata/bad/bad.go:11:1: Method has no doc comment`,
			`testdata/bad/bad.go:19:5: V has no doc comment`,
			`testdata/bad/bad.go:7:1: Bare has no doc comment`,
			`testdata/bad/bad.go:9:6: type T has no doc comment`,
			`testdata/bad: no package comment that starts "Package bad"`,
			`testdata/bad: no runnable Example (a func Example… with an // Output: comment)`,
		}},
		{"testdata", nil}, // no Go files
	} {
		got, err := Check(tc.dir)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("Check(%s):\n got %q\nwant %q", tc.dir, got, want)
		}
	}
}
