package spec

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// fastYAML parses the plain YAML that tree files are nearly always written
// in, several times faster than yaml.v3, into the very nodes yaml.v3 would
// build (kind, style, tag, value, line and column; comments are dropped:
// nothing here reads them). It reports false as soon as the file steps
// outside that subset, and the file is then parsed by yaml.v3: what the
// subset does not cover, and every error, is yaml.v3's to handle and
// report. TestFastYAMLIsYAMLv3 and FuzzFastYAML hold it to yaml.v3. It
// also returns how many nodes it made (there are no aliases to follow).
//
// The subset, one construct per line, indented with spaces:
//
//   - block mappings of plain keys ([A-Za-z0-9_][A-Za-z0-9_.-]*: value);
//   - block sequences ("- value", "- key: value" opening a mapping), also
//     at their key's indentation;
//   - flow mappings and sequences that close on their line;
//   - scalars: single- or double-quoted on one line (no escapes in double
//     quotes), or plain: in a block, letters, digits, spaces and _ . / + =
//     @ -; in a flow, the same without spaces. A plain scalar is a string,
//     a decimal integer, true, false, null or a duration-like string (5s,
//     1m30s, 500ms); anything yaml.v3 might read otherwise (floats, hex,
//     dates, ~) is outside.
//
// Outside: anchors, aliases, tags, merge keys, empty values, block
// scalars, multi-line scalars, documents markers and directives, tabs,
// carriage returns, bytes outside printable ASCII (yaml.v3 counts columns
// in characters), keys that are not plain, nesting deeper than
// maxFastDepth, and anything malformed.
func fastYAML(data []byte) (root *yaml.Node, nodes int, ok bool) {
	p := &fastParser{}
	if !p.split(data) || len(p.lines) == 0 || p.lines[0].indent != 0 {
		return nil, 0, false
	}
	defer func() {
		if r := recover(); r != nil {
			if _, bail := r.(outside); !bail {
				panic(r)
			}
			root, nodes, ok = nil, 0, false
		}
	}()
	root, next := p.block(0)
	if next != len(p.lines) {
		return nil, 0, false
	}
	return root, p.nodes, true
}

// outside is the panic that leaves the subset.
type outside struct{}

func bail() { panic(outside{}) }

// fastLine is a line with content: its number, its indentation, and its
// text after the indentation (a comment included).
type fastLine struct {
	num, indent int
	text        string
}

type fastParser struct {
	lines []fastLine
	slab  []yaml.Node
	depth int // collections open, against maxFastDepth
	nodes int // nodes made
	// items holds the items of the collections being read, innermost
	// last; each gets its exact share of ptrs when it closes.
	items []*yaml.Node
	ptrs  []*yaml.Node
}

// content gives the collection whose items start at mark in p.items its
// own slice of them, and drops them from p.items.
func (p *fastParser) content(mark int) []*yaml.Node {
	n := len(p.items) - mark
	if n == 0 {
		return nil
	}
	if len(p.ptrs) < n {
		p.ptrs = make([]*yaml.Node, max(n, 1024))
	}
	c := p.ptrs[:n:n]
	p.ptrs = p.ptrs[n:]
	copy(c, p.items[mark:])
	clear(p.items[mark:])
	p.items = p.items[:mark]
	return c
}

// maxFastDepth bounds how deep the subset nests (yaml.v3 refuses 10,000
// levels of flow or of indentation; deep files are its to report).
const maxFastDepth = 200

// enter counts a collection opened; leave one closed.
func (p *fastParser) enter() {
	if p.depth++; p.depth > maxFastDepth {
		bail()
	}
}

func (p *fastParser) leave() { p.depth-- }

// split cuts data into lines with content, skipping blank and comment
// lines, and refuses what is outside the subset at the level of bytes.
func (p *fastParser) split(data []byte) bool {
	src := string(data) // one copy: every value is a substring of it
	p.lines = make([]fastLine, 0, strings.Count(src, "\n")+1)
	num := 0
	for len(src) > 0 {
		num++
		end := strings.IndexByte(src, '\n')
		var line string
		if end < 0 {
			line, src = src, ""
		} else {
			line, src = src[:end], src[end+1:]
		}
		indent := 0
		for indent < len(line) && line[indent] == ' ' {
			indent++
		}
		for i := indent; i < len(line); i++ {
			if c := line[i]; c < 0x20 || c > 0x7e {
				return false // tabs, CR, controls, non-ASCII
			}
		}
		text := line[indent:]
		switch {
		case text == "" || text[0] == '#':
			continue
		case indent == 0 && (strings.HasPrefix(text, "---") || strings.HasPrefix(text, "...") || text[0] == '%'):
			return false
		}
		p.lines = append(p.lines, fastLine{num, indent, text})
	}
	return true
}

func (p *fastParser) node(kind yaml.Kind, tag string, line, col int) *yaml.Node {
	if len(p.slab) == 0 {
		p.slab = make([]yaml.Node, 256)
	}
	n := &p.slab[0]
	p.slab = p.slab[1:]
	p.nodes++
	n.Kind, n.Tag, n.Line, n.Column = kind, tag, line, col
	return n
}

func isSeqEntry(text string) bool { return text == "-" || strings.HasPrefix(text, "- ") }

// block parses the block node that starts on line i, and returns it with
// the index of the first line after it.
func (p *fastParser) block(i int) (*yaml.Node, int) {
	l := p.lines[i]
	if isSeqEntry(l.text) {
		return p.sequence(i, l.indent)
	}
	return p.mapping(i, l.indent, 0)
}

// sequence parses the block sequence whose entries are at indent.
func (p *fastParser) sequence(i, indent int) (*yaml.Node, int) {
	p.enter()
	defer p.leave()
	seq := p.node(yaml.SequenceNode, "!!seq", p.lines[i].num, indent+1)
	mark := len(p.items)
	for i < len(p.lines) && p.lines[i].indent == indent && isSeqEntry(p.lines[i].text) {
		l := p.lines[i]
		off := 1
		for off < len(l.text) && l.text[off] == ' ' {
			off++
		}
		if off == len(l.text) || l.text[off] == '#' || l.text[off] == '-' {
			bail() // an empty entry, or a sequence in a sequence
		}
		var item *yaml.Node
		if isKeyStart(l.text[off:]) {
			item, i = p.mapping(i, indent+off, off)
		} else {
			item = p.inline(l, off, true)
			i++
		}
		p.items = append(p.items, item)
		if i < len(p.lines) && p.lines[i].indent > indent {
			bail() // a continuation, or bad indentation
		}
	}
	seq.Content = p.content(mark)
	return seq, i
}

// isKeyStart reports whether text starts with "key:" followed by a space
// or the end of the line.
func isKeyStart(text string) bool {
	k := keyLen(text)
	return k > 0 && k < len(text) && text[k] == ':' && (k+1 == len(text) || text[k+1] == ' ')
}

// keyLen is the length of the plain key at the start of text, or 0.
func keyLen(text string) int {
	if text == "" || !keyStart(text[0]) {
		return 0
	}
	k := 1
	for k < len(text) && (keyStart(text[k]) || text[k] == '.' || text[k] == '-') {
		k++
	}
	if k > 128 {
		return 0
	}
	return k
}

func keyStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// mapping parses the block mapping whose keys are at indent; its first
// key is on line i at offset off of the line's text (0, or after "- ").
func (p *fastParser) mapping(i, indent, off int) (*yaml.Node, int) {
	p.enter()
	defer p.leave()
	m := p.node(yaml.MappingNode, "!!map", p.lines[i].num, indent+1)
	mark := len(p.items)
	first := true
	for i < len(p.lines) {
		l := p.lines[i]
		if !first {
			if l.indent < indent {
				break
			}
			if l.indent > indent {
				bail()
			}
			off = 0
		}
		text := l.text[off:]
		k := keyLen(text)
		if k == 0 || k >= len(text) || text[k] != ':' {
			bail() // not a plain key (a sequence entry here is an error)
		}
		key := p.scalar(text[:k], l.num, indent+1)
		rest := k + 1
		for rest < len(text) && text[rest] == ' ' {
			rest++
		}
		var value *yaml.Node
		if rest == len(text) || text[rest] == '#' {
			if rest < len(text) && rest == k+1 {
				bail() // "key:#" is not a comment
			}
			// The value is on the next lines: deeper, or a sequence at
			// this indentation.
			i++
			if i == len(p.lines) {
				bail() // an empty value
			}
			switch next := p.lines[i]; {
			case next.indent > indent:
				value, i = p.block(i)
			case next.indent == indent && isSeqEntry(next.text):
				value, i = p.sequence(i, indent)
			default:
				bail() // an empty value
			}
		} else {
			if rest == k+1 {
				bail() // "key:value" is a plain scalar in YAML
			}
			value = p.inline(l, off+rest, true)
			i++
		}
		p.items = append(p.items, key, value)
		first = false
	}
	m.Content = p.content(mark)
	return m, i
}

// inline parses the value that fills the rest of line l from offset off:
// a flow collection or a scalar, then nothing but a comment.
func (p *fastParser) inline(l fastLine, off int, block bool) *yaml.Node {
	fp := flowParser{p: p, text: l.text, num: l.num, col0: l.indent, pos: off}
	v := fp.value(block)
	fp.end()
	return v
}

// flowParser parses a flow value within one line.
type flowParser struct {
	p    *fastParser
	text string
	num  int // the line's number
	col0 int // the column (0-based) where text starts
	pos  int
}

func (f *flowParser) col() int { return f.col0 + f.pos + 1 }

func (f *flowParser) spaces() {
	for f.pos < len(f.text) && f.text[f.pos] == ' ' {
		f.pos++
	}
}

// end accepts the end of the line, or spaces and a comment.
func (f *flowParser) end() {
	start := f.pos
	f.spaces()
	if f.pos == len(f.text) {
		return
	}
	if f.text[f.pos] != '#' || f.pos == start {
		bail()
	}
}

// value parses a value: in block context (the rest of a line) a plain
// scalar may hold spaces.
func (f *flowParser) value(block bool) *yaml.Node {
	if f.pos >= len(f.text) {
		bail()
	}
	switch c := f.text[f.pos]; c {
	case '{':
		return f.mapping()
	case '[':
		return f.sequence()
	case '"', '\'':
		return f.quoted(c)
	}
	return f.plain(block)
}

func (f *flowParser) mapping() *yaml.Node {
	f.p.enter()
	defer f.p.leave()
	m := f.p.node(yaml.MappingNode, "!!map", f.num, f.col())
	m.Style = yaml.FlowStyle
	if f.open('}') {
		return m
	}
	mark := len(f.p.items)
	for {
		k := keyLen(f.text[f.pos:])
		if k == 0 || f.pos+k+1 >= len(f.text) || f.text[f.pos+k] != ':' || f.text[f.pos+k+1] != ' ' {
			bail()
		}
		key := f.p.scalar(f.text[f.pos:f.pos+k], f.num, f.col())
		f.pos += k + 1
		f.spaces()
		f.p.items = append(f.p.items, key, f.value(false))
		if !f.more('}') {
			m.Content = f.p.content(mark)
			return m
		}
	}
}

func (f *flowParser) sequence() *yaml.Node {
	f.p.enter()
	defer f.p.leave()
	s := f.p.node(yaml.SequenceNode, "!!seq", f.num, f.col())
	s.Style = yaml.FlowStyle
	if f.open(']') {
		return s
	}
	mark := len(f.p.items)
	for {
		f.p.items = append(f.p.items, f.value(false))
		if !f.more(']') {
			s.Content = f.p.content(mark)
			return s
		}
	}
}

// open reads the opening bracket of a flow collection closed by end, and
// reports whether the collection is empty (and closed).
func (f *flowParser) open(end byte) bool {
	f.pos++
	f.spaces()
	if f.pos < len(f.text) && f.text[f.pos] == end {
		f.pos++
		return true
	}
	return false
}

// more reads what follows an item of a flow collection closed by end: a
// comma and another item (true), or the end (false).
func (f *flowParser) more(end byte) bool {
	f.spaces()
	if f.pos < len(f.text) {
		switch f.text[f.pos] {
		case end:
			f.pos++
			return false
		case ',':
			f.pos++
			f.spaces()
			if f.pos < len(f.text) && f.text[f.pos] != end {
				return true
			}
			// A trailing comma, or the collection goes on below.
		}
	}
	bail()
	return false
}

// quoted parses a quoted scalar on one line: ” is a quote in single
// quotes; double quotes hold no escapes.
func (f *flowParser) quoted(q byte) *yaml.Node {
	line, col := f.num, f.col()
	f.pos++
	start := f.pos
	var b strings.Builder
	for {
		if f.pos >= len(f.text) {
			bail() // it goes on below
		}
		c := f.text[f.pos]
		if q == '"' && c == '\\' {
			bail()
		}
		if c == q {
			if q == '\'' && f.pos+1 < len(f.text) && f.text[f.pos+1] == '\'' {
				b.WriteString(f.text[start : f.pos+1])
				f.pos += 2
				start = f.pos
				continue
			}
			break
		}
		f.pos++
	}
	value := f.text[start:f.pos]
	if b.Len() > 0 {
		b.WriteString(value)
		value = b.String()
	}
	f.pos++ // the closing quote
	n := f.p.node(yaml.ScalarNode, "!!str", line, col)
	n.Value = value
	if q == '"' {
		n.Style = yaml.DoubleQuotedStyle
	} else {
		n.Style = yaml.SingleQuotedStyle
	}
	return n
}

// plainChar reports whether c may be in a plain scalar of the subset.
func plainChar(c byte) bool {
	return keyStart(c) || c == '.' || c == '/' || c == '+' || c == '=' || c == '@' || c == '-'
}

func (f *flowParser) plain(block bool) *yaml.Node {
	start := f.pos
	if c := f.text[start]; c == '@' || c == '-' && (start+1 >= len(f.text) || f.text[start+1] == ' ') {
		bail() // an indicator
	}
	end := start
	for f.pos < len(f.text) {
		c := f.text[f.pos]
		if plainChar(c) {
			f.pos++
			end = f.pos
			continue
		}
		if block && c == ' ' && f.pos+1 < len(f.text) && f.text[f.pos+1] != '#' && f.text[f.pos+1] != ' ' {
			f.pos++ // a space inside the scalar
			continue
		}
		break
	}
	if end == start {
		bail()
	}
	f.pos = end
	return f.p.scalar(f.text[start:end], f.num, f.col0+start+1)
}

// scalar makes the node of plain scalar s, tagged as yaml.v3 resolves it.
func (p *fastParser) scalar(s string, line, col int) *yaml.Node {
	n := p.node(yaml.ScalarNode, plainTag(s), line, col)
	n.Value = s
	return n
}

// plainTag is the tag yaml.v3 gives the plain scalar s of the subset:
// !!str, !!int, !!bool or !!null. It leaves the subset for anything that
// yaml.v3 could read as something else (a float, a hex or octal or binary
// integer, an integer with _, a timestamp, .inf, ...).
func plainTag(s string) string {
	switch c := s[0]; {
	case c >= '0' && c <= '9', c == '+', c == '-':
		if decimal(s) {
			return "!!int"
		}
		if durationLike(s) || (c == '-' || c == '+') && len(s) > 1 && strings.IndexByte("0123456789._", s[1]) < 0 {
			// No number, date or prefixed integer of yaml.v3's starts
			// so (it drops _ before reading a number).
			return "!!str"
		}
		bail()
	case c == '.':
		bail()
	case strings.IndexByte("yYnNtTfFoO", c) >= 0:
		switch s {
		case "true", "True", "TRUE", "false", "False", "FALSE":
			return "!!bool"
		case "null", "Null", "NULL":
			return "!!null"
		}
	}
	return "!!str"
}

// decimal matches -?(0|[1-9][0-9]*) of at most 18 digits: an integer
// strconv.ParseInt reads the same with base 0.
func decimal(s string) bool {
	if s[0] == '-' {
		s = s[1:]
	}
	if s == "" || len(s) > 18 || s[0] == '0' && len(s) > 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// durationLike matches digits, then units of n, u, m, s and h with more
// digits and dots between (5s, 1m30s, 500ms, 1.5h): never a number, a
// date or a prefixed integer to yaml.v3.
func durationLike(s string) bool {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i == len(s) || strings.IndexByte("numsh", s[i]) < 0 {
		return false
	}
	for ; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9') && c != '.' && strings.IndexByte("numsh", c) < 0 {
			return false
		}
	}
	return true
}
