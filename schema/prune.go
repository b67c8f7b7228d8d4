package schema

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// A tree file of a hundred thousand workers is a hundred thousand child
// objects, nearly all of them the same plain shape: {name, kind, args},
// perhaps with restart, shutdown or significant. Checking each against the
// tree schema through the general validator costs more than reading the
// file. So ValidateTree takes out of the children lists the workers that
// plainWorker can tell are valid by a few direct checks, validates what is
// left with the schema, and maps the pointers of its violations back to the
// children's places in the document. Whatever plainWorker is not sure of
// goes through the schema, so every violation is found and worded as
// before; plainWorker only ever says "valid" of a child the schema accepts
// (TestPlainWorkerAgreesWithTheSchema checks it, and TestPlainWorkerRules
// fails when the parts of the schema it mirrors change). The patterns it
// applies are the schema's own, read from it (names.go).

// plainWorker reports whether v is a worker child the tree schema accepts
// ($defs/child with kind): a name and a kind that match their patterns,
// args that are an object (the kind's own schema checks them, elsewhere),
// and at most restart, shutdown and significant besides, each valid. It
// returns false when unsure: the schema then decides.
func plainWorker(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	if s, ok := m["name"].(string); !ok || !ValidName(s) {
		return false
	}
	if s, ok := m["kind"].(string); !ok || !ValidKindName(s) {
		return false
	}
	keys := 2
	if a, ok := m["args"]; ok {
		if _, ok := a.(map[string]any); !ok {
			return false
		}
		keys++
	}
	if r, ok := m["restart"]; ok {
		switch r {
		case "permanent", "transient", "temporary":
		default:
			return false
		}
		keys++
	}
	if s, ok := m["shutdown"]; ok {
		switch s := s.(type) {
		case string:
			if !validShutdown(s) {
				return false
			}
		case json.Number:
			if !isPositiveInteger(string(s)) {
				return false
			}
		default:
			return false
		}
		keys++
	}
	if s, ok := m["significant"]; ok {
		if _, ok := s.(bool); !ok {
			return false
		}
		keys++
	}
	return len(m) == keys // nothing else: no supervisor, include, dynamic or unknown key
}

// isPositiveInteger matches [1-9][0-9]*: an integer more than zero, as JSON
// writes it (other spellings of one are left to the schema).
func isPositiveInteger(s string) bool {
	if s == "" || s[0] < '1' || s[0] > '9' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// pruned is a tree document with its plain workers and nested
// supervisors taken out, and what is needed to map the pointers of
// violations back to the document.
type pruned struct {
	doc   any
	count int // workers taken out
	// root is the root supervisor (validated as part of doc); parts are
	// the nested supervisors taken out, each replaced by an empty
	// supervisor, to be checked on their own.
	root  *part
	parts []*part
}

// part is a supervisor of the document. Its place is kept as its
// parent's part and its index there, not as a pointer string: a string
// per supervisor from the root would cost the tree's size times its depth.
type part struct {
	parent *part // nil for the root supervisor
	index  int   // its child's index in the parent's children (the document's)
	doc    any   // the supervisor, pruned
	// kept is the document's index of each item left in its children
	// list; nil when none was taken out.
	kept []int
}

// pointer is the supervisor's JSON Pointer in the document.
func (pt *part) pointer() string {
	if pt.parent == nil {
		return "/supervisor"
	}
	return pt.parent.pointer() + "/children/" + strconv.Itoa(pt.index) + "/supervisor"
}

// restore maps rel, a pointer into the supervisor's pruned form, to the
// document's pointer: an index into its children list becomes the item's
// index in the document. Nothing deeper needs mapping: a nested
// supervisor is a part of its own.
func (pt *part) restore(rel string) string {
	if pt.kept != nil && strings.HasPrefix(rel, "/children/") {
		tok, rest, deeper := strings.Cut(rel[len("/children/"):], "/")
		if j, err := strconv.Atoi(tok); err == nil && j >= 0 && j < len(pt.kept) {
			rel = "/children/" + strconv.Itoa(pt.kept[j])
			if deeper {
				rel += "/" + rest
			}
		}
	}
	return pt.pointer() + rel
}

// restore maps a pointer into the pruned document back to the document.
func (p *pruned) restore(pointer string) string {
	if p.root == nil || !strings.HasPrefix(pointer, "/supervisor/") {
		return pointer
	}
	return p.root.restore(pointer[len("/supervisor"):])
}

// pruneTree returns doc with the plain workers of every supervisor's
// children and every nested supervisor taken out. doc itself is not
// changed: the maps and lists on the way to a shortened list are copied.
func pruneTree(doc any) pruned {
	p := pruned{doc: doc}
	root, ok := doc.(map[string]any)
	if !ok {
		return p
	}
	p.root = &part{}
	if sup, changed := p.supervisor(root["supervisor"], p.root); changed {
		root = cloneMap(root)
		root["supervisor"] = sup
		p.doc = root
	}
	return p
}

// supervisor prunes the supervisor object v of pt, and reports whether it
// returned a changed copy.
func (p *pruned) supervisor(v any, pt *part) (any, bool) {
	sup, ok := v.(map[string]any)
	if !ok {
		return v, false
	}
	kids, ok := sup["children"].([]any)
	if !ok {
		return v, false
	}
	var out []any // nil until something changes
	var kept []int
	for i, c := range kids {
		if plainWorker(c) {
			if out == nil {
				out = slices.Clone(kids[:i])
				kept = make([]int, i, len(kids))
				for j := range kept {
					kept[j] = j
				}
			}
			p.count++
			continue
		}
		// A nested supervisor is taken out, to be checked on its own, and
		// its own children are pruned too.
		if cm, ok := c.(map[string]any); ok {
			if nested, ok := cm["supervisor"].(map[string]any); ok {
				np := &part{parent: pt, index: i}
				np.doc, _ = p.supervisor(nested, np)
				p.parts = append(p.parts, np)
				cm = cloneMap(cm)
				cm["supervisor"] = map[string]any{}
				c = cm
				if out == nil {
					out = slices.Clone(kids[:i])
					kept = make([]int, i, len(kids))
					for j := range kept {
						kept[j] = j
					}
				}
			}
		}
		if out != nil {
			out = append(out, c)
			kept = append(kept, i)
		}
	}
	if out == nil {
		return v, false
	}
	if len(kept) != len(kids) {
		pt.kept = kept
	}
	sup = cloneMap(sup)
	sup["children"] = out
	return sup, true
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
