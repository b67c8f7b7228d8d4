package loader

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
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
//
// While it waits, it loads the files ahead (once they have been quiet for
// a quarter of Debounce), so that when the wait ends the reload reads them
// again only to check that they are still what was loaded, and then
// applies the difference: the reload then comes as soon after the wait as
// if nothing had to be parsed, and what it reports is what ReloadFile
// would. A load ahead that a further change made stale is not used.
//
// A file that is a symbolic link is followed: the folder it leads to is
// watched too, and a change there is a change of the file. When a file,
// link or folder is created, renamed or removed in a watched folder, the
// links of every file are followed again, and if one now leads elsewhere
// the files are read again (and reloaded if their contents changed). That
// is how a Kubernetes ConfigMap is updated: the kubelet mounts
// /etc/otpctl/tree.yaml as a link to ..data/tree.yaml, ..data as a link to
// a timestamped folder, and an update writes a new such folder, points a
// new link ..data_tmp at it, renames ..data_tmp over ..data and removes
// the old folder: the tree file itself is never written. What the
// reload reads goes through the same checks as any file (a regular file,
// at most the size limit, no blocking open, and SafeFiles both as written
// and where its links lead).
func (r *Running) Watch(opts WatchOptions) (*Watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("loader: watching the tree's files: %w", err)
	}
	w := &Watcher{r: r, fw: fw, errs: opts.Errors, debounce: opts.Debounce,
		files: map[string][]byte{}, links: map[string]string{}, names: map[string]bool{}, dirs: map[string]bool{},
		stop: make(chan struct{}), done: make(chan struct{})}
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
	// read before a reload; links where each leads once its symbolic
	// links are followed ("" when it leads nowhere); names the names
	// under which the watcher reports a change of one of them; dirs the
	// folders watched.
	files map[string][]byte
	links map[string]string
	names map[string]bool
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
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	defer settle.Stop()
	p := &preparer{r: w.r, results: make(chan *spec.Loaded, 1)}
	defer p.wait()
	// changes starts the wait again: the reload when the files have been
	// quiet for the debounce, their load ahead once they have been quiet
	// for a quarter of it.
	changes := func() {
		timer.Reset(w.debounce)
		settle.Reset(w.debounce / 4)
	}
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
				// and before its folder was watched, and a link may
				// have been swapped while the reload ran: look once
				// more. If nothing changed, the reload does nothing.
				changes()
			}
		case ev, ok := <-w.fw.Events:
			if !ok {
				return
			}
			if ev.Op == fsnotify.Chmod {
				continue // a mode change alone changes no content
			}
			switch {
			case w.names[filepath.Clean(ev.Name)]:
				changes()
			case ev.Op.Has(fsnotify.Create) || ev.Op.Has(fsnotify.Rename) || ev.Op.Has(fsnotify.Remove):
				// A link on the way to a file may have been
				// swapped (a ConfigMap's ..data).
				if w.resolve() {
					changes()
				}
			}
		case err, ok := <-w.fw.Errors:
			if !ok {
				return
			}
			w.report(err)
		case <-settle.C:
			p.start()
		case l := <-p.results:
			p.done(l)
		case <-timer.C:
			if w.changed() {
				w.r.reloadFile(p.take()) // it reports itself: reload or reload_failed
			} else {
				p.forget()
			}
		}
	}
}

// preparer loads the tree's files ahead, while the watcher waits for them
// to stay quiet, so that the reload at the end of the wait only has to
// check that they are still what was loaded (spec.Loaded.Current) and
// apply the difference. One load runs at a time, on a goroutine of its
// own; its result comes back on results. Its methods run on the watcher's
// goroutine.
type preparer struct {
	r       *Running
	results chan *spec.Loaded // capacity 1: a load never waits to deliver
	running bool              // a load is under way
	again   bool              // the files changed after it began
	drop    bool              // its result is not wanted (forget)
	last    *spec.Loaded      // the last load that ended, not used yet
}

// start begins a load, or, if one is under way, asks for another once it
// ends (the files changed after it began).
func (p *preparer) start() {
	if p.running {
		p.again = true
		return
	}
	p.running, p.again, p.drop, p.last = true, false, false, nil
	go func() { p.results <- p.r.prepare() }()
}

// done takes the result of the load that ended.
func (p *preparer) done(l *spec.Loaded) {
	if p.drop {
		l = nil // a tree of a hundred thousand workers is not kept for nothing
	}
	p.running, p.drop, p.last = false, false, l
	if p.again {
		p.start()
	}
}

// take returns the last load for the reload to use (reloadFile checks
// that it is current), waiting for the one under way, if any; nil when
// there is none. A load that began before the last change may still have
// read the files as they are now (the change was the end of the write
// it saw), and a load of its own would compete with it for the CPU.
func (p *preparer) take() *spec.Loaded {
	if p.running {
		p.again, p.drop = false, false
		p.done(<-p.results)
	}
	l := p.last
	p.forget()
	return l
}

// forget drops the last load, the wish for another, and the result of
// the one under way.
func (p *preparer) forget() {
	p.last, p.again = nil, false
	p.drop = p.running
}

// wait waits for the load under way, if any, to end.
func (p *preparer) wait() {
	if p.running {
		<-p.results
		p.running = false
	}
}

func (w *Watcher) report(err error) {
	if w.errs != nil {
		w.errs(err)
	}
}

// follow makes the watched files and folders those of the spec t: new
// folders are added, folders no file is in (or leads to) any more are
// dropped. A file that is new to the watcher has no contents yet: what the
// reload read is not known (the file may have changed since), so the next
// check of the files reloads whatever its contents. follow reports
// whether there is such a file, or a file whose links now lead elsewhere.
func (w *Watcher) follow(t *spec.Tree) (added bool) {
	files := map[string][]byte{}
	for _, f := range t.Files {
		abs, err := filepath.Abs(f)
		if err != nil {
			w.report(err)
			continue
		}
		old, known := w.files[abs]
		files[abs] = old
		added = added || !known
	}
	w.files = files
	// A link swapped while the tree reloaded is seen here first: look at
	// the files again, as for a new file.
	moved := w.resolve()
	return added || moved
}

// resolve follows the symbolic links of the files again, watches the
// folders they are in and the folders they lead to, and reports whether a
// known file now leads elsewhere (or somewhere, or nowhere) than before.
func (w *Watcher) resolve() (moved bool) {
	links := map[string]string{}
	names := map[string]bool{}
	dirs := map[string]bool{} // true: a file's own folder; false: one a link leads to
	for abs := range w.files {
		dir := filepath.Dir(abs)
		dirs[dir] = true
		names[abs] = true
		// A file that is gone, or a link that leads nowhere (yet), is
		// "": the reload says why it cannot be read.
		target, _ := filepath.EvalSymlinks(abs)
		if old, known := w.links[abs]; known && old != target {
			moved = true
		}
		links[abs] = target
		if target == "" || target == abs {
			continue
		}
		names[target] = true
		if real, err := filepath.EvalSymlinks(dir); err == nil && real == filepath.Dir(target) {
			// It leads into the folder watched already (which may
			// itself be a link): its changes come under that name.
			names[filepath.Join(dir, filepath.Base(target))] = true
		} else if !dirs[filepath.Dir(target)] {
			dirs[filepath.Dir(target)] = false
		}
	}
	for d, own := range dirs {
		if !w.dirs[d] {
			if err := w.fw.Add(d); err != nil {
				// A folder a link led to a moment ago may be gone
				// (swapped again): the next event follows the links
				// again.
				if own || !errors.Is(err, fs.ErrNotExist) {
					w.report(fmt.Errorf("watching %s: %w", d, err))
				}
				continue
			}
		}
		w.dirs[d] = true
	}
	for d := range w.dirs {
		if _, keep := dirs[d]; !keep {
			// A folder a link led to may be gone already (the
			// kubelet removes the old one): its watch went with it.
			w.fw.Remove(d)
			delete(w.dirs, d)
		}
	}
	w.links, w.names = links, names
	return moved
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
