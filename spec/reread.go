package spec

import "bytes"

// Loaded is a load (LoadRead) and the files it read: what a reload can
// prepare ahead of time and use later if the files have not changed
// since (Current).
type Loaded struct {
	// File is the tree file loaded.
	File string
	// Tree and Err are what LoadWith returned.
	Tree *Tree
	Err  error
	opts LoadOptions
	read []fileRead
}

// fileRead is one file a load read: its name as the load read it and its
// contents; ok is false when it could not be read or was refused.
type fileRead struct {
	name string
	data []byte
	ok   bool
}

// LoadRead is LoadWith, and records the files it read and their contents,
// so that Current can tell later whether loading again would give the
// same result.
func LoadRead(file string, kinds Kinds, opts LoadOptions) *Loaded {
	l := &Loaded{File: file, opts: opts}
	if err := opts.check(file); err != nil {
		l.Err = Diagnostics{{Pos: Pos{File: file}, Severity: SeverityError, Summary: err.Error()}}
		l.read = []fileRead{{name: file}}
		return l
	}
	l.Tree, l.read, l.Err = loadReads(file, kinds, opts, true)
	return l
}

// Current reports whether LoadWith of the same file, kinds and options
// would give what l holds: every file l read still reads the same bytes
// and passes the options' checks (SafeFiles). A load is a function of
// those: which includes it reads follows from the bytes of the files
// before them. It is false when a file could not be read or was refused
// (the load's diagnostic would depend on the moment), and for a load with
// LoadOptions.Warnings (the machine may have changed). It reads every file
// again, as a load would, so it costs the reads of a load but not the
// parsing.
func (l *Loaded) Current() bool {
	if l.opts.Warnings || len(l.read) == 0 {
		return false
	}
	for _, r := range l.read {
		if !r.ok || l.opts.check(r.name) != nil {
			return false
		}
		now, err := readFile(r.name)
		if err != nil || !bytes.Equal(now, r.data) {
			return false
		}
	}
	return true
}
