package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"gopkg.in/yaml.v3"

	"github.com/otpctl/otpctl/schema"
)

// Load reads the tree file named file, with its includes, and resolves it
// against kinds (the registered kinds; a workers.Registry is one). The
// error, when not nil, is a Diagnostics holding every problem found in the
// file and its includes.
func Load(file string, kinds Kinds) (*Tree, error) { return load(file, kinds, LoadOptions{}) }

func load(file string, kinds Kinds, opts LoadOptions) (*Tree, error) {
	t, _, err := loadReads(file, kinds, opts, false)
	return t, err
}

// loadReads is load that also returns, when record is set, every file it
// read or refused, in the order met.
func loadReads(file string, kinds Kinds, opts LoadOptions, record bool) (*Tree, []fileRead, error) {
	l := newLoader(kinds, opts)
	l.record = record
	data, err := l.readFile(file)
	if err != nil {
		return nil, l.reads, Diagnostics{{Pos: Pos{File: file}, Severity: SeverityError, Summary: "cannot read the file: " + err.Error()}}
	}
	t, err := l.finish(l.load(file, data))
	return t, l.reads, err
}

// Parse resolves the tree file data as if it had been read from file:
// file names it in diagnostics, gives the tree its default name (the
// file's base name without extension) and is the folder includes are
// relative to. With file "", includes are relative to the working
// directory, the tree needs a name: and positions carry no file. The
// error, when not nil, is a Diagnostics holding every problem found.
func Parse(file string, data []byte, kinds Kinds) (*Tree, error) {
	return parse(file, data, kinds, LoadOptions{})
}

func parse(file string, data []byte, kinds Kinds, opts LoadOptions) (*Tree, error) {
	l := newLoader(kinds, opts)
	return l.finish(l.load(file, data))
}

func newLoader(kinds Kinds, opts LoadOptions) *loader {
	return &loader{kinds: kinds, opts: opts, docs: map[string]*fileDoc{}, argsBad: map[string]bool{},
		argsChecked: map[argsKey][]schema.Violation{}, argsWarned: map[argsKey][]schema.Violation{}}
}

// finish gathers the diagnostics of the files l read: the tree t, or
// the errors.
func (l *loader) finish(t *Tree) (*Tree, error) {
	for _, f := range l.docs {
		l.diags = append(l.diags, f.diags...)
	}
	for _, d := range l.diags {
		// A file name or a tag can hold a newline; a diagnostic is one line.
		d.Summary = strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(d.Summary)
	}
	if l.diags.HasErrors() {
		return nil, l.diags.sorted()
	}
	if len(l.diags) > 0 && t != nil {
		t.Warnings = l.diags.sorted()
	}
	return t, nil
}

// ReadFile reads a tree file as Load reads it and its includes, with the
// same checks, for whoever else reads one (the loader's watcher): only a
// regular file, of at most MaxFileSize bytes, and no open that can block.
// Its errors say why, not which file: the caller says that.
func ReadFile(name string) ([]byte, error) { return readFile(name) }

// readFile reads a tree file, refusing what is not a regular file (a FIFO
// would block, /dev/zero would not end) and what is too large. What is not
// a regular file is refused before it is opened, and the open does not
// block (O_NONBLOCK) and is checked again (fstat), in case the file was
// replaced in between. Its errors say why, not which file: the caller says
// that.
func readFile(name string) ([]byte, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, unwrapPath(err)
	}
	if err := readable(fi); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, unwrapPath(err)
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, unwrapPath(err)
	}
	if err := readable(fi); err != nil {
		return nil, err
	}
	// Read it into a buffer of its size (and room to see the end), not
	// one that doubles as it goes: a file of a hundred thousand workers
	// is megabytes.
	buf := bytes.NewBuffer(make([]byte, 0, fi.Size()+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(f, int64(maxFileSize)+1)); err != nil {
		return nil, unwrapPath(err)
	}
	data := buf.Bytes()
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("too large: a tree file may have at most %d bytes", maxFileSize)
	}
	return data, nil
}

// readable refuses a file that is not regular or is too large.
func readable(fi os.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	if fi.Size() > int64(maxFileSize) {
		return fmt.Errorf("too large: %d bytes; a tree file may have at most %d", fi.Size(), maxFileSize)
	}
	return nil
}

// unwrapPath drops the *PathError's operation and path, which the message
// says already.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// loader resolves one tree: the root file and its includes.
type loader struct {
	kinds Kinds
	opts  LoadOptions
	diags Diagnostics
	files []string            // display names, in the order met
	docs  map[string]*fileDoc // by absolute path: each file is read once
	nodes int                 // nodes built so far, against MaxNodes
	// argsBad holds the kinds whose args schema does not compile, reported
	// once.
	argsBad map[string]bool
	// argsChecked holds the violations of each distinct args checked,
	// argsWarned the warnings of those the machine was checked for.
	argsChecked map[argsKey][]schema.Violation
	argsWarned  map[argsKey][]schema.Violation
	// registered holds what the load looked up of each registered kind.
	registered map[string]*kindInfo
	// record asks for reads to hold every file read or refused (see
	// LoadRead).
	record bool
	reads  []fileRead
}

// kindInfo is what a load needs of a registered kind, looked up once.
type kindInfo struct {
	ok     bool     // the kind is registered
	text   string   // its args schema
	paths  []string // its file-path properties (pathProps)
	schema *schema.Schema
	err    error // why its args schema does not compile
}

// registeredKind returns what the load needs of the registered kind name.
func (l *loader) registeredKind(name string) *kindInfo {
	if k, ok := l.registered[name]; ok {
		return k
	}
	k := &kindInfo{}
	k.text, k.ok = l.kinds.ArgsSchema(name)
	k.paths = pathProps(k.text)
	k.schema, k.err = schema.Args(k.text)
	if l.registered == nil {
		l.registered = map[string]*kindInfo{}
	}
	l.registered[name] = k
	return k
}

// readFile reads a file of the tree (see readFile), and records it when
// asked to.
func (l *loader) readFile(name string) ([]byte, error) {
	data, err := readFile(name)
	if l.record {
		l.reads = append(l.reads, fileRead{name: name, data: data, ok: err == nil})
	}
	return data, err
}

// refused records a file that opts refused (see LoadRead).
func (l *loader) refused(name string) {
	if l.record {
		l.reads = append(l.reads, fileRead{name: name})
	}
}

// fileDoc is one file of the tree, parsed, checked against the schema,
// with its kinds resolved.
type fileDoc struct {
	*document
	abs   string
	dir   string // abs's folder; "" when abs is ""
	kinds map[string]*fileKind
}

func (l *loader) load(file string, data []byte) *Tree {
	abs := file
	if file != "" {
		if a, err := filepath.Abs(file); err == nil {
			abs = a
		}
	}
	f := l.parse(file, abs, data)
	if f.root == nil {
		return nil
	}
	t := &Tree{File: file}
	root := f.root
	nameKey, nameVal := field(root, "name")
	switch {
	case nameVal != nil && !f.bad[nameVal] && deref(nameVal).Kind == yaml.ScalarNode:
		t.Name = deref(nameVal).Value
	case nameKey != nil:
		// reported by the schema
	case file == "":
		f.errorf(root, "name: missing; a tree that is not read from a file needs name:")
	default:
		base := filepath.Base(file)
		t.Name = strings.TrimSuffix(base, filepath.Ext(base))
		if !schema.ValidName(t.Name) {
			f.errorf(root, "name: the file name gives %q, which is not a valid name (lower-case letters, digits, '_', '.' and '-'); set name: in the file", t.Name)
		}
	}
	supKey, supVal := field(root, "supervisor")
	if supVal == nil || f.bad[supVal] {
		return t
	}
	t.Root = &Node{
		Name:     t.Name,
		Path:     t.Name,
		Pos:      posOf(f.name, supKey),
		Restart:  Permanent,
		Shutdown: Infinity,
	}
	l.nodes++
	w := &walker{l: l, f: f, stack: []string{f.abs}}
	t.Root.Supervisor = w.supervisor(t.Root.Path, supVal, jget(f.value, "supervisor"))
	t.Files = l.files
	return t
}

// parse parses one file of the tree (once: an include met twice is read
// once) and checks it against the schema and its kinds.
func (l *loader) parse(name, abs string, data []byte) *fileDoc {
	if f, ok := l.docs[abs]; ok {
		return f
	}
	f := &fileDoc{document: parseYAML(name, data), abs: abs}
	if abs != "" {
		f.dir = filepath.Dir(abs)
	}
	if !mayQuote(f.document) {
		hideText(f.document)
	}
	l.docs[abs] = f
	l.files = append(l.files, name)
	if f.root != nil {
		for _, v := range schema.ValidateTree(f.value) {
			l.violation(f, v)
		}
		l.resolveKinds(f)
	}
	return f
}

// violation reports a schema violation at the YAML node it names.
func (l *loader) violation(f *fileDoc, v schema.Violation) {
	toks := schema.Tokens(v.Pointer)
	node, key := nodeAt(f.root, toks)
	if f.bad[node] || f.bad[key] {
		return // one problem per value: it was reported already
	}
	at := node
	if v.AtKey && key != nil {
		at = key
	}
	if at == nil {
		at = f.root
	}
	msg := v.Message
	if !v.AtKey && len(toks) > 0 {
		msg = label(f.value, toks) + ": " + msg
	}
	f.errorf(at, "%s", msg)
	if node != nil {
		f.bad[node] = true
	}
}

// label names the value at a pointer for a person: its key, `child "web"`
// for a child, `kind "web"` for a kind, `command[1]` for an item.
func label(doc any, toks []string) string {
	last := toks[len(toks)-1]
	parent := ""
	if len(toks) > 1 {
		parent = toks[len(toks)-2]
	}
	if _, err := strconv.Atoi(last); err == nil {
		if parent == "children" {
			if m, ok := schema.Get(doc, toks).(map[string]any); ok {
				if name, ok := m["name"].(string); ok {
					return fmt.Sprintf("child %q", name)
				}
			}
		}
		return parent + "[" + last + "]"
	}
	if parent == "kinds" && len(toks) == 2 {
		return fmt.Sprintf("kind %q", last)
	}
	return last
}
