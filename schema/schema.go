package schema

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/otpctl/otpctl/internal/suggest"
)

//go:embed tree.schema.json
var treeSchema string

// TreeURL is the tree schema's $id: the address editors can fetch it from
// (`# yaml-language-server: $schema=<TreeURL>`).
const TreeURL = "https://raw.githubusercontent.com/otpctl/otpctl/main/schema/tree.schema.json"

// TreeSchema returns the JSON Schema (draft 2020-12) of a tree file, as
// `otpctl schema` prints it.
func TreeSchema() string { return treeSchema }

var tree = sync.OnceValue(func() *Schema {
	s, err := compile(TreeURL, inlineRefs(treeSchema), "")
	if err != nil {
		panic(fmt.Sprintf("schema: the embedded tree schema does not compile: %v", err))
	}
	return s
})

// supervisor is the tree schema's $defs/supervisor, which ValidateTree
// checks each nested supervisor against on its own (see pruneTree).
var supervisor = sync.OnceValue(func() *Schema {
	s, err := compile(TreeURL, inlineRefs(treeSchema), "#/$defs/supervisor")
	if err != nil {
		panic(fmt.Sprintf("schema: the embedded tree schema does not compile: %v", err))
	}
	return s
})

// ValidateTree checks a tree file, decoded into JSON values (see Schema.Validate),
// against the tree schema, and returns every violation (none when it is
// valid), sorted by pointer. Workers of the plainest shape are checked
// directly rather than by the general validator, which makes a file of a
// hundred thousand workers several times cheaper to check; the violations
// are the same.
//
// Each nested supervisor is checked on its own, against $defs/supervisor,
// with its own nested supervisors taken out in turn: the validator builds
// the location of every value and keyword it visits as a string from the
// root, so checking a tree whole costs its size times its depth; checked a
// level at a time it costs its size.
func ValidateTree(doc any) []Violation {
	p := pruneTree(doc)
	vs := tree().Validate(p.doc)
	for i := range vs {
		vs[i].Pointer = p.restore(vs[i].Pointer)
	}
	for _, part := range p.parts {
		for _, v := range supervisor().Validate(part.doc) {
			v.Pointer = part.restore(v.Pointer)
			vs = append(vs, v)
		}
	}
	return sorted(vs)
}

// Schema is a compiled JSON Schema that reports its violations in words.
// It is safe for concurrent use.
type Schema struct {
	compiled *jsonschema.Schema
	// raw is the schema document, to look up what a failed keyword asked
	// for (an enum's values, an x-message) when wording a violation.
	raw any
	// memo holds what ValidateCached found.
	memo memo
}

// memoGeneration is how many documents a Schema's memo holds before it
// starts a new generation: it keeps the documents of the current and the
// previous one, so that a reload of a tree of a hundred thousand workers,
// each with its own args, finds them all. Tests lower it.
var memoGeneration = 1 << 17

// memo is the violations of documents validated already, by their
// canonical JSON, in two generations: a document found in the old one
// moves to the current one, and when the current one is full the old one
// is dropped. It holds at most 2×memoGeneration documents.
type memo struct {
	mu       sync.Mutex
	cur, old map[string][]Violation
}

func (m *memo) get(key string) ([]Violation, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if vs, ok := m.cur[key]; ok {
		return vs, true
	}
	vs, ok := m.old[key]
	if ok {
		m.put(key, vs)
	}
	return vs, ok
}

// put records key's violations; m.mu is held.
func (m *memo) put(key string, vs []Violation) {
	if len(m.cur) >= memoGeneration || m.cur == nil {
		m.old, m.cur = m.cur, make(map[string][]Violation)
	}
	m.cur[key] = vs
}

// ValidateCached is Validate of doc, whose canonical JSON is canon (object
// keys sorted, no spaces, numbers and strings as written: two documents
// with the same canon are the same document). The violations of each
// canon are remembered, so a document checked before, by this load or an
// earlier one (a reload of the same tree), is not validated again. The
// slice returned is shared: do not change it.
func (s *Schema) ValidateCached(doc any, canon string) []Violation {
	if vs, ok := s.memo.get(canon); ok {
		return vs
	}
	vs := s.Validate(doc)
	s.memo.mu.Lock()
	s.memo.put(canon, vs)
	s.memo.mu.Unlock()
	return vs
}

// Compile compiles a JSON Schema (draft 2020-12 unless it says otherwise
// with $schema). url names it in errors and resolves its relative $refs;
// references to any other document are refused, so compiling never reads
// a file or the network.
func Compile(url, text string) (*Schema, error) { return compile(url, text, "") }

// compile compiles the schema at fragment (a "#/json/pointer", or "" for
// the whole document) of the schema document text.
func compile(url, text, fragment string) (*Schema, error) {
	raw, err := Decode([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", url, err)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	c.LoadURL = func(s string) (io.ReadCloser, error) {
		return nil, fmt.Errorf("refusing to load %s: a schema may refer only to itself", s)
	}
	if err := c.AddResource(url, strings.NewReader(text)); err != nil {
		return nil, fmt.Errorf("schema %s: %w", url, err)
	}
	compiled, err := c.Compile(url + fragment)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", url, err)
	}
	return &Schema{compiled: compiled, raw: raw}, nil
}

var argsCache sync.Map // schema text → *argsEntry

type argsEntry struct {
	once   sync.Once
	schema *Schema
	err    error
}

// Args returns the compiled form of a kind's args schema. Each distinct
// schema text is compiled once and kept for the life of the program, so
// checking the args of a hundred thousand workers of one kind compiles its
// schema once.
func Args(text string) (*Schema, error) {
	e, _ := argsCache.LoadOrStore(text, &argsEntry{})
	entry := e.(*argsEntry)
	entry.once.Do(func() {
		entry.schema, entry.err = Compile("urn:otpctl:args", text)
	})
	return entry.schema, entry.err
}

// Decode decodes JSON into the values Validate takes: maps, slices,
// strings, json.Number, bools and nil. Exactly one JSON value is allowed.
func Decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("more than one JSON value")
	}
	return v, nil
}

// Violation is one way a document breaks a schema.
type Violation struct {
	// Pointer is the JSON Pointer (RFC 6901) of the value at fault, or of
	// the key at fault when AtKey is set; "" is the whole document.
	Pointer string
	// AtKey is set when the fault is the key named by Pointer's last
	// token rather than its value: an unknown key, a key that needs
	// another, a key that breaks propertyNames.
	AtKey bool
	// Keyword is the JSON Schema keyword that failed ("enum", "type",
	// "required", "additionalProperties", ...).
	Keyword string
	// Message says what is wrong for a person, without naming the value's
	// place: `must be one of one_for_one, one_for_all, rest_for_one; got
	// "one_for_any"`, `unknown key "stratgy" (did you mean "strategy"?)`.
	Message string
}

// String reads POINTER: MESSAGE.
func (v Violation) String() string {
	p := v.Pointer
	if p == "" {
		p = "/"
	}
	return p + ": " + v.Message
}

// Validate checks doc, a value of JSON types (map[string]any, []any,
// string, json.Number or float64 or int, bool, nil; see Decode), and
// returns every violation, sorted by pointer. Nested failures (a $ref, an
// allOf, the best branch of a oneOf) are followed down to the values at
// fault.
func (s *Schema) Validate(doc any) []Violation {
	err := s.compiled.Validate(doc)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []Violation{{Message: err.Error()}}
	}
	w := &worder{s: s, doc: doc}
	w.walk(ve)
	return sorted(w.out)
}

// sorted sorts violations by pointer, then message, and drops repeats (two
// branches of a schema can fail the same way; say it once).
func sorted(out []Violation) []Violation {
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Pointer != out[j].Pointer {
			return out[i].Pointer < out[j].Pointer
		}
		return out[i].Message < out[j].Message
	})
	uniq := out[:0]
	for i, v := range out {
		if i == 0 || v != out[i-1] {
			uniq = append(uniq, v)
		}
	}
	return uniq
}

// worder turns a tree of jsonschema errors into worded violations.
type worder struct {
	s   *Schema
	doc any
	out []Violation
}

func (w *worder) walk(ve *jsonschema.ValidationError) {
	kw := lastToken(ve.KeywordLocation)
	if (kw == "oneOf" || kw == "anyOf") && len(ve.Causes) > 0 {
		w.alternatives(ve, kw)
		return
	}
	if len(ve.Causes) == 0 {
		w.leaf(ve)
		return
	}
	for _, c := range ve.Causes {
		w.walk(c)
	}
}

// alternatives words a oneOf or anyOf none of whose branches matched.
func (w *worder) alternatives(ve *jsonschema.ValidationError, kw string) {
	branches, _ := w.s.lookup(ve.AbsoluteKeywordLocation).([]any)
	// Branches that only require a key: "needs one of kind, supervisor, ...".
	if keys := requiredOnly(branches); keys != nil {
		w.add(ve.InstanceLocation, false, kw, "needs one of "+orList(keys))
		return
	}
	// Branches that failed on the value's type alone: "must be a string or
	// an integer; got a list".
	var deep []*jsonschema.ValidationError
	var types []string
	for _, c := range ve.Causes {
		if t, ok := w.typeOnly(c, ve.InstanceLocation); ok {
			types = append(types, t...)
			continue
		}
		deep = append(deep, c)
	}
	if len(deep) == 0 {
		w.add(ve.InstanceLocation, false, "type",
			"must be "+typeList(types)+"; got "+describe(w.value(ve.InstanceLocation)))
		return
	}
	// Otherwise the branch that got furthest into the value is the one the
	// author meant.
	best, bestDepth := deep[0], -1
	for _, c := range deep {
		if d := deepest(c); d > bestDepth {
			best, bestDepth = c, d
		}
	}
	w.walk(best)
}

// typeOnly reports whether a branch failed only because the value at loc
// has the wrong type, and which types it wanted.
func (w *worder) typeOnly(ve *jsonschema.ValidationError, loc string) ([]string, bool) {
	if len(ve.Causes) > 0 {
		var all []string
		for _, c := range ve.Causes {
			t, ok := w.typeOnly(c, loc)
			if !ok {
				return nil, false
			}
			all = append(all, t...)
		}
		return all, true
	}
	if lastToken(ve.KeywordLocation) != "type" || ve.InstanceLocation != loc {
		return nil, false
	}
	return typeNames(w.s.lookup(ve.AbsoluteKeywordLocation)), true
}

func deepest(ve *jsonschema.ValidationError) int {
	d := strings.Count(ve.InstanceLocation, "/")
	for _, c := range ve.Causes {
		d = max(d, deepest(c))
	}
	return d
}

func requiredOnly(branches []any) []string {
	if len(branches) == 0 {
		return nil
	}
	var keys []string
	for _, b := range branches {
		m, ok := b.(map[string]any)
		if !ok || len(m) != 1 {
			return nil
		}
		req, ok := m["required"].([]any)
		if !ok || len(req) != 1 {
			return nil
		}
		k, ok := req[0].(string)
		if !ok {
			return nil
		}
		keys = append(keys, k)
	}
	return keys
}

// leaf words one failed keyword.
func (w *worder) leaf(ve *jsonschema.ValidationError) {
	loc := ve.InstanceLocation
	toks := tokens(ve.KeywordLocation)
	kw := ""
	if len(toks) > 0 {
		kw = toks[len(toks)-1]
	}
	// The schema object that holds the failed keyword.
	abs := ve.AbsoluteKeywordLocation
	owner, _ := w.s.lookup(parentLocation(abs)).(map[string]any)
	val := w.value(loc)
	got := "; got " + describe(val)

	switch {
	case len(toks) >= 3 && (toks[len(toks)-3] == "dependentRequired" || toks[len(toks)-3] == "dependencies"):
		// .../dependentRequired/<key>/<i>: <key> needs another key.
		key := toks[len(toks)-2]
		need, _ := w.s.lookup(abs).(string)
		w.add(join(loc, key), true, toks[len(toks)-3], fmt.Sprintf("%s is only allowed together with %s", key, need))
		return
	case containsToken(toks, "propertyNames"):
		// The library validates the key as if it were the value at loc.
		key := lastToken(loc)
		msg := keywordMessage(kw, owner, key)
		if m, ok := owner["x-message"].(string); ok {
			msg = m
		}
		w.add(loc, true, "propertyNames", fmt.Sprintf("%s; got %q", msg, key))
		return
	}

	if kw == "additionalProperties" {
		w.unknownKeys(loc, owner)
		return
	}
	if ve.Message == "not allowed" {
		// A false schema: a key that may not be here.
		if n := len(toks); n >= 4 && toks[n-4] == "dependentSchemas" && toks[n-2] == "properties" {
			// dependentSchemas/<key>/properties/<other>: false
			w.add(loc, true, "dependentSchemas", fmt.Sprintf("%s is not allowed together with %s", toks[n-1], toks[n-3]))
			return
		}
		kind := "additionalProperties"
		if len(toks) > 0 {
			kind = toks[len(toks)-1]
		}
		if len(toks) > 1 && (toks[len(toks)-2] == "properties") {
			w.add(loc, true, "false", fmt.Sprintf("key %q is not allowed here", lastToken(loc)))
			return
		}
		w.add(loc, true, kind, unknownKey(lastToken(loc), owner))
		return
	}
	if m, ok := owner["x-message"].(string); ok && kw == "required" {
		w.add(loc, false, kw, m)
		return
	}
	if kw == "required" {
		obj, _ := val.(map[string]any)
		req, _ := owner["required"].([]any)
		for _, r := range req {
			name, _ := r.(string)
			if _, ok := obj[name]; !ok {
				w.add(loc, false, "required", fmt.Sprintf("missing required key %q", name))
			}
		}
		return
	}
	if kw == "oneOf" {
		// Valid against more than one branch.
		branches, _ := w.s.lookup(abs).([]any)
		if keys := requiredOnly(branches); keys != nil {
			obj, _ := val.(map[string]any)
			var has []string
			for _, k := range keys {
				if _, ok := obj[k]; ok {
					has = append(has, k)
				}
			}
			w.add(loc, false, kw, fmt.Sprintf("has %s, but only one of %s is allowed", andList(has), orList(keys)))
			return
		}
		w.add(loc, false, kw, "matches more than one of the allowed forms")
		return
	}
	if m, ok := owner["x-message"].(string); ok {
		w.add(loc, false, kw, m+got)
		return
	}
	msg := keywordMessage(kw, owner, val)
	if msg == "" {
		msg = ve.Message
	}
	w.add(loc, false, kw, msg+got)
}

// keywordMessage words what keyword kw of schema object owner asks for, or
// returns "" for keywords it does not know.
func keywordMessage(kw string, owner map[string]any, val any) string {
	num := func(k string) string { return jsonText(owner[k]) }
	count := func(k string) int {
		n, _ := strconv.Atoi(num(k))
		return n
	}
	switch kw {
	case "type":
		return "must be " + typeList(typeNames(owner["type"]))
	case "enum":
		vals, _ := owner["enum"].([]any)
		parts := make([]string, len(vals))
		for i, v := range vals {
			if s, ok := v.(string); ok {
				parts[i] = s
			} else {
				parts[i] = jsonText(v)
			}
		}
		return "must be one of " + strings.Join(parts, ", ")
	case "const":
		return "must be " + jsonText(owner["const"])
	case "pattern":
		return "must match the pattern " + num("pattern")
	case "minimum":
		return "must be at least " + num("minimum")
	case "exclusiveMinimum":
		return "must be more than " + num("exclusiveMinimum")
	case "maximum":
		return "must be at most " + num("maximum")
	case "exclusiveMaximum":
		return "must be less than " + num("exclusiveMaximum")
	case "multipleOf":
		return "must be a multiple of " + num("multipleOf")
	case "minLength":
		if count("minLength") == 1 {
			return "must not be empty"
		}
		return "must be at least " + num("minLength") + " characters long"
	case "maxLength":
		return "must be at most " + num("maxLength") + " characters long"
	case "minItems":
		if count("minItems") == 1 {
			return "must not be empty"
		}
		return "must have at least " + num("minItems") + " items"
	case "maxItems":
		return "must have at most " + num("maxItems") + " items"
	case "minProperties":
		if count("minProperties") == 1 {
			return "must not be empty"
		}
		return "must have at least " + num("minProperties") + " keys"
	case "maxProperties":
		return "must have at most " + num("maxProperties") + " keys"
	case "uniqueItems":
		return "must not repeat an item"
	case "format":
		return "must be a valid " + jsonText(owner["format"])
	case "not":
		return "is not allowed here"
	}
	return ""
}

// unknownKeys reports each key of the object at loc that the schema object
// owner neither lists in properties nor matches with patternProperties.
func (w *worder) unknownKeys(loc string, owner map[string]any) {
	obj, _ := w.value(loc).(map[string]any)
	for key := range obj {
		if known(key, owner) {
			continue
		}
		w.add(join(loc, key), true, "additionalProperties", unknownKey(key, owner))
	}
}

func unknownKey(key string, owner map[string]any) string {
	msg := fmt.Sprintf("unknown key %q", key)
	props, _ := owner["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	sort.Strings(names)
	if s := suggest.Closest(key, names); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	} else if len(names) > 0 && len(names) <= 10 {
		msg += "; expected one of " + strings.Join(names, ", ")
	}
	return msg
}

func known(key string, owner map[string]any) bool {
	if props, ok := owner["properties"].(map[string]any); ok {
		if _, ok := props[key]; ok {
			return true
		}
	}
	pats, _ := owner["patternProperties"].(map[string]any)
	for p := range pats {
		if re, err := compileRegexp(p); err == nil && re.MatchString(key) {
			return true
		}
	}
	return false
}

// add records a violation. pointer is in the library's form; the
// violation's is plain RFC 6901.
func (w *worder) add(pointer string, atKey bool, kw, msg string) {
	var b strings.Builder
	for _, tok := range tokens(pointer) {
		b.WriteString("/")
		b.WriteString(EscapeToken(tok))
	}
	w.out = append(w.out, Violation{Pointer: b.String(), AtKey: atKey, Keyword: kw, Message: msg})
}

// value returns the value of the document at a pointer in the library's
// form, or nil.
func (w *worder) value(pointer string) any { return Get(w.doc, tokens(pointer)) }

// lookup returns the part of the schema document an absolute keyword
// location (URL#/json/pointer) names, or nil.
func (s *Schema) lookup(abs string) any {
	frag := abs
	if i := strings.IndexByte(abs, '#'); i >= 0 {
		frag = abs[i+1:]
	}
	return Get(s.raw, tokens(frag))
}

// Get returns the value that the tokens of a JSON Pointer (see Tokens)
// name in doc, a value of JSON types, or nil when they name nothing.
func Get(doc any, toks []string) any {
	v := doc
	for _, tok := range toks {
		switch x := v.(type) {
		case map[string]any:
			v = x[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// Tokens splits a JSON Pointer (RFC 6901), such as a Violation's, into
// its unescaped tokens: "/env/A~1B" is ["env", "A/B"]; "" is none.
func Tokens(pointer string) []string {
	if pointer == "" {
		return nil
	}
	// "/" is the key "", not the whole document.
	parts := strings.Split(strings.TrimPrefix(pointer, "/"), "/")
	for i, p := range parts {
		parts[i] = unescapeToken(p)
	}
	return parts
}

// tokens splits a pointer in the library's form: RFC 6901 tokens that
// are also URL-escaped ("a b" is "a%20b").
func tokens(pointer string) []string {
	if pointer == "" {
		return nil
	}
	// "/" is the key "", not the whole document.
	parts := strings.Split(strings.TrimPrefix(pointer, "/"), "/")
	for i, p := range parts {
		if strings.ContainsRune(p, '%') {
			if u, err := url.PathUnescape(p); err == nil {
				p = u
			}
		}
		parts[i] = unescapeToken(p)
	}
	return parts
}

func unescapeToken(t string) string {
	if !strings.ContainsRune(t, '~') {
		return t
	}
	return strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
}

// EscapeToken escapes a key for use as a JSON Pointer token (RFC 6901).
func EscapeToken(key string) string {
	if !strings.ContainsAny(key, "~/") {
		return key
	}
	return strings.ReplaceAll(strings.ReplaceAll(key, "~", "~0"), "/", "~1")
}

// join appends a key to a pointer in the library's form.
func join(pointer, key string) string { return pointer + "/" + url.PathEscape(EscapeToken(key)) }

func lastToken(pointer string) string {
	t := tokens(pointer)
	if len(t) == 0 {
		return ""
	}
	return t[len(t)-1]
}

func parentLocation(abs string) string {
	if i := strings.LastIndexByte(abs, '/'); i >= 0 && i > strings.IndexByte(abs, '#') {
		return abs[:i]
	}
	return abs
}

func containsToken(toks []string, t string) bool {
	for _, x := range toks {
		if x == t {
			return true
		}
	}
	return false
}

func typeNames(t any) []string {
	switch t := t.(type) {
	case string:
		return []string{t}
	case []any:
		out := make([]string, 0, len(t))
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// typeList words JSON types for a YAML author: "a string or an integer".
func typeList(types []string) string {
	seen := map[string]bool{}
	var words []string
	for _, t := range types {
		if seen[t] {
			continue
		}
		seen[t] = true
		words = append(words, typeWord(t))
	}
	return orList(words)
}

func typeWord(t string) string {
	switch t {
	case "string":
		return "a string"
	case "integer":
		return "an integer"
	case "number":
		return "a number"
	case "boolean":
		return "true or false"
	case "object":
		return "a mapping"
	case "array":
		return "a list"
	case "null":
		return "empty"
	}
	return t
}

func orList(words []string) string  { return wordList(words, "or") }
func andList(words []string) string { return wordList(words, "and") }

func wordList(words []string, conj string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + conj + " " + words[len(words)-1]
}

// describe words a value for "got ...": strings quoted (and shortened),
// numbers and bools as written, containers by their YAML name.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "nothing"
	case string:
		if len(v) > 60 {
			v = v[:57] + "..."
		}
		return strconv.Quote(v)
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	}
	return jsonText(v)
}

func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

var regexps sync.Map // pattern → *regexp.Regexp or error

func compileRegexp(p string) (*regexp.Regexp, error) {
	if v, ok := regexps.Load(p); ok {
		if re, ok := v.(*regexp.Regexp); ok {
			return re, nil
		}
		return nil, v.(error)
	}
	re, err := regexp.Compile(p)
	if err != nil {
		regexps.Store(p, err)
		return nil, err
	}
	regexps.Store(p, re)
	return re, nil
}

// inlineRefs returns the schema text with every "$ref" to a definition
// that refers to nothing replaced by that definition's keywords, repeated
// until none is left. The schema means the same, and validating it takes
// fewer steps: the validator makes a separate pass, with its allocations,
// for each $ref it follows, and a tree of 100,000 workers follows many.
// Recursive definitions (supervisor, child) stay references.
func inlineRefs(text string) string {
	var doc map[string]any
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return text
	}
	defs, _ := doc["$defs"].(map[string]any)
	for changed := true; changed; {
		changed = false
		var walk func(v any) any
		walk = func(v any) any {
			switch x := v.(type) {
			case map[string]any:
				if ref, ok := x["$ref"].(string); ok && strings.HasPrefix(ref, "#/$defs/") {
					if def, ok := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any); ok && !hasRef(def) {
						out := make(map[string]any, len(def)+len(x))
						for k, d := range def {
							out[k] = d
						}
						for k, d := range x {
							if k != "$ref" {
								out[k] = d
							}
						}
						changed = true
						return out
					}
				}
				for k, d := range x {
					x[k] = walk(d)
				}
			case []any:
				for i, d := range x {
					x[i] = walk(d)
				}
			}
			return v
		}
		walk(doc)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return text
	}
	return string(out)
}

func hasRef(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["$ref"]; ok {
			return true
		}
		for _, d := range x {
			if hasRef(d) {
				return true
			}
		}
	case []any:
		for _, d := range x {
			if hasRef(d) {
				return true
			}
		}
	}
	return false
}
