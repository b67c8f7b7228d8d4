package loader

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/otpctl/otpctl/spec"
)

// TestReloadFileUsesALoadAheadOnlyWhileCurrent: the watcher's load ahead
// (prepare) is what the reload applies while the files are those it
// read; once one of them changed after it, the reload reads and applies
// the files as they are, and a file that no longer validates is refused
// as ReloadFile refuses it.
func TestReloadFileUsesALoadAheadOnlyWhileCurrent(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "app.yaml")
	write := func(text string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const head = "version: 1\nsupervisor:\n  children:\n    - {name: a, kind: echo}\n"
	write(head)
	r, _ := startFile(t, file)

	// Current: the load ahead is the tree that runs now.
	write(head + "    - {name: b, kind: echo}\n")
	pre := r.prepare()
	res, err := r.reloadFile(pre)
	if err != nil || !slices.Equal(res.Plan.Paths(spec.Added), []string{"app/b"}) {
		t.Fatalf("current: %v, %v", res.Plan, err)
	}
	if r.Spec() != pre.Tree {
		t.Error("current: the load ahead was not used")
	}

	// Stale: a change after the load ahead is what the reload applies.
	pre = r.prepare()
	write(head + "    - {name: b, kind: echo, args: {tag: new}}\n")
	res, err = r.reloadFile(pre)
	if err != nil || !slices.Equal(res.Plan.Paths(spec.Changed), []string{"app/b"}) || len(res.Plan.Changes) != 1 {
		t.Fatalf("stale: %v, %v", res.Plan, err)
	}
	if r.Spec() == pre.Tree {
		t.Error("stale: the load ahead was used")
	}

	// Stale, and the file no longer validates: refused, said as ReloadFile
	// says it.
	pre = r.prepare()
	write(head + "    - {name: b, kind: echo, args: {tag: 3}}\n")
	_, err = r.reloadFile(pre)
	_, want := spec.Load(file, testKinds())
	if err == nil || want == nil || err.Error() != want.Error() {
		t.Fatalf("stale and invalid: %v, want %v", err, want)
	}
	if got := r.Spec().Find("app/b"); got == nil || string(got.Worker.Args) != `{"tag":"new"}` {
		t.Errorf("a refused reload changed the spec: %v", got)
	}
}

// TestWatchSeesAChangeAfterItsLoadAhead: a save that comes after the
// watcher has loaded the files ahead (a quarter of the debounce after the
// first save) and before the wait ends is what the reload applies: the
// tree ends as the last save says, whenever the reloads came.
func TestWatchSeesAChangeAfterItsLoadAhead(t *testing.T) {
	const debounce = 200 * time.Millisecond
	file := filepath.Join(t.TempDir(), "app.yaml")
	app := func(tag string) string {
		return "version: 1\nsupervisor:\n  children:\n    - {name: a, kind: echo, args: {tag: " + tag + "}}\n"
	}
	writeFile(t, file, app("one"))
	r, rec := watched(t, file, debounce)
	mark := rec.Len()
	writeFile(t, file, app("two"))
	time.Sleep(debounce / 2) // the load ahead of "two" is done, or under way
	writeFile(t, file, app("three"))
	for {
		ev, i := rec.reloadEvent(t, mark)
		if ev.Type != EventReload {
			t.Fatalf("%+v", ev)
		}
		mark = i + 1
		if got := string(r.Spec().Find("app/a").Worker.Args); got == `{"tag":"three"}` {
			break
		}
	}
}

// TestPreparerKeepsOnlyWhatAReloadWillUse: a load ahead is handed to the
// reload that follows (waited for if under way); one the watcher no longer
// wants (the wait ended and nothing had changed) is not kept once it ends,
// so a large tree is not held for nothing.
func TestPreparerKeepsOnlyWhatAReloadWillUse(t *testing.T) {
	file := filepath.Join(t.TempDir(), "app.yaml")
	writeFile(t, file, "version: 1\nsupervisor:\n  children:\n    - {name: a, kind: echo}\n")
	r, _ := startFile(t, file)
	p := &preparer{r: r, results: make(chan *spec.Loaded, 1)}

	p.start()
	if l := p.take(); l == nil || l.Tree == nil {
		t.Fatalf("take after start: %+v", l)
	}
	if p.running || p.last != nil {
		t.Fatalf("after take: running %v, last %v", p.running, p.last)
	}

	p.start()
	p.forget()
	p.done(<-p.results)
	if p.running || p.last != nil {
		t.Errorf("a load forgotten while under way is kept: running %v, last %v", p.running, p.last)
	}

	// A change while it runs: the next one starts when it ends.
	p.start()
	p.start()
	p.done(<-p.results)
	if !p.running {
		t.Fatal("no second load after a change during the first")
	}
	p.wait()
}
