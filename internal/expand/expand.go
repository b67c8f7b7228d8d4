// Package expand replaces variables in the strings of a tree file's args:
// ${NAME}, ${NAME:-default} (the default when NAME is unset or empty),
// ${NAME-default} (the default when NAME is unset), and $$ for a literal
// $. A $ followed by anything else is kept as written, so a shell command
// ("echo $HOME") reaches its shell unchanged. NAME is a letter or _, then
// letters, digits and _. A default runs to the matching } and is itself
// expanded (only when it is used); it may hold ${...} and $$.
//
// The exec kind expands its command, env and dir with it at each start;
// a pool expands ${OTPCTL_INDEX} in its members' args with Partial, which
// leaves everything else as written for the kind to expand.
package expand

import (
	"errors"
	"fmt"
	"strings"
)

// Lookup returns a variable's value and whether it is set.
type Lookup func(name string) (string, bool)

// Error is a variable that cannot be expanded: undefined, or ${ written
// wrong.
type Error struct {
	// Text is the string being expanded, Offset the byte where the
	// variable starts in it.
	Text   string
	Offset int
	// Name is the variable ("" when the syntax is wrong).
	Name string
	// Problem says what is wrong.
	Problem string
}

// Error reads `undefined variable PORT in "--port=${PORT}" (...)`.
func (e *Error) Error() string {
	return fmt.Sprintf("%s in %q", e.Problem, e.Text)
}

// String expands s with lookup. An undefined variable without a default,
// or a ${ that is not a variable, is an *Error.
func String(s string, lookup Lookup) (string, error) {
	x := &expander{s: s, lookup: lookup}
	out, err := x.run(0, false)
	if err != nil {
		return "", err
	}
	return out, nil
}

// Partial replaces in s only the variables lookup knows (and their
// defaults are dropped); everything else, $$ and ${...} it does not know
// or cannot read included, is kept as written. It never fails.
func Partial(s string, lookup Lookup) string {
	if !strings.Contains(s, "${") {
		return s
	}
	x := &expander{s: s, lookup: lookup, mode: partial}
	out, _ := x.run(0, false)
	return out
}

// errUnclosed is a default that runs to the end of the text.
var errUnclosed = errors.New("unclosed")

type mode int

const (
	full    mode = iota // expand, an undefined variable is an error
	partial             // expand what lookup knows, keep the rest
	skip                // read the syntax only (a default not used)
)

type expander struct {
	s      string
	lookup Lookup
	mode   mode
	pos    int
}

// run expands from i to the end of s, or, in a default (nested), to its
// closing }, which it consumes.
func (x *expander) run(i int, nested bool) (string, error) {
	var b strings.Builder
	x.pos = i
	for x.pos < len(x.s) {
		c := x.s[x.pos]
		switch {
		case nested && c == '}':
			x.pos++
			return b.String(), nil
		case c == '$' && x.pos+1 < len(x.s) && x.s[x.pos+1] == '$':
			if x.mode == partial {
				b.WriteString("$$")
			} else {
				b.WriteByte('$')
			}
			x.pos += 2
		case c == '$' && x.pos+1 < len(x.s) && x.s[x.pos+1] == '{':
			start := x.pos
			v, err := x.variable()
			if err != nil {
				if x.mode != partial {
					return "", err
				}
				// Keep what could not be read; go on after the ${.
				b.WriteString("${")
				x.pos = start + 2
				continue
			}
			b.WriteString(v)
		default:
			b.WriteByte(c)
			x.pos++
		}
	}
	if nested {
		return "", errUnclosed
	}
	return b.String(), nil
}

// variable reads ${NAME}, ${NAME:-word} or ${NAME-word} at x.pos and
// returns its value; in partial mode, an unknown one as written.
func (x *expander) variable() (string, error) {
	start := x.pos
	i := start + 2
	j := i
	for j < len(x.s) && isNameByte(x.s[j], j == i) {
		j++
	}
	name := x.s[i:j]
	bad := func(problem string) error {
		return &Error{Text: x.s, Offset: start, Name: name, Problem: problem}
	}
	if name == "" {
		return "", bad("${ is not followed by a variable name (write $$ for a literal $)")
	}
	var value string
	var set bool
	if x.mode != skip {
		value, set = x.lookup(name)
	}
	switch {
	case j < len(x.s) && x.s[j] == '}':
		x.pos = j + 1
		switch {
		case set || x.mode == skip:
			return value, nil
		case x.mode == partial:
			return x.s[start:x.pos], nil
		}
		return "", bad(fmt.Sprintf("undefined variable %s (set it, give a default as ${%s:-value}, or write $${%s} for a literal)", name, name, name))
	case strings.HasPrefix(x.s[j:], ":-") || strings.HasPrefix(x.s[j:], "-"):
		colon := x.s[j] == ':'
		k := j + 1
		if colon {
			k++
		}
		useDefault := !set || (colon && value == "")
		outer := x.mode
		switch {
		case outer == partial && !set:
			// Unknown here: read to its end, keep it whole.
		case !useDefault:
			x.mode = skip // its syntax still counts
		}
		def, err := x.run(k, true)
		x.mode = outer
		switch {
		case err == errUnclosed:
			return "", bad("${" + name + " has a default without its closing }")
		case err != nil:
			return "", err
		case outer == partial && !set:
			return x.s[start:x.pos], nil
		case useDefault:
			return def, nil
		}
		return value, nil
	case j >= len(x.s):
		return "", bad("${" + name + " without its closing }")
	default:
		return "", bad(fmt.Sprintf("${%s%c is not a variable: write ${NAME}, ${NAME:-default} or ${NAME-default} (or $$ for a literal $)", name, x.s[j]))
	}
}

func isNameByte(c byte, first bool) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || !first && '0' <= c && c <= '9'
}
