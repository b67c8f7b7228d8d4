package loader

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otpctl/otpctl/internal/kubemount"
	"github.com/otpctl/otpctl/internal/testrec"
	"github.com/otpctl/otpctl/live"
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
func (r *recorder) reloadEvent(t *testing.T, mark int) (live.Event, int) {
	t.Helper()
	i := r.wait(t, mark, "reload")
	return r.At(i), i
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
	mark := rec.Len()
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
	mark := rec.Len()
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

// TestWatchReadsOnlyTreeFiles puts in the tree file's place what a tree
// file cannot be: the watcher must not read it (a link to /dev/zero never
// ends, a FIFO blocks, a huge file is not read whole), the reload fails
// with the reason, the tree is untouched, the next good save reloads, and
// Close is prompt.
func TestWatchReadsOnlyTreeFiles(t *testing.T) {
	const good = "version: 1\nsupervisor:\n  children:\n    - {name: a, kind: echo}\n"
	cases := []struct {
		name, reason string
		replace      func(t *testing.T, file string)
	}{
		{"link to /dev/zero", "not a regular file", func(t *testing.T, file string) {
			tmp := file + ".new"
			if err := os.Symlink("/dev/zero", tmp); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, file); err != nil {
				t.Fatal(err)
			}
		}},
		{"FIFO", "not a regular file", func(t *testing.T, file string) {
			tmp := file + ".new"
			if err := syscall.Mkfifo(tmp, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, file); err != nil {
				t.Fatal(err)
			}
			// Should the watcher block on it, let it go at the end.
			t.Cleanup(func() {
				if f, err := os.OpenFile(file, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
					f.Close()
				}
			})
		}},
		{"1 GiB file", "too large", func(t *testing.T, file string) {
			tmp := file + ".new"
			f, err := os.Create(tmp)
			if err != nil {
				t.Fatal(err)
			}
			// Sparse: it costs no disk, only whoever reads it whole.
			if err := f.Truncate(1 << 30); err != nil {
				t.Fatal(err)
			}
			f.Close()
			if err := os.Rename(tmp, file); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "app.yaml")
			writeFile(t, file, good)
			r, rec := startFile(t, file)
			w, err := r.Watch(WatchOptions{Debounce: 10 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			before := pids(t, r)
			stopAlloc := allocWatchdog(c.name, 256<<20)
			defer stopAlloc()

			mark := rec.Len()
			c.replace(t, file)
			ev, mark := rec.reloadEvent(t, mark)
			if ev.Type != EventReloadFailed || len(ev.Errors) != 1 || !strings.Contains(ev.Errors[0], c.reason) {
				t.Fatalf("got %+v; want reload_failed saying %q", ev, c.reason)
			}
			if !mapsEqual(before, pids(t, r)) {
				t.Fatal("the tree changed")
			}
			// Watching goes on: a good save is reloaded.
			renameOver(t, file, strings.Replace(good, "kind: echo}", "kind: echo, args: {n: 1}}", 1))
			if ev, mark = rec.reloadEvent(t, mark+1); ev.Type != EventReload || strings.Join(ev.Changed, " ") != "app/a" {
				t.Fatalf("after a good save: %+v", ev)
			}
			// In its place again: the same refusal, and Close is prompt.
			c.replace(t, file)
			if ev, _ = rec.reloadEvent(t, mark+1); ev.Type != EventReloadFailed {
				t.Fatalf("in place again: %+v", ev)
			}
			closed := make(chan struct{})
			go func() { w.Close(); close(closed) }()
			select {
			case <-closed:
			case <-time.After(10 * time.Second):
				t.Fatal("Close still waits after 10s")
			}
		})
	}
}

// allocWatchdog ends the test binary if it allocates more than limit bytes
// from now on before stop is called: a watcher reading /dev/zero would
// otherwise take the machine's memory before any deadline passed.
func allocWatchdog(what string, limit uint64) (stop func()) {
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	base := ms.TotalAlloc
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			var ms goruntime.MemStats
			goruntime.ReadMemStats(&ms)
			if n := ms.TotalAlloc - base; n > limit {
				panic(fmt.Sprintf("%s: %d MiB allocated since it was put in place: the watcher reads it", what, n>>20))
			}
		}
	}()
	return func() { close(done); <-finished }
}

// TestWatchConfigMapSwap mounts the tree as the kubelet mounts a ConfigMap
// (tree.yaml -> ..data/tree.yaml, ..data -> a timestamped folder) and
// updates it as the kubelet does, never writing the files watched: each
// update that changes a file is one reload, one that changes nothing is
// none, and what the reload reads through the links passes the same checks
// as any tree file (here SafeFiles, and a FIFO that must not block).
func TestWatchConfigMapSwap(t *testing.T) {
	dir := t.TempDir()
	app := func(n int) string {
		return fmt.Sprintf("version: 1\nname: app\nsupervisor:\n  children:\n    - {name: a, kind: echo, args: {n: %d}}\n    - {name: sub, include: sub.yaml}\n", n)
	}
	sub := func(n int) string {
		return fmt.Sprintf("version: 1\nsupervisor:\n  children:\n    - {name: x, kind: echo, args: {n: %d}}\n", n)
	}
	v, err := kubemount.Mount(dir, map[string]string{"tree.yaml": app(0), "sub.yaml": sub(0)})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "tree.yaml")
	safe := spec.LoadOptions{SafeFiles: true}
	st, err := spec.LoadWith(file, testKinds(), safe)
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	r, err := Start(context.Background(), st, Options{Registry: testKinds(), Events: rec.Add, Log: quiet, Files: safe})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdown(t, r) })
	var watchErrs testrec.Log[error]
	w, err := r.Watch(WatchOptions{Debounce: 20 * time.Millisecond, Errors: watchErrs.Add})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		w.Close()
		for _, err := range watchErrs.All() {
			t.Errorf("watch error: %v", err)
		}
	})
	update := func(files map[string]string) {
		t.Helper()
		if err := v.Update(files); err != nil {
			t.Fatal(err)
		}
	}

	mark := rec.Len()
	update(map[string]string{"tree.yaml": app(1), "sub.yaml": sub(0)})
	ev, mark := rec.reloadEvent(t, mark)
	if ev.Type != EventReload || strings.Join(ev.Changed, " ") != "app/a" {
		t.Fatalf("tree.yaml updated: %+v", ev)
	}
	update(map[string]string{"tree.yaml": app(1), "sub.yaml": sub(1)})
	ev, mark = rec.reloadEvent(t, mark+1)
	if ev.Type != EventReload || strings.Join(ev.Changed, " ") != "app/sub/x" {
		t.Fatalf("sub.yaml (an include) updated: %+v", ev)
	}
	// The same contents in a new folder: no reload; the next event is
	// the next update's.
	update(map[string]string{"tree.yaml": app(1), "sub.yaml": sub(1)})
	update(map[string]string{"tree.yaml": app(2), "sub.yaml": sub(1)})
	ev, mark = rec.reloadEvent(t, mark+1)
	if ev.Type != EventReload || strings.Join(ev.Changed, " ") != "app/a" {
		t.Fatalf("after an update that changed nothing: %+v", ev)
	}

	// What the links lead to is checked as any tree file: a file others
	// may write is refused, a FIFO is not a tree file (and is not opened).
	before := pids(t, r)
	if err := v.Swap(func(folder string) error {
		writeFile(t, filepath.Join(folder, "sub.yaml"), sub(1))
		f := filepath.Join(folder, "tree.yaml")
		writeFile(t, f, app(3))
		return os.Chmod(f, 0o666)
	}); err != nil {
		t.Fatal(err)
	}
	ev, mark = rec.reloadEvent(t, mark+1)
	if ev.Type != EventReloadFailed || len(ev.Errors) != 1 || !strings.Contains(ev.Errors[0], "is writable by others") {
		t.Fatalf("a file others may write: %+v", ev)
	}
	if err := v.Swap(func(folder string) error {
		writeFile(t, filepath.Join(folder, "sub.yaml"), sub(1))
		return syscall.Mkfifo(filepath.Join(folder, "tree.yaml"), 0o644)
	}); err != nil {
		t.Fatal(err)
	}
	ev, mark = rec.reloadEvent(t, mark+1)
	if ev.Type != EventReloadFailed || len(ev.Errors) != 1 || !strings.Contains(ev.Errors[0], "not a regular file") {
		t.Fatalf("a FIFO: %+v", ev)
	}
	if !mapsEqual(before, pids(t, r)) {
		t.Fatal("a refused update changed the tree")
	}
	update(map[string]string{"tree.yaml": app(4), "sub.yaml": sub(1)})
	ev, _ = rec.reloadEvent(t, mark+1)
	if ev.Type != EventReload || strings.Join(ev.Changed, " ") != "app/a" {
		t.Fatalf("a good update after refused ones: %+v", ev)
	}
	checkShape(t, r)
}

// TestWatchFollowsLinksElsewhere: a tree file that is a link to a file in
// another folder is reloaded when that file is written in place.
func TestWatchFollowsLinksElsewhere(t *testing.T) {
	real, dir := t.TempDir(), t.TempDir()
	target := filepath.Join(real, "app.yaml")
	app := func(n int) string {
		return fmt.Sprintf("version: 1\nname: app\nsupervisor:\n  children:\n    - {name: a, kind: echo, args: {n: %d}}\n", n)
	}
	writeFile(t, target, app(0))
	file := filepath.Join(dir, "app.yaml")
	if err := os.Symlink(target, file); err != nil {
		t.Fatal(err)
	}
	_, rec := watched(t, file, 0)
	mark := rec.Len()
	writeFile(t, target, app(1))
	if ev, _ := rec.reloadEvent(t, mark); ev.Type != EventReload || strings.Join(ev.Changed, " ") != "app/a" {
		t.Fatalf("the link's target written: %+v", ev)
	}
}
