package loader

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otpctl/otpctl/spec"
)

// watched runs the tree of file (and its includes) with Watch on, and
// stops both at the end of the test.
func watched(t *testing.T, file string, debounce time.Duration) (*Running, *recorder) {
	t.Helper()
	r, rec := startFile(t, file)
	watchErrs := make(chan error, 10)
	w, err := r.Watch(WatchOptions{Debounce: debounce, Errors: func(err error) { watchErrs <- err }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		w.Close()
		close(watchErrs)
		for err := range watchErrs {
			t.Errorf("watch error: %v", err)
		}
	})
	return r, rec
}

func writeFile(t *testing.T, file, text string) {
	t.Helper()
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// renameOver saves as editors do: a new file, renamed over the old one.
func renameOver(t *testing.T, file, text string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(file), "."+filepath.Base(file)+".swp")
	writeFile(t, tmp, text)
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
}

// reloadEvent waits for the next reload or reload_failed event from mark
// and returns it with its index.
func (r *recorder) reloadEvent(t *testing.T, mark int) (Event, int) {
	t.Helper()
	i := r.wait(t, mark, "reload")
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.events[i], i
}

func TestWatchReloadsOnEverySave(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "app.yaml")
	app := func(a, b string) string {
		return fmt.Sprintf("version: 1\nsupervisor:\n  children:\n    - {name: a, kind: echo%s}\n    - {name: b, kind: echo%s}\n    - {name: sub, include: sub.yaml}\n", a, b)
	}
	writeFile(t, file, app("", ""))
	writeFile(t, filepath.Join(dir, "sub.yaml"), "version: 1\nsupervisor:\n  children:\n    - {name: x, kind: echo}\n")
	r, rec := watched(t, file, 0)

	// In place.
	mark := rec.len()
	writeFile(t, file, app(", args: {n: 1}", ""))
	ev, mark := rec.reloadEvent(t, mark)
	if ev.Type != EventReload || strings.Join(ev.Changed, " ") != "app/a" {
		t.Fatalf("in place: %+v", ev)
	}
	// Write and rename.
	renameOver(t, file, app(", args: {n: 1}", ", args: {n: 2}"))
	ev, mark = rec.reloadEvent(t, mark+1)
	if ev.Type != EventReload || strings.Join(ev.Changed, " ") != "app/b" {
		t.Fatalf("renamed over: %+v", ev)
	}
	// A broken save: reload_failed, and watching goes on.
	before := pids(t, r)
	writeFile(t, file, app(", args: {n: one}", ""))
	ev, mark = rec.reloadEvent(t, mark+1)
	if ev.Type != EventReloadFailed || len(ev.Errors) != 1 || !strings.HasPrefix(ev.Errors[0], file+":4:39: args.n:") {
		t.Fatalf("broken: %+v", ev)
	}
	if !mapsEqual(before, pids(t, r)) {
		t.Fatal("a broken save changed pids")
	}
	renameOver(t, file, app(", args: {n: 1}", ", args: {n: 3}"))
	ev, mark = rec.reloadEvent(t, mark+1)
	if ev.Type != EventReload || strings.Join(ev.Changed, " ") != "app/b" {
		t.Fatalf("fixed: %+v", ev)
	}
	// An include edited, then an include added, then edited.
	writeFile(t, filepath.Join(dir, "sub.yaml"), "version: 1\nsupervisor:\n  children:\n    - {name: x, kind: echo, args: {n: 1}}\n")
	ev, mark = rec.reloadEvent(t, mark+1)
	if strings.Join(ev.Changed, " ") != "app/sub/x" {
		t.Fatalf("include edited: %+v", ev)
	}
	other := t.TempDir() // in another folder, which must be watched too
	more := filepath.Join(other, "more.yaml")
	writeFile(t, more, "version: 1\nsupervisor:\n  children:\n    - {name: m, kind: echo}\n")
	writeFile(t, file, app(", args: {n: 1}", ", args: {n: 3}")+"    - {name: more, include: "+more+"}\n")
	ev, mark = rec.reloadEvent(t, mark+1)
	if strings.Join(ev.Added, " ") != "app/more" {
		t.Fatalf("include added: %+v", ev)
	}
	renameOver(t, more, "version: 1\nsupervisor:\n  children:\n    - {name: m, kind: counter}\n")
	ev, mark = rec.reloadEvent(t, mark+1)
	if strings.Join(ev.Changed, " ") != "app/more/m" {
		t.Fatalf("added include edited: %+v", ev)
	}
	// A file beside the tree's that is not one of them counts for nothing;
	// the next save of the tree is the next reload.
	writeFile(t, filepath.Join(dir, "notes.txt"), "hello")
	writeFile(t, file, app(", args: {n: 1}", ", args: {n: 4}")+"    - {name: more, include: "+more+"}\n")
	ev, _ = rec.reloadEvent(t, mark+1)
	if strings.Join(ev.Changed, " ") != "app/b" {
		t.Fatalf("after an unrelated file: %+v", ev)
	}
	checkShape(t, r)
}

func TestWatchOneReloadPerBurst(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "app.yaml")
	app := func(n int) string {
		return fmt.Sprintf("version: 1\nsupervisor:\n  children:\n    - {name: a, kind: echo, args: {n: %d}}\n    - {name: b, kind: echo}\n", n)
	}
	writeFile(t, file, app(0))
	// A long debounce, so that a busy machine cannot split the burst.
	r, rec := watched(t, file, 500*time.Millisecond)
	mark := rec.len()
	for n := 1; n <= 10; n++ {
		if n%2 == 0 {
			renameOver(t, file, app(n))
		} else {
			writeFile(t, file, app(n))
		}
	}
	ev, i := rec.reloadEvent(t, mark)
	if ev.Type != EventReload || strings.Join(ev.Changed, " ") != "app/a" {
		t.Fatalf("%+v", ev)
	}
	// The one reload read the last save: every save was in it.
	got, err := r.Call("app/a", []byte(`"args"`), 0)
	if err != nil || string(got) != `{"n":10}` {
		t.Fatalf("a's args %s, %v", got, err)
	}
	if n := node(t, r, "app/a"); n.Restarts != 1 {
		t.Fatalf("a restarted %d times", n.Restarts)
	}
	// Saving the same contents again reloads nothing; the next real
	// change is the next reload event.
	writeFile(t, file, app(10))
	writeFile(t, file, strings.Replace(app(10), "kind: echo}", "kind: echo, args: {n: 1}}", 1))
	ev, _ = rec.reloadEvent(t, i+1)
	if strings.Join(ev.Changed, " ") != "app/b" {
		t.Fatalf("%+v", ev)
	}
}

func TestWatchEndsWithTheTree(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "app.yaml")
	writeFile(t, file, "version: 1\nsupervisor:\n  children:\n    - {name: a, kind: echo}\n")
	st, err := spec.Load(file, testKinds())
	if err != nil {
		t.Fatal(err)
	}
	r, err := Start(context.Background(), st, Options{Registry: testKinds(), Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	w, err := r.Watch(WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	shutdown(t, r)
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the watcher still runs after the tree stopped")
	}
	w.Close()
}
