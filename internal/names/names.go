package names

import (
	"regexp"
	"regexp/syntax"
	"unicode/utf8"
)

// KindPattern is the pattern of a kind's name: the tree schema's
// $defs/kindName/pattern, copied here for package workers (see the package
// doc for why, and for the test that keeps the two the same).
const KindPattern = `^[a-z][a-z0-9_-]*$`

// Kind is KindPattern compiled.
var Kind = MustCompile(KindPattern)

// Rule is a compiled name pattern. Match agrees with the regular
// expression for every string; a pattern of the shape names have,
// ^[class][class]*$ over ASCII characters, is matched a byte at a time
// rather than by the regexp engine, which is about thirty times faster.
// A Rule is safe for concurrent use.
type Rule struct {
	re *regexp.Regexp
	// first and rest say which bytes a name may start with and go on
	// with, for a pattern of the simple shape; nil otherwise.
	first, rest *[utf8.RuneSelf]bool
}

// Compile compiles a pattern, as regexp.Compile does.
func Compile(pattern string) (*Rule, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, err
	}
	r := &Rule{re: re}
	r.first, r.rest = classes(pattern)
	return r, nil
}

// MustCompile is Compile for patterns the program holds: it panics on a
// bad one.
func MustCompile(pattern string) *Rule {
	r, err := Compile(pattern)
	if err != nil {
		panic("names: " + err.Error())
	}
	return r
}

// Match reports whether s matches the rule's pattern.
func (r *Rule) Match(s string) bool {
	if r.first == nil {
		return r.re.MatchString(s)
	}
	if s == "" || s[0] >= utf8.RuneSelf || !r.first[s[0]] {
		return false
	}
	for i := 1; i < len(s); i++ {
		// A byte of a multi-byte character (or of invalid UTF-8, which the
		// regexp engine reads as U+FFFD) is in no ASCII class.
		if c := s[i]; c >= utf8.RuneSelf || !r.rest[c] {
			return false
		}
	}
	return true
}

// String returns the pattern.
func (r *Rule) String() string { return r.re.String() }

// classes returns the tables of the first and the following bytes of a
// pattern of the shape ^[class][class]*$ (or ^[class]+$) whose classes hold ASCII
// characters only, or nil, nil for any other pattern.
func classes(pattern string) (first, rest *[utf8.RuneSelf]bool) {
	t, err := syntax.Parse(pattern, syntax.Perl) // as regexp.Compile parses it
	if err != nil {
		return nil, nil
	}
	t = t.Simplify()
	if t.Op != syntax.OpConcat || len(t.Sub) < 3 || t.Sub[0].Op != syntax.OpBeginText || t.Sub[len(t.Sub)-1].Op != syntax.OpEndText {
		return nil, nil
	}
	switch sub := t.Sub[1 : len(t.Sub)-1]; {
	case len(sub) == 2 && sub[1].Op == syntax.OpStar: // ^[a][b]*$
		first, rest = table(sub[0]), table(sub[1].Sub[0])
	case len(sub) == 1 && sub[0].Op == syntax.OpPlus: // ^[a]+$, which is how the parser may write ^[a][a]*$
		first = table(sub[0].Sub[0])
		rest = first
	}
	if first == nil || rest == nil {
		return nil, nil
	}
	return first, rest
}

// table returns the bytes a character class matches, or nil when t is not
// a class of ASCII characters.
func table(t *syntax.Regexp) *[utf8.RuneSelf]bool {
	if t.Op != syntax.OpCharClass {
		return nil
	}
	var tab [utf8.RuneSelf]bool
	for i := 0; i+1 < len(t.Rune); i += 2 {
		lo, hi := t.Rune[i], t.Rune[i+1]
		if hi >= utf8.RuneSelf {
			return nil
		}
		for c := lo; c <= hi; c++ {
			tab[c] = true
		}
	}
	return &tab
}
