package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/otpctl/otpctl/schema"
)

// args merges a worker's args over its kind's (base-most kind first, the
// child's own last), checks them against the registered kind's args
// schema and returns them as canonical JSON. A dynamic supervisor's
// template may leave out required args: they can come with each child at
// run time. A pool's go to the kind's own check (CheckArgs) as its first
// member gets them, IndexVar replaced, so that a URL or an address with
// the index in it is checked as one. argsValue is argsNode as JSON values.
func (w *walker) args(wk *Worker, fk *fileKind, kindNode, argsNode *yaml.Node, argsValue any, use argsUse) json.RawMessage {
	// The layers, nearest first: the child's args, then its kinds'.
	var nodes []*yaml.Node
	var values []any
	if argsNode != nil {
		nodes, values = append(nodes, argsNode), append(values, argsValue)
	}
	if fk != nil {
		for _, k := range fk.chain {
			if k.args != nil {
				nodes, values = append(nodes, k.args), append(values, k.argsV)
			}
		}
	}
	var merged any
	switch {
	case len(values) == 1 && !hasNull(values[0]):
		merged = values[0] // nothing to merge: share the document's value
	default:
		merged = map[string]any{}
		for i := len(values) - 1; i >= 0; i-- {
			merged = mergePatch(merged, values[i])
		}
	}
	m, ok := merged.(map[string]any)
	if !ok {
		return json.RawMessage("{}") // not a mapping: the schema said so
	}
	kind := w.l.registeredKind(wk.Base)
	merged = resolvePaths(kind.paths, m, w.f.dir)
	canon := canonical(merged)

	// Many workers share their args: check each distinct pair once.
	key := argsKey{wk.Base, string(canon), use}
	violations, seen := w.l.argsChecked[key]
	if !seen {
		sch, err := kind.schema, kind.err
		if err != nil {
			if !w.l.argsBad[wk.Base] {
				w.l.argsBad[wk.Base] = true
				w.f.errorf(kindNode, "kind %q has an args schema that does not compile (a bug in the kind): %v", wk.Base, err)
			}
		} else {
			partial := false // a dynamic template that leaves required args to its children
			for _, v := range sch.ValidateCached(merged, string(canon)) {
				if use == argsTemplate && v.Keyword == "required" {
					partial = true
					continue
				}
				violations = append(violations, v)
			}
			if len(violations) == 0 && !partial {
				checked := canon
				if use == argsPool {
					checked = MemberArgs(canon, 1)
				}
				violations = w.l.checkArgs(wk.Base, checked)
			}
		}
		w.l.argsChecked[key] = violations
	}
	for _, v := range violations {
		w.argsViolation(v, nodes, kindNode, w.f.errorf)
	}
	if len(violations) == 0 && w.l.opts.Warnings && use != argsTemplate {
		warnings, seen := w.l.argsWarned[key]
		if !seen {
			checked := canon
			if use == argsPool {
				checked = MemberArgs(canon, 1)
			}
			warnings = w.l.warnArgs(wk.Base, checked)
			w.l.argsWarned[key] = warnings
		}
		for _, v := range warnings {
			w.argsViolation(v, nodes, kindNode, w.f.warnf)
		}
	}
	return canon
}

// ArgsChecker is what Kinds also is when its kinds can read args as their
// start does (a workers.Registry is one): CheckArgs returns what the start
// of the kind called name would refuse in args (merged and canonical, as
// the start gets them). The checker runs it on args the schema passed, so
// that what validates starts. An error that has the methods ArgsPointer()
// string (a JSON pointer into args) and ArgsMessage() string
// (workers.ArgError has) is reported at that arg, any other at the args;
// the errors an errors.Join joined are reported one by one.
type ArgsChecker interface {
	CheckArgs(name string, args json.RawMessage) error
}

// ArgsWarner is what Kinds also is when its kinds can check args against
// this machine (a workers.Registry is one): WarnArgs returns what would
// fail a start of the kind called name with args here though they are
// valid (a program not in PATH, a folder that does not exist), as
// CheckArgs returns its errors. Only a load with LoadOptions.Warnings
// calls it, on args that passed every check, and reports what it returns
// as warnings.
type ArgsWarner interface {
	WarnArgs(name string, args json.RawMessage) error
}

// warnArgs runs the kinds' check of this machine on args, if they have
// one, and returns its warnings as violations.
func (l *loader) warnArgs(base string, args json.RawMessage) []schema.Violation {
	c, ok := l.kinds.(ArgsWarner)
	if !ok {
		return nil
	}
	return argsViolations(c.WarnArgs(base, args))
}

// argsPlace is an error of CheckArgs that says which arg it is about.
type argsPlace interface {
	ArgsPointer() string
	ArgsMessage() string
}

// checkArgs runs the kinds' own check of args, if they have one, and
// returns its refusal as a violation.
func (l *loader) checkArgs(base string, args json.RawMessage) []schema.Violation {
	c, ok := l.kinds.(ArgsChecker)
	if !ok {
		return nil
	}
	return argsViolations(c.CheckArgs(base, args))
}

// argsViolations maps an error of CheckArgs to violations: one per error
// that errors.Join joined.
func argsViolations(err error) []schema.Violation {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []schema.Violation
		for _, e := range j.Unwrap() {
			out = append(out, argsViolations(e)...)
		}
		return out
	}
	var at argsPlace
	if errors.As(err, &at) {
		return []schema.Violation{{Pointer: at.ArgsPointer(), Message: at.ArgsMessage()}}
	}
	return []schema.Violation{{Message: strings.TrimPrefix(err.Error(), "args: ")}}
}

// argsKey names one check of args against a kind's schema.
type argsKey struct {
	base, args string
	use        argsUse
}

// argsUse is whose args are checked: a worker's, a dynamic supervisor's
// template's or a pool's members'.
type argsUse int

const (
	argsWorker argsUse = iota
	argsTemplate
	argsPool
)

// argsViolation reports an args violation at the layer that wrote the
// value at fault: the child's args, else the nearest kind's; a value no
// layer wrote (a missing key) is reported at the child's args, else at its
// kind. report is the file's errorf, or its warnf for a warning.
func (w *walker) argsViolation(v schema.Violation, layers []*yaml.Node, kindNode *yaml.Node, report func(*yaml.Node, string, ...any)) {
	toks := schema.Tokens(v.Pointer)
	var at *yaml.Node
	for _, layer := range layers {
		node, key := nodeAt(layer, toks)
		if node == nil {
			continue
		}
		at = node
		if v.AtKey && key != nil {
			at = key
		}
		break
	}
	if at == nil {
		at = kindNode
		if len(layers) > 0 {
			at = layers[0]
		}
	}
	labelToks := toks
	if v.AtKey && len(toks) > 0 {
		labelToks = toks[:len(toks)-1]
	}
	report(at, "%s: %s", argsLabel(labelToks), v.Message)
}

// argsLabel names a place in args: args.ready.tcp, args.command[1].
func argsLabel(toks []string) string {
	var b strings.Builder
	b.WriteString("args")
	for _, t := range toks {
		if _, err := strconv.Atoi(t); err == nil {
			b.WriteString("[" + t + "]")
		} else {
			b.WriteString("." + t)
		}
	}
	return b.String()
}

// MergeArgs merges over onto base as tree files merge a child's args over
// its kind's: a JSON Merge Patch (RFC 7386), objects key by key,
// recursively; null removes a key; any other value replaces. Both must be
// JSON objects (empty or null counts as {}). The result is canonical JSON,
// as Worker.Args: keys sorted, no spaces, numbers as written. The loader
// uses it for the args of a child started at run time on a dynamic
// supervisor.
func MergeArgs(base, over json.RawMessage) (json.RawMessage, error) {
	b, err := decodeObject(base)
	if err != nil {
		return nil, err
	}
	o, err := decodeObject(over)
	if err != nil {
		return nil, err
	}
	return canonical(mergePatch(b, o)), nil
}

// decodeObject decodes a JSON object, keeping numbers as written.
func decodeObject(raw json.RawMessage) (map[string]any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("not valid JSON: data after the object")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("a JSON object is expected")
	}
	return m, nil
}

// mergePatch applies patch over base as a JSON Merge Patch (RFC 7386):
// objects merge key by key, recursively; null removes a key; anything else
// replaces. base is not modified.
func mergePatch(base, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	b, _ := base.(map[string]any)
	out := make(map[string]any, len(b)+len(p))
	for k, v := range b {
		out[k] = v
	}
	for k, v := range p {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = mergePatch(out[k], v)
	}
	return out
}

// canonical encodes v as compact JSON with object keys sorted, so equal
// args are equal bytes.
func canonical(v any) json.RawMessage {
	if m, ok := v.(map[string]any); ok && len(m) == 0 {
		return json.RawMessage("{}")
	}
	return appendJSON(nil, v)
}

// appendJSON appends the canonical JSON of v, which holds JSON values only
// (maps, slices, strings, json.Number, bools, nil).
func appendJSON(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, v)
	case json.Number:
		return append(b, v...)
	case string:
		return appendString(b, v)
	case []any:
		b = append(b, '[')
		for i, x := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, x)
		}
		return append(b, ']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendJSON(b, v[k])
		}
		return append(b, '}')
	}
	// Not a JSON value: cannot come from the converter.
	enc, _ := json.Marshal(v)
	return append(b, enc...)
}

// appendString appends s as a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD, the rest as is.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0 // s[start:i] is still to be copied as is
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
		}
		b = append(b, s[start:i]...)
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default: // invalid UTF-8
			b = append(b, "\\ufffd"...)
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const hex = "0123456789abcdef"

// hasNull reports whether a JSON value holds a null anywhere.
func hasNull(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case map[string]any:
		for _, x := range v {
			if hasNull(x) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if hasNull(x) {
				return true
			}
		}
	}
	return false
}
