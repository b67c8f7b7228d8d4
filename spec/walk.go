package spec

import (
	"cmp"
	"encoding/json"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// walker builds the nodes of one file's supervisors, and checks what the
// schema cannot: names, kinds, includes, durations, significant children
// and args.
type walker struct {
	l     *loader
	f     *fileDoc
	stack []string // absolute paths of the files being included, root first
	depth int      // supervisors around the one being built, through includes
}

// MaxDepth is how deep supervisors may be nested, the root supervisor
// counting as 1, through includes (an included file's root supervisor is
// one level) and dynamic supervisors. A deeper one is refused with its
// position: nesting that deep is a generated file's mistake, and bounding
// it bounds the work of validating, diffing and steering a tree.
const MaxDepth = 64

// tooDeep reports, at n, a supervisor nested deeper than MaxDepth.
func (w *walker) tooDeep(n *yaml.Node) bool {
	if w.depth < MaxDepth {
		return false
	}
	w.f.errorf(n, "supervisor nested %d deep: at most %d supervisors may be nested (the root is 1; includes count)", w.depth+1, MaxDepth)
	return true
}

// supervisor builds the supervisor whose mapping is m, at path; mv is m
// as JSON values.
func (w *walker) supervisor(path string, m *yaml.Node, mv any) *Supervisor {
	f := w.f
	s := &Supervisor{
		Strategy:     DefaultStrategy,
		MaxFrequency: DefaultMaxFrequency,
		Period:       DefaultPeriod,
		AutoShutdown: Never,
	}
	if w.tooDeep(m) {
		return s // nothing below it is looked at
	}
	w.depth++
	defer func() { w.depth-- }()
	var children *yaml.Node
	eachField(m, func(k, v *yaml.Node) bool {
		if f.bad[v] {
			return true
		}
		switch k.Value {
		case "strategy":
			if str, ok := scalarString(v); ok {
				s.Strategy = str
			}
		case "auto_shutdown":
			if str, ok := scalarString(v); ok {
				s.AutoShutdown = str
			}
		case "max_frequency":
			if n, ok := scalarInt(v); ok {
				s.MaxFrequency = n
			}
		case "period":
			if d, ok := durationValue(f.document, v, "period"); ok {
				s.Period = d
			}
		case "backoff":
			if b, ok := backoffValue(f.document, v); ok {
				s.Backoff = b
			}
		case "children":
			children = deref(v)
		}
		return true
	}, nil, nil)
	if children == nil || children.Kind != yaml.SequenceNode {
		return s
	}
	s.Children = make([]*Node, 0, len(children.Content))
	childValues, _ := jget(mv, "children").([]any)
	// Sibling names, for duplicates: a map only for long lists.
	var byName map[string]*yaml.Node
	if len(children.Content) > 16 {
		byName = make(map[string]*yaml.Node, len(children.Content))
	}
	var names []*yaml.Node
	for i, c := range children.Content {
		if w.l.nodes >= maxNodes {
			if w.l.nodes == maxNodes {
				w.l.nodes++
				f.errorf(c, "the tree has more than %d nodes; refusing it", maxNodes)
			}
			break
		}
		var cv any
		if i < len(childValues) {
			cv = childValues[i]
		}
		n, nameNode := w.child(path, i, c, cv, s.AutoShutdown)
		if nameNode != nil {
			var first *yaml.Node
			if byName != nil {
				first = byName[n.Name]
				if first == nil {
					byName[n.Name] = nameNode
				}
			} else {
				for _, o := range names {
					if o.Value == n.Name {
						first = o
						break
					}
				}
				names = append(names, nameNode)
			}
			if first != nil {
				f.errorf(nameNode, "name: %q is already the name of a sibling (line %d); sibling names must be unique", n.Name, first.Line)
			}
		}
		s.Children = append(s.Children, n)
	}
	return s
}

// childKey numbers the keys of a child that child reads.
type childKey int

const (
	keyName childKey = iota
	keyKind
	keyArgs
	keySup
	keyInclude
	keyDynamic
	keyPool
	keyRestart
	keyShutdown
	keySignificant
	keyBackoff
	nChildKeys
)

// childKeyNames are the keys, as written, by childKey.
var childKeyNames = [nChildKeys]string{"name", "kind", "args", "supervisor", "include", "dynamic", "pool", "restart", "shutdown", "significant", "backoff"}

// childFields are a child's keys, as written, by childKey.
type childFields [nChildKeys]*yaml.Node

// child builds the i-th child of the supervisor at parent from its
// mapping c (cv as JSON values), and returns it with its name's node.
func (w *walker) child(parent string, i int, c *yaml.Node, cv any, autoShutdown string) (n *Node, nameNode *yaml.Node) {
	f := w.f
	var cf childFields
	eachField(c, func(k, v *yaml.Node) bool {
		if f.bad[v] {
			return true
		}
		if i := slices.Index(childKeyNames[:], k.Value); i >= 0 {
			cf[i] = v
		}
		return true
	}, nil, nil)
	w.l.nodes++
	n = &Node{Pos: posOf(f.name, deref(c))}
	if name, ok := scalarString(cf[keyName]); ok {
		n.Name = name
		nameNode = deref(cf[keyName])
	} else {
		n.Name = "#" + strconv.Itoa(i) // the schema reported it; keep going
	}
	n.Path = parent + "/" + n.Name

	// How the parent supervises it; a worker's kind may set defaults.
	var kindRestart string
	var kindShutdown Shutdown
	switch {
	case cf[keyKind] != nil:
		wk, fk := w.worker(cf[keyKind], cf[keyArgs], jget(cv, "args"), argsWorker)
		n.Worker = wk
		kindRestart, kindShutdown = kindDefaults(fk)
		n.Backoff = kindBackoff(fk)
	case cf[keySup] != nil:
		n.Supervisor = w.supervisor(n.Path, cf[keySup], jget(cv, "supervisor"))
	case cf[keyInclude] != nil:
		n.Supervisor = w.include(n, cf[keyInclude])
	case cf[keyDynamic] != nil:
		if w.tooDeep(cf[keyDynamic]) {
			return n, nameNode
		}
		n.Supervisor = w.dynamic(cf[keyDynamic], jget(cv, "dynamic"))
	case cf[keyPool] != nil:
		if w.tooDeep(cf[keyPool]) {
			return n, nameNode
		}
		n.Supervisor = w.pool(cf[keyPool], jget(cv, "pool"))
	default:
		return n, nameNode // the schema reported it
	}

	n.Restart = Permanent
	if kindRestart != "" {
		n.Restart = kindRestart
	}
	if s, ok := scalarString(cf[keyRestart]); ok {
		n.Restart = s
	}
	n.Shutdown = DefaultWorkerShutdown
	if n.Supervisor != nil {
		n.Shutdown = Infinity
	}
	if kindShutdown != 0 {
		n.Shutdown = kindShutdown
	}
	if cf[keyShutdown] != nil {
		if d, ok := shutdownValue(f.document, cf[keyShutdown]); ok {
			n.Shutdown = d
		}
	}
	if cf[keyBackoff] != nil {
		if b, ok := backoffValue(f.document, cf[keyBackoff]); ok {
			n.Backoff = b
		}
	}
	if cf[keySignificant] != nil {
		var sig bool
		if err := deref(cf[keySignificant]).Decode(&sig); err == nil && sig {
			n.Significant = true
			switch {
			case autoShutdown == Never:
				f.errorf(cf[keySignificant], "significant: the supervisor's auto_shutdown is never, so no child may be significant (OTP's rule); set auto_shutdown to any_significant or all_significant")
			case n.Restart == Permanent:
				f.errorf(cf[keySignificant], "significant: a permanent child cannot be significant (OTP's rule); make it transient or temporary")
			}
		}
	}
	return n, nameNode
}

// worker resolves a kind reference and its args. It returns nil for a
// kind that does not resolve (reported here or where the kind is
// declared), and the file kind used, if any.
func (w *walker) worker(kindNode, argsNode *yaml.Node, argsValue any, use argsUse) (*Worker, *fileKind) {
	f := w.f
	name, ok := scalarString(kindNode)
	if !ok {
		return nil, nil
	}
	wk := &Worker{Kind: name}
	fk := f.kinds[name]
	switch {
	case fk != nil:
		if fk.state != kindResolved {
			return nil, nil // reported at the kind
		}
		wk.Base = fk.registered
	default:
		if !w.l.registeredKind(name).ok {
			f.errorf(kindNode, "kind: %s", w.l.unknownKind(f, name))
			return nil, nil
		}
		wk.Base = name
	}
	wk.Args = w.args(wk, fk, kindNode, argsNode, argsValue, use)
	return wk, fk
}

// include mounts the root supervisor of the file that node n includes.
func (w *walker) include(n *Node, v *yaml.Node) *Supervisor {
	f := w.f
	empty := &Supervisor{Strategy: DefaultStrategy, MaxFrequency: DefaultMaxFrequency, Period: DefaultPeriod, AutoShutdown: Never}
	rel, ok := scalarString(v)
	if !ok {
		return empty
	}
	name := rel
	if !filepath.IsAbs(rel) {
		name = filepath.Join(filepath.Dir(f.name), rel)
	}
	abs, err := filepath.Abs(name)
	if err != nil {
		f.errorf(v, "include: cannot resolve %s: %v", rel, err)
		return empty
	}
	if i := slices.Index(w.stack, abs); i >= 0 {
		chain := make([]string, 0, len(w.stack)-i+1)
		for _, p := range w.stack[i:] {
			chain = append(chain, w.l.docs[p].name)
		}
		chain = append(chain, name)
		f.errorf(v, "include: %s includes itself: %s", name, strings.Join(chain, " → "))
		return empty
	}
	n.Include = name
	inc, ok := w.l.docs[abs]
	if !ok {
		if err := w.l.opts.check(name); err != nil {
			w.l.refused(name)
			f.errorf(v, "include: %s %v", name, err)
			return empty
		}
		data, err := w.l.readFile(name)
		if err != nil {
			f.errorf(v, "include: cannot read %s: %v", name, err)
			return empty
		}
		inc = w.l.parse(name, abs, data)
	}
	if inc.root == nil {
		return empty // its problems are reported
	}
	_, sup := field(inc.root, "supervisor")
	if sup == nil || inc.bad[sup] {
		return empty
	}
	sub := &walker{l: w.l, f: inc, stack: append(slices.Clip(w.stack), abs), depth: w.depth}
	return sub.supervisor(n.Path, sup, jget(inc.value, "supervisor"))
}

// dynamic builds a dynamic supervisor from its template m (mv as JSON
// values).
func (w *walker) dynamic(m *yaml.Node, mv any) *Supervisor {
	d := &Dynamic{}
	s := w.template(m, mv, argsTemplate, func(k, v *yaml.Node) {
		if k.Value == "max_children" {
			if n, ok := scalarInt(v); ok {
				d.MaxChildren = n
			}
		}
	}, &d.Kind, &d.Base, &d.Args, &d.Restart, &d.Shutdown)
	s.Dynamic = d
	return s
}

// pool builds a pool from its mapping m (mv as JSON values). The schema
// has checked the size's range and the dispatch's name.
func (w *walker) pool(m *yaml.Node, mv any) *Supervisor {
	p := &Pool{Size: 1, Dispatch: RoundRobin}
	s := w.template(m, mv, argsPool, func(k, v *yaml.Node) {
		switch k.Value {
		case "size":
			if n, ok := scalarInt(v); ok {
				p.Size = n
			}
		case "dispatch":
			if str, ok := scalarString(v); ok {
				p.Dispatch = str
			}
		}
	}, &p.Kind, &p.Base, &p.Args, &p.Restart, &p.Shutdown)
	s.Pool = p
	return s
}

// template reads what a dynamic supervisor's template and a pool share:
// the supervisor's flags (strategy, max_frequency, period, backoff (the
// kind's when it sets none); auto_shutdown is never) and its children's kind, args, restart and shutdown, which it
// sets through the pointers; other gets every other key; use says whose
// args they are.
func (w *walker) template(m *yaml.Node, mv any, use argsUse, other func(k, v *yaml.Node), kind, base *string, args *json.RawMessage, restart *string, shutdown *Shutdown) *Supervisor {
	f := w.f
	s := &Supervisor{Strategy: OneForOne, MaxFrequency: DefaultMaxFrequency, Period: DefaultPeriod, AutoShutdown: Never}
	*restart, *shutdown = Permanent, DefaultWorkerShutdown
	var kindNode, argsNode, restartNode, shutdownNode, backoffNode *yaml.Node
	eachField(m, func(k, v *yaml.Node) bool {
		if f.bad[v] {
			return true
		}
		switch k.Value {
		case "kind":
			kindNode = v
		case "args":
			argsNode = v
		case "restart":
			restartNode = v
		case "shutdown":
			shutdownNode = v
		case "strategy":
			if str, ok := scalarString(v); ok {
				s.Strategy = str
			}
		case "max_frequency":
			if n, ok := scalarInt(v); ok {
				s.MaxFrequency = n
			}
		case "period":
			if p, ok := durationValue(f.document, v, "period"); ok {
				s.Period = p
			}
		case "backoff":
			backoffNode = v
		default:
			other(k, v)
		}
		return true
	}, nil, nil)
	if kindNode != nil {
		if wk, fk := w.worker(kindNode, argsNode, jget(mv, "args"), use); wk != nil {
			*kind, *base, *args = wk.Kind, wk.Base, wk.Args
			if r, sd := kindDefaults(fk); r != "" || sd != 0 {
				*restart = cmp.Or(r, *restart)
				*shutdown = cmp.Or(sd, *shutdown)
			}
			s.Backoff = kindBackoff(fk)
		}
	}
	if backoffNode != nil {
		if b, ok := backoffValue(f.document, backoffNode); ok {
			s.Backoff = b
		}
	}
	if str, ok := scalarString(restartNode); ok {
		*restart = str
	}
	if shutdownNode != nil {
		if sd, ok := shutdownValue(f.document, shutdownNode); ok {
			*shutdown = sd
		}
	}
	return s
}

// scalarString returns a scalar's text (aliases followed).
func scalarString(n *yaml.Node) (string, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return "", false
	}
	return n.Value, true
}

func scalarInt(n *yaml.Node) (int, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return 0, false
	}
	var i int
	if err := n.Decode(&i); err != nil {
		return 0, false
	}
	return i, true
}

// maxSeconds is the longest duration, in whole seconds, a time.Duration
// holds.
const maxSeconds = math.MaxInt64 / int64(time.Second)

// durationValue reads a positive duration: a Go duration string or whole
// seconds. The schema has checked its shape; this reports what it cannot
// see (zero, overflow).
func durationValue(f *document, v *yaml.Node, what string) (time.Duration, bool) {
	if f.bad[v] {
		return 0, false
	}
	n := deref(v)
	if n == nil || n.Kind != yaml.ScalarNode {
		return 0, false
	}
	var d time.Duration
	if n.ShortTag() == "!!int" {
		secs, err := strconv.ParseInt(n.Value, 0, 64)
		if err != nil || secs > maxSeconds {
			f.errorf(v, "%s: %s seconds is longer than a duration can be (about 292 years)", what, n.Value)
			return 0, false
		}
		d = time.Duration(secs) * time.Second
	} else {
		var err error
		d, err = time.ParseDuration(n.Value)
		if err != nil {
			if strings.Contains(err.Error(), "invalid duration") && durationShape(n.Value) {
				f.errorf(v, "%s: %q is longer than a duration can be (about 292 years)", what, n.Value)
			} else {
				f.errorf(v, "%s: %q is not a duration such as 500ms, 5s or 2m", what, n.Value)
			}
			return 0, false
		}
	}
	if d <= 0 {
		f.errorf(v, "%s: must be more than 0; got %s", what, n.Value)
		return 0, false
	}
	return d, true
}

// durationShape reports whether s looks like a Go duration (so a parse
// error means it overflows).
func durationShape(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789.nsuµμmh", r) {
			return false
		}
	}
	return true
}

// shutdownValue reads a shutdown: brutal_kill, infinity or a duration.
func shutdownValue(f *document, v *yaml.Node) (Shutdown, bool) {
	if f.bad[v] {
		return 0, false
	}
	switch s, _ := scalarString(v); s {
	case "brutal_kill":
		return BrutalKill, true
	case "infinity":
		return Infinity, true
	}
	d, ok := durationValue(f, v, "shutdown")
	return Shutdown(d), ok
}

func sortedUnique(names []string) []string {
	slices.Sort(names)
	return slices.Compact(names)
}

// kindDefaults returns the restart and shutdown a file kind's chain sets
// (the nearest kind that sets one wins), or zero values.
func kindDefaults(fk *fileKind) (restart string, shutdown Shutdown) {
	if fk == nil {
		return "", 0
	}
	for _, k := range fk.chain {
		if restart == "" {
			restart = k.restart
		}
		if shutdown == 0 {
			shutdown = k.shutdown
		}
	}
	return restart, shutdown
}

// kindBackoff returns the backoff a file kind's chain sets (the nearest
// kind that sets one wins), or nil.
func kindBackoff(fk *fileKind) *Backoff {
	if fk == nil {
		return nil
	}
	for _, k := range fk.chain {
		if k.backoff != nil {
			return k.backoff
		}
	}
	return nil
}

// jget returns key of v if v is a JSON object, or nil.
func jget(v any, key string) any {
	m, _ := v.(map[string]any)
	return m[key]
}
