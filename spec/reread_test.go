package spec

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLoadReadIsCurrentUntilAFileChanges: LoadRead gives what LoadWith
// gives, and Current holds until a file it read (the tree file or an
// include) reads otherwise, is gone or is refused, and again once it reads
// as it did.
func TestLoadReadIsCurrentUntilAFileChanges(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const root = "version: 1\nname: app\nsupervisor:\n  children:\n    - {name: a, kind: echo}\n    - {name: sub, include: sub.yaml}\n"
	const sub = "version: 1\nsupervisor:\n  children:\n    - {name: x, kind: echo}\n"
	write("app.yaml", root)
	write("sub.yaml", sub)
	file := filepath.Join(dir, "app.yaml")

	l := LoadRead(file, testKinds, LoadOptions{})
	want, err := LoadWith(file, testKinds, LoadOptions{})
	if err != nil || l.Err != nil || !Equal(l.Tree, want) || l.File != file {
		t.Fatalf("LoadRead: %v %v; LoadWith: %v", l.Tree, l.Err, err)
	}
	if !l.Current() {
		t.Fatal("not current, nothing changed")
	}
	for _, c := range []struct {
		name, file, text string
	}{
		{"tree file edited", "app.yaml", root + "    - {name: b, kind: echo}\n"},
		{"include edited", "sub.yaml", sub + "    - {name: y, kind: echo}\n"},
		{"same length", "sub.yaml", sub[:len(sub)-3] + "o}\n"},
		{"emptied", "app.yaml", ""},
	} {
		write(c.file, c.text)
		if l.Current() {
			t.Errorf("%s: still current", c.name)
		}
	}
	write("app.yaml", root)
	write("sub.yaml", sub)
	if !l.Current() {
		t.Error("not current once the files read as they did")
	}
	os.Remove(filepath.Join(dir, "sub.yaml"))
	if l.Current() {
		t.Error("include removed: still current")
	}

	// A load that could not read a file is never current: the next load
	// says why, as of then.
	broken := LoadRead(file, testKinds, LoadOptions{})
	if _, err := LoadWith(file, testKinds, LoadOptions{}); err == nil || broken.Err == nil || broken.Err.Error() != err.Error() {
		t.Fatalf("missing include: LoadRead %v, LoadWith %v", broken.Err, err)
	}
	write("sub.yaml", sub)
	if broken.Current() {
		t.Error("a load that missed a file is current")
	}
	if LoadRead(filepath.Join(dir, "none.yaml"), testKinds, LoadOptions{}).Current() {
		t.Error("a load of no file is current")
	}
	// Warnings depend on the machine, not only on the files.
	if LoadRead(file, testKinds, LoadOptions{Warnings: true}).Current() {
		t.Error("a load with warnings is current")
	}

	// With SafeFiles, a file that became unsafe makes it stale.
	safe := LoadRead(file, testKinds, LoadOptions{SafeFiles: true})
	if safe.Err != nil {
		t.Skipf("the temporary folder is not safe here: %v", safe.Err)
	}
	if !safe.Current() {
		t.Fatal("SafeFiles: not current, nothing changed")
	}
	if err := os.Chmod(filepath.Join(dir, "sub.yaml"), 0o666); err != nil {
		t.Fatal(err)
	}
	if safe.Current() {
		t.Error("SafeFiles: an include writable by all is current")
	}
}

// TestLoadReadDiagnostics: a file that does not validate gives LoadRead
// the very diagnostics LoadWith gives, and the load is current (parsing
// it again would say the same).
func TestLoadReadDiagnostics(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(file, []byte("version: 1\nsupervisor:\n  children:\n    - {name: a, kind: ecoh}\n    - {name: B, kind: echo}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l := LoadRead(file, testKinds, LoadOptions{})
	_, err := LoadWith(file, testKinds, LoadOptions{})
	if err == nil || l.Err == nil || l.Err.Error() != err.Error() || l.Tree != nil {
		t.Fatalf("LoadRead: %v\nLoadWith: %v", l.Err, err)
	}
	if !l.Current() {
		t.Error("not current")
	}
}
