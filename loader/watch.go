package loader

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/otpctl/otpctl/spec"
)

// DefaultDebounce is how long Watch waits for a tree's files to stay quiet
// before it reloads them, unless WatchOptions say otherwise. An editor's
// save is a burst of events within a few milliseconds (write a temporary
// file, rename it over the old one, change its mode); 100 ms makes each
// burst one reload, and is short enough not to be noticed.
const DefaultDebounce = 100 * time.Millisecond

// WatchOptions configure Watch. The zero value is usable.
type WatchOptions struct {
	// Debounce is how long the files must stay quiet after a change
	// before the reload: each change starts the wait again, so that a
	// burst of changes is one reload. Default: DefaultDebounce.
	Debounce time.Duration
	// Errors receives what goes wrong with watching itself (a folder that
	// cannot be watched, an error of the operating system's watcher);
	// watching goes on. Nil drops them. Problems of the files themselves
	// are reload_failed events, as with ReloadFile.
	Errors func(error)
}

// Watch starts watching the tree's files and returns once it watches them:
// from then on, a change reloads the tree (ReloadFile), until Close, or
// until the tree stops. It fails only if the operating system's watcher
// cannot be had.
//
// It watches the folders of every file of the running tree (Spec().Files),
// not the files, so that an editor that saves by writing a new file and
// renaming it over the old one is seen; only changes to the tree's own
// files count. A change starts a wait of Debounce, which each further change
// starts again: one save, or a burst of them, is one reload. When the wait
// ends and the files' contents are those of the last reload, nothing is
// done. After every reload, whatever asked for it (the watcher, ReloadFile,
// Reload), the set of files and folders is taken again from Spec(), so an
// include the reload added is watched and one it dropped no longer is. A
// file that does not validate changes nothing (reload_failed) and watching
// goes on: the next save is reloaded.
func (r *Running) Watch(opts WatchOptions) (*Watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("loader: watching the tree's files: %w", err)
	}
	w := &Watcher{r: r, fw: fw, errs: opts.Errors, debounce: opts.Debounce,
		files: map[string][]byte{}, dirs: map[string]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	if w.debounce <= 0 {
		w.debounce = DefaultDebounce
	}
	seen := r.Spec()
	w.follow(seen)
	go w.run(seen)
	return w, nil
}

// Watcher is a running Watch.
type Watcher struct {
	r        *Running
	fw       *fsnotify.Watcher
	errs     func(error)
	debounce time.Duration
	// files are the tree's files (absolute), with their contents as last
	// read before a reload; dirs the folders watched.
	files map[string][]byte
	dirs  map[string]bool

	once sync.Once
	stop chan struct{}
	done chan struct{}
}

// Close stops watching and returns once the watcher is done (after the
// reload it may have been running). Calling it again is harmless.
func (w *Watcher) Close() {
	w.once.Do(func() { close(w.stop) })
	<-w.done
}

func (w *Watcher) run(seen *spec.Tree) {
	defer close(w.done)
	defer w.fw.Close()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-w.r.done:
			return
		case <-w.r.specChanged(seen):
			seen = w.r.Spec()
			if w.follow(seen) {
				// A file new to the watcher (an include the reload
				// added) may have been saved after the reload read it
				// and before its folder was watched: look once more.
				// If nothing changed, the reload does nothing.
				timer.Reset(w.debounce)
			}
		case ev, ok := <-w.fw.Events:
			if !ok {
				return
			}
			if ev.Op == fsnotify.Chmod {
				continue // a mode change alone changes no content
			}
			if _, ours := w.files[filepath.Clean(ev.Name)]; ours {
				timer.Reset(w.debounce)
			}
		case err, ok := <-w.fw.Errors:
			if !ok {
				return
			}
			w.report(err)
		case <-timer.C:
			if w.changed() {
				w.r.ReloadFile() // it reports itself: reload or reload_failed
			}
		}
	}
}

func (w *Watcher) report(err error) {
	if w.errs != nil {
		w.errs(err)
	}
}

// follow makes the watched files and folders those of the spec t: new
// folders are added, folders no file is in any more are dropped. A file
// that is new to the watcher has no contents yet: what the reload read is
// not known (the file may have changed since), so the next check of the
// files reloads whatever its contents. follow reports whether there is
// such a file.
func (w *Watcher) follow(t *spec.Tree) (added bool) {
	files := map[string][]byte{}
	dirs := map[string]bool{}
	for _, f := range t.Files {
		abs, err := filepath.Abs(f)
		if err != nil {
			w.report(err)
			continue
		}
		old, known := w.files[abs]
		files[abs] = old
		added = added || !known
		dirs[filepath.Dir(abs)] = true
	}
	for d := range dirs {
		if !w.dirs[d] {
			if err := w.fw.Add(d); err != nil {
				w.report(fmt.Errorf("watching %s: %w", d, err))
				continue
			}
		}
		w.dirs[d] = true
	}
	for d := range w.dirs {
		if !dirs[d] {
			w.fw.Remove(d)
			delete(w.dirs, d)
		}
	}
	w.files = files
	return added
}

// changed reads the files again, just before a reload reads them, and
// reports whether any differs from what was read last time (a file not
// read yet, or that cannot be read, counts as changed: the reload says
// why). It reads them as the reload will (spec.ReadFile): a file that is
// not a regular one, or too large, is not read at all, and no read blocks.
func (w *Watcher) changed() bool {
	changed := false
	for f, old := range w.files {
		now, err := spec.ReadFile(f)
		if err != nil || old == nil || !bytes.Equal(now, old) {
			changed = true
		}
		if err != nil {
			now = nil
		}
		w.files[f] = now
	}
	return changed
}
