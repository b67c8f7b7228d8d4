package schema

import (
	"encoding/json"
	"regexp"
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
// fails when the parts of the schema it mirrors change).

// Patterns of the tree schema that plainWorker checks ($defs name,
// kindName, shutdown).
var shutdownPattern = regexp.MustCompile(`^(brutal_kill|infinity|(([0-9]+\.?[0-9]*|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$`)

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
	if s, ok := m["name"].(string); !ok || !IsName(s) {
		return false
	}
	if s, ok := m["kind"].(string); !ok || !isKindName(s) {
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
			if !shutdownPattern.MatchString(s) {
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

// IsName reports whether s is a valid name for the tree schema (a child's
// or the tree's): [a-z0-9][a-z0-9_.-]*.
func IsName(s string) bool {
	if s == "" || !lowerOrDigit(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !lowerOrDigit(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// isKindName matches ^[a-z][a-z0-9_-]*$.
func isKindName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !lowerOrDigit(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func lowerOrDigit(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

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

// pruned is a tree document with its plain workers taken out, and where
// each shortened children list's remaining items were: by the list's
// pointer in the document (with the indexes of the document), the
// document's index of each remaining item.
type pruned struct {
	doc   any
	kept  map[string][]int
	count int // workers taken out
	// parts are the nested supervisors taken out, each replaced by an
	// empty supervisor, to be checked on their own.
	parts []part
}

// part is a nested supervisor taken out of the document: at is its
// pointer in the document (with the document's indexes), doc the
// supervisor, pruned in turn.
type part struct {
	at  string
	doc any
}

// pruneTree returns doc with the plain workers of every supervisor's
// children taken out. doc itself is not changed: the maps and lists on the
// way to a shortened list are copied.
func pruneTree(doc any) pruned {
	p := pruned{doc: doc, kept: map[string][]int{}}
	root, ok := doc.(map[string]any)
	if !ok {
		return p
	}
	if sup, changed := p.supervisor(root["supervisor"], "/supervisor"); changed {
		root = cloneMap(root)
		root["supervisor"] = sup
		p.doc = root
	}
	return p
}

// supervisor prunes the supervisor object v at pointer at, and reports
// whether it returned a changed copy.
func (p *pruned) supervisor(v any, at string) (any, bool) {
	sup, ok := v.(map[string]any)
	if !ok {
		return v, false
	}
	kids, ok := sup["children"].([]any)
	if !ok {
		return v, false
	}
	list := at + "/children"
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
				at := list + "/" + strconv.Itoa(i) + "/supervisor"
				doc, _ := p.supervisor(nested, at)
				p.parts = append(p.parts, part{at: at, doc: doc})
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
		p.kept[list] = kept
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

// restore maps a pointer into the pruned document back to the document:
// each index into a shortened children list becomes the item's index in
// the document, outermost list first. The first from segments are the
// document's already (the place of a part).
func (p *pruned) restore(pointer string, from int) string {
	if len(p.kept) == 0 {
		return pointer
	}
	segs := strings.Split(pointer, "/")
	changed := false
	for i := max(from, 2); i < len(segs); i++ {
		if segs[i-1] != "children" {
			continue
		}
		kept, ok := p.kept[strings.Join(segs[:i], "/")]
		if !ok {
			continue
		}
		j, err := strconv.Atoi(segs[i])
		if err != nil || j < 0 || j >= len(kept) {
			continue
		}
		segs[i] = strconv.Itoa(kept[j])
		changed = true
	}
	if !changed {
		return pointer
	}
	return strings.Join(segs, "/")
}
