package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Limits that keep a hostile or broken file from costing more than it
// should. Reading a tree file is part of every reload, so it must stay
// cheap whatever the file says.
const (
	// MaxFileSize is the largest tree file read (32 MiB).
	MaxFileSize = 32 << 20
	// MaxNodes is the most nodes a tree may have, includes and aliases
	// counted: a file that includes another twice, which includes another
	// twice, ... grows exponentially, as aliases can (a "billion laughs").
	MaxNodes = 1_000_000
	// maxAliasNodes bounds the YAML nodes that aliases may add on top of a
	// document's own (aliasFactor times its own, at least minAliasNodes,
	// at most maxAliasNodes).
	aliasFactor   = 100
	minAliasNodes = 10_000
	maxAliasNodes = 1_000_000
	// syntaxSearchMax is the largest file in which a syntax error is
	// located by re-parsing prefixes (yaml.v3's line numbers are often
	// off, and it reports no columns): a few parses of the file in the
	// usual case, about log2(lines) at worst.
	syntaxSearchMax = 1 << 20
)

// maxFileSize and maxNodes are MaxFileSize and MaxNodes; tests lower
// them.
var (
	maxFileSize = MaxFileSize
	maxNodes    = MaxNodes
)

// document is one parsed YAML file: its top node and the same content as
// JSON values, for the schemas.
type document struct {
	name  string     // as shown in diagnostics
	root  *yaml.Node // the document's top value; nil when unusable
	value any        // root as JSON values
	diags Diagnostics
	// top is the top node yaml.v3 read, even when root is nil (the
	// document was refused); for a file that is not valid YAML, the top
	// node of the lines before the error, when they are. mayQuote judges
	// the file by it.
	top *yaml.Node
	// syntax is set when the file is not valid YAML.
	syntax bool
	// bad holds the nodes already reported, so later checks do not
	// report a second problem on the same value.
	bad map[*yaml.Node]bool
}

// warnf reports a warning at n (it does not mark n bad: it is valid).
func (d *document) warnf(n *yaml.Node, format string, args ...any) {
	d.diags = append(d.diags, &Diagnostic{Pos: posOf(d.name, n), Severity: SeverityWarning, Summary: fmt.Sprintf(format, args...)})
}

func (d *document) errorf(n *yaml.Node, format string, args ...any) {
	d.diags = append(d.diags, &Diagnostic{
		Pos:      posOf(d.name, n),
		Severity: SeverityError,
		Summary:  fmt.Sprintf(format, args...),
	})
	if n != nil {
		d.bad[n] = true
	}
}

func posOf(file string, n *yaml.Node) Pos {
	if n == nil || n.Line < 1 {
		return Pos{File: file, Line: 1, Col: 1}
	}
	return Pos{File: file, Line: n.Line, Col: max(n.Column, 1)}
}

// parseYAML parses data into a document: one YAML document, no duplicate
// keys, no tags JSON cannot hold, aliases within budget. On a problem that
// leaves nothing to check, root is nil.
func parseYAML(name string, data []byte) (doc *document) {
	doc = &document{name: name, bad: map[*yaml.Node]bool{}}
	at1 := Pos{File: name, Line: 1, Col: 1}
	if len(data) > maxFileSize {
		doc.diags = append(doc.diags, &Diagnostic{Pos: at1, Severity: SeverityError,
			Summary: fmt.Sprintf("file is too large: %d bytes; a tree file may have at most %d", len(data), maxFileSize)})
		return doc
	}
	root, second, err := decodeYAML(data)
	if err != nil {
		var line, col int
		var msg string
		line, col, msg, doc.top = locateSyntaxError(data, err)
		doc.syntax = true
		doc.diags = append(doc.diags, &Diagnostic{Pos: Pos{File: name, Line: line, Col: col},
			Severity: SeverityError, Summary: msg})
		return doc
	}
	doc.top = root
	if root == nil {
		doc.diags = append(doc.diags, &Diagnostic{Pos: at1, Severity: SeverityError,
			Summary: "file is empty; a tree file needs at least version: 1 and supervisor:"})
		return doc
	}
	if second != nil {
		doc.errorf(second, "a tree file holds one YAML document; a second one starts here")
	}
	c := &converter{doc: doc, active: map[*yaml.Node]bool{}}
	c.budget = countNodes(root)
	c.budget += min(max(aliasFactor*c.budget, minAliasNodes), maxAliasNodes)
	c.limit = c.budget
	v, ok := c.value(root)
	if !ok {
		return doc // an alias bomb or cycle: nothing sensible to check
	}
	doc.root, doc.value = root, v
	return doc
}

// decodeYAML returns the first document's top node (nil when the file has
// no content) and the second document's, if any. yaml.v3 can panic on
// some inputs; that is a syntax error too.
func decodeYAML(data []byte) (root, second *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			root, second, err = nil, nil, fmt.Errorf("yaml: the parser failed: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var first yaml.Node
	if err := dec.Decode(&first); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, nil
		}
		return nil, nil, err
	}
	var next yaml.Node
	if err := dec.Decode(&next); err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, err
	} else if err == nil {
		second = &next
		if len(next.Content) > 0 {
			second = next.Content[0]
		}
	}
	if len(first.Content) == 0 {
		return nil, second, nil
	}
	root = first.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" && root.Value == "" {
		return nil, second, nil // "---" and nothing else
	}
	return root, second, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

// syntaxMessage splits a yaml.v3 error into its line (0 when it gives
// none) and its message.
func syntaxMessage(err error) (line int, msg string) {
	msg = err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		msg = msg[len(m[0]):]
		if m[1] != "" {
			line, _ = strconv.Atoi(m[1])
		}
	}
	return line, msg
}

// prefixes parses the prefixes of whole lines of a file, each once.
type prefixes struct {
	data   []byte
	starts []int // where each line starts
	parsed map[int]prefix
}

type prefix struct {
	top *yaml.Node
	err error
}

// parse parses the first k lines.
func (p *prefixes) parse(k int) prefix {
	if r, ok := p.parsed[k]; ok {
		return r
	}
	end := len(p.data)
	if k < len(p.starts) {
		end = p.starts[k]
	}
	var r prefix
	r.top, _, r.err = decodeYAML(p.data[:end])
	p.parsed[k] = r
	return r
}

// locateSyntaxError finds where a yaml.v3 error is and words it; before
// is the top node of the lines before it, when they parse. yaml.v3 says
// "yaml: line N: msg", where N is often the line of the enclosing
// construct or the one before the problem, or no line at all. So, in
// files small enough, find the shortest prefix of whole lines that fails
// with the same message (firstLine): its last line is where the problem
// is. The column is that line's first character that is not
// indentation, or the tab or alias the message is about.
func locateSyntaxError(data []byte, err error) (line, col int, msg string, before *yaml.Node) {
	line, msg = syntaxMessage(err)
	p := &prefixes{data: data, starts: lineStarts(data), parsed: map[int]prefix{}}
	n := len(p.starts)
	if len(data) <= syntaxSearchMax {
		line = firstLine(n, line, func(k int) bool { // does the prefix of k lines fail the same way?
			r := p.parse(k)
			if r.err == nil {
				return false
			}
			_, m := syntaxMessage(r.err)
			return m == msg
		})
	}
	line = min(max(line, 1), n)
	if line > 1 {
		if r := p.parse(line - 1); r.err == nil {
			before = r.top
		}
	}
	text := lineText(data, p.starts, line)
	col = 1
	// Point at the first character that is not indentation.
	for i, r := range text {
		if r != ' ' {
			col = i + 1
			break
		}
	}
	switch {
	case strings.Contains(msg, "tab") || strings.Contains(msg, "cannot start any token"):
		if i := strings.IndexByte(text, '\t'); i >= 0 && strings.TrimLeft(text[:i], " ") == "" {
			return line, i + 1, "tab character in indentation; YAML indents with spaces only", before
		}
	case strings.HasPrefix(msg, "unknown anchor '"):
		anchor := strings.TrimSuffix(strings.TrimPrefix(msg, "unknown anchor '"), "' referenced")
		if i := strings.Index(text, "*"+anchor); i >= 0 {
			col = i + 1
		}
		return line, col, fmt.Sprintf("alias *%s refers to no anchor &%s before it", anchor, anchor), before
	}
	return line, col, "invalid YAML: " + msg, before
}

// firstLine returns the least k in [1, n] for which fails(k) holds, given
// that fails(n) does and that fails holds from some k on. It tries guess
// (yaml.v3's line) and its neighbour first, which are usually the answer,
// then searches by halves what is left: two calls in the usual case,
// about log2(n) at worst.
func firstLine(n, guess int, fails func(k int) bool) int {
	lo, hi := 1, n
	switch {
	case guess < 1 || guess >= n:
	case fails(guess):
		if guess == 1 || !fails(guess-1) {
			return guess
		}
		hi = guess - 1
	default:
		lo = guess + 1
		if lo == n || fails(lo) {
			return lo
		}
		lo++
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, b := range data {
		if b == '\n' && i+1 < len(data) {
			starts = append(starts, i+1)
		}
	}
	return starts
}

func lineText(data []byte, starts []int, line int) string {
	s := starts[line-1]
	e := len(data)
	if line < len(starts) {
		e = starts[line]
	}
	return strings.TrimRight(string(data[s:e]), "\r\n")
}

// countNodes counts the nodes of a document as written (aliases not
// followed).
func countNodes(n *yaml.Node) int {
	c := 1
	for _, k := range n.Content {
		c += countNodes(k)
	}
	return c
}

// converter turns YAML nodes into JSON values (map[string]any, []any,
// string, json.Number, bool, nil), reporting what JSON cannot hold.
type converter struct {
	doc     *document
	budget  int                 // nodes that may still be produced
	limit   int                 // the budget at the start
	active  map[*yaml.Node]bool // anchors being expanded, to catch cycles
	aliases []*yaml.Node        // aliases being followed, outermost first
	quiet   bool                // do not report (the document was checked)
}

func (c *converter) errorf(n *yaml.Node, format string, args ...any) {
	if !c.quiet {
		c.doc.errorf(n, format, args...)
	}
}

// value converts n. ok is false when the document is refused (too many
// aliases, an alias cycle); other problems are reported and the value
// replaced by nil.
func (c *converter) value(n *yaml.Node) (v any, ok bool) {
	if c.budget--; c.budget < 0 {
		if len(c.aliases) > 0 {
			n = c.aliases[0] // the alias that set off the expansion
		}
		c.errorf(n, "too many aliases: expanding them would make this document more than %d nodes; refusing it", c.limit)
		return nil, false
	}
	if n.Anchor != "" {
		c.active[n] = true
		defer delete(c.active, n)
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, true
		}
		if c.active[n.Alias] {
			c.errorf(n, "alias *%s refers to a value that contains it", n.Value)
			return nil, false
		}
		c.aliases = append(c.aliases, n)
		v, ok := c.value(n.Alias)
		c.aliases = c.aliases[:len(c.aliases)-1]
		return v, ok
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, true
		}
		return c.value(n.Content[0])
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, item := range n.Content {
			v, ok := c.value(item)
			if !ok {
				return nil, false
			}
			out = append(out, v)
		}
		return out, true
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		ok := true
		eachField(n, func(k, val *yaml.Node) bool {
			key, good := c.key(k)
			if !good {
				return true
			}
			v, good := c.value(val)
			if !good {
				ok = false
				return false
			}
			out[key] = v
			return true
		}, func(first, dup *yaml.Node) {
			c.errorf(dup, "duplicate key %q (first at line %d)", dup.Value, first.Line)
		}, func(at *yaml.Node, msg string) {
			c.errorf(at, "%s", msg)
		})
		if !ok {
			return nil, false
		}
		return out, true
	case yaml.ScalarNode:
		return c.scalar(n), true
	}
	return nil, true
}

func (c *converter) key(k *yaml.Node) (string, bool) {
	if k.Kind != yaml.ScalarNode {
		c.errorf(k, "a key must be a plain value, not a %s", kindWord(k))
		return "", false
	}
	return k.Value, true
}

func kindWord(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "value"
}

// scalar converts a scalar the way yaml.v3 resolves it, as JSON.
func (c *converter) scalar(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!str", "!!timestamp", "!!binary":
		return n.Value
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return n.Value
		}
		return b
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
			return json.Number(strconv.FormatInt(i, 10))
		}
		var i any
		if err := n.Decode(&i); err == nil {
			switch i := i.(type) {
			case int:
				return json.Number(strconv.Itoa(i))
			case int64:
				return json.Number(strconv.FormatInt(i, 10))
			case uint64:
				return json.Number(strconv.FormatUint(i, 10))
			}
		}
		if b, ok := new(big.Int).SetString(strings.ReplaceAll(n.Value, "_", ""), 0); ok {
			return json.Number(b.String())
		}
		return n.Value
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return n.Value
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			c.errorf(n, "%s is not a number JSON can hold", n.Value)
			return nil
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
	}
	c.errorf(n, "unsupported YAML tag %s", n.Tag)
	return nil
}

// deref follows aliases.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge"
}

// eachField calls f with each key and value of mapping m, aliases in
// values not followed, until f returns false. Merge keys (<<) are applied
// as YAML specifies: m's own keys first, then the merged mappings' keys m
// lacks, earlier merged mappings first. A repeated key is passed to dup
// (when not nil) and skipped: the first one counts. A merge of something
// other than mappings, or of a mapping into itself, is passed to badMerge.
// A mapping merged twice is read once, so merges cost no more than the
// mappings they name.
func eachField(m *yaml.Node, f func(k, v *yaml.Node) bool, dup func(first, again *yaml.Node), badMerge func(at *yaml.Node, msg string)) {
	eachFieldOf(m, f, dup, badMerge, nil)
}

// merging is the state of one eachField through merged mappings.
type merging struct {
	visited map[*yaml.Node]bool // mappings read already
	stack   []*yaml.Node        // mappings being read, to catch cycles
}

func eachFieldOf(m *yaml.Node, f func(k, v *yaml.Node) bool, dup func(first, again *yaml.Node), badMerge func(*yaml.Node, string), mg *merging) bool {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return true
	}
	n := len(m.Content) / 2
	var seen map[string]*yaml.Node
	if n > 8 {
		seen = make(map[string]*yaml.Node, n)
	}
	var merges []*yaml.Node
	firstOf := func(i int, key string) *yaml.Node { // an earlier own key equal to key
		if seen != nil {
			if k, ok := seen[key]; ok {
				return k
			}
			return nil
		}
		for j := 0; j < i; j += 2 {
			k := deref(m.Content[j])
			if k != nil && k.Kind == yaml.ScalarNode && !isMerge(k) && k.Value == key {
				return k
			}
		}
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := deref(m.Content[i]), m.Content[i+1]
		if k == nil {
			continue
		}
		if isMerge(k) {
			merges = append(merges, v)
			continue
		}
		if k.Kind == yaml.ScalarNode {
			if first := firstOf(i, k.Value); first != nil {
				if dup != nil {
					dup(first, k)
				}
				continue
			}
			if seen != nil {
				seen[k.Value] = k
			}
		}
		if !f(k, v) {
			return false
		}
	}
	if len(merges) == 0 {
		return true
	}
	if mg == nil {
		mg = &merging{visited: map[*yaml.Node]bool{m: true}}
	}
	mg.stack = append(mg.stack, m)
	defer func() { mg.stack = mg.stack[:len(mg.stack)-1] }()
	// Keys present so far, for the merged ones to yield to.
	have := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := deref(m.Content[i]); k != nil && k.Kind == yaml.ScalarNode && !isMerge(k) {
			have[k.Value] = true
		}
	}
	var sources []*yaml.Node
	report := func(at *yaml.Node, msg string) {
		if badMerge != nil {
			badMerge(at, msg)
		}
	}
	add := func(at, src *yaml.Node) {
		switch {
		case src == nil || src.Kind != yaml.MappingNode:
			report(at, "<< must merge a mapping or a list of mappings")
		case slices.Contains(mg.stack, src):
			report(at, "<< merges the mapping it is in")
		case !mg.visited[src]:
			mg.visited[src] = true
			sources = append(sources, src)
		}
	}
	for _, mv := range merges {
		if d := deref(mv); d != nil && d.Kind == yaml.SequenceNode {
			for _, item := range d.Content {
				add(item, deref(item))
			}
			continue
		}
		add(mv, deref(mv))
	}
	for _, src := range sources {
		more := eachFieldOf(src, func(k, v *yaml.Node) bool {
			if k.Kind == yaml.ScalarNode {
				if have[k.Value] {
					return true
				}
				have[k.Value] = true
			}
			return f(k, v)
		}, nil, badMerge, mg)
		if !more {
			return false
		}
	}
	return true
}

// field returns the value of key in mapping m (merge keys applied), and
// the key node, or nils.
func field(m *yaml.Node, key string) (k, v *yaml.Node) {
	eachField(m, func(kn, vn *yaml.Node) bool {
		if kn.Kind == yaml.ScalarNode && kn.Value == key {
			k, v = kn, vn
			return false
		}
		return true
	}, nil, nil)
	return k, v
}

// nodeAt returns the node a JSON Pointer names below n (and the key node
// whose value it is, if any), or nil when it names nothing.
func nodeAt(n *yaml.Node, pointer []string) (node, key *yaml.Node) {
	node = n
	for _, tok := range pointer {
		d := deref(node)
		if d == nil {
			return nil, nil
		}
		switch d.Kind {
		case yaml.MappingNode:
			key, node = field(d, tok)
		case yaml.SequenceNode:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(d.Content) {
				return nil, nil
			}
			key, node = nil, d.Content[i]
		default:
			return nil, nil
		}
		if node == nil {
			return nil, nil
		}
	}
	return node, key
}
