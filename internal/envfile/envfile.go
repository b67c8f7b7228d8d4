// Package envfile reads the env files of exec children (env_file:), in a
// precise subset of what docker's --env-file and systemd's
// EnvironmentFile= read alike:
//
//   - A line is KEY=VALUE. KEY is a letter or _, then letters, digits and
//     _; spaces and tabs may stand before KEY and around =, and an
//     optional "export " before KEY is ignored.
//   - Blank lines, and lines whose first character other than a space or
//     a tab is #, are ignored. There is no comment after a value: a # in
//     an unquoted value is part of it.
//   - An unquoted VALUE is the rest of the line, spaces and tabs around it
//     removed; it may be empty.
//   - A VALUE in single quotes is taken as written, up to the next '.
//   - A VALUE in double quotes is read up to the next " that is not
//     escaped; \\, \", \$, \n (a newline), \t and \r are its escapes, any
//     other backslash is an error.
//   - A quoted VALUE may run over several lines; after its closing quote
//     only spaces, tabs and a # comment may follow.
//   - Nothing is expanded: a $ is a $.
//   - A later KEY replaces an earlier one. Lines end with \n or \r\n. A
//     NUL byte, a line that is not KEY=VALUE, or a quote never closed is an
//     error naming the line.
//
// A file is read whole, at most MaxSize bytes.
package envfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
)

// MaxSize is the most bytes an env file may have.
const MaxSize = 1 << 20

// Var is one KEY=VALUE of a file, in the order met.
type Var struct {
	Key, Value string
	Line       int
}

// SyntaxError is a line that cannot be read.
type SyntaxError struct {
	Line    int
	Message string
}

// Error reads "line 3: MESSAGE".
func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Message) }

// Parse reads the variables of an env file's text. A repeated key appears
// once per line that sets it (the last one wins in Map).
func Parse(data string) ([]Var, error) {
	if i := strings.IndexByte(data, 0); i >= 0 {
		return nil, &SyntaxError{Line: 1 + strings.Count(data[:i], "\n"), Message: "a NUL byte"}
	}
	p := &parser{s: data, line: 1}
	var vars []Var
	for p.i < len(p.s) {
		v, ok, err := p.entry()
		if err != nil {
			return nil, err
		}
		if ok {
			vars = append(vars, v)
		}
	}
	return vars, nil
}

// Map is the variables of vars by key, the last one winning.
func Map(vars []Var) map[string]string {
	m := make(map[string]string, len(vars))
	for _, v := range vars {
		m[v.Key] = v.Value
	}
	return m
}

type parser struct {
	s    string
	i    int
	line int
}

func (p *parser) fail(format string, args ...any) error {
	return &SyntaxError{Line: p.line, Message: fmt.Sprintf(format, args...)}
}

// blanks skips spaces and tabs.
func (p *parser) blanks() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// endLine consumes the end of a line (\n, \r\n or the end of the text);
// what is left before it is an error unless a # comment.
func (p *parser) endLine(comments bool) error {
	p.blanks()
	rest := p.s[p.i:]
	if j := strings.IndexByte(rest, '\n'); j >= 0 {
		rest = rest[:j]
	}
	trimmed := strings.TrimSuffix(rest, "\r")
	if trimmed != "" && !(comments && trimmed[0] == '#') {
		return p.fail("unexpected %q after the value", trimmed)
	}
	p.i += len(rest)
	if p.i < len(p.s) {
		p.i++ // the \n
		p.line++
	}
	return nil
}

// entry reads one line (or, for a quoted value, several).
func (p *parser) entry() (Var, bool, error) {
	p.blanks()
	if p.i == len(p.s) || p.s[p.i] == '#' || p.s[p.i] == '\n' || strings.HasPrefix(p.s[p.i:], "\r\n") {
		return Var{}, false, p.endLine(true)
	}
	line := p.line
	if rest, ok := strings.CutPrefix(p.s[p.i:], "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
		p.i += len("export")
		p.blanks()
	}
	j := p.i
	for j < len(p.s) && isKeyByte(p.s[j], j == p.i) {
		j++
	}
	key := p.s[p.i:j]
	if key == "" {
		return Var{}, false, p.fail("not KEY=VALUE: a KEY is a letter or _, then letters, digits and _")
	}
	p.i = j
	p.blanks()
	if p.i == len(p.s) || p.s[p.i] != '=' {
		return Var{}, false, p.fail("not KEY=VALUE: no = after %s", key)
	}
	p.i++
	p.blanks()
	var value string
	var err error
	switch {
	case p.i < len(p.s) && p.s[p.i] == '\'':
		value, err = p.single()
	case p.i < len(p.s) && p.s[p.i] == '"':
		value, err = p.double()
	default:
		rest := p.s[p.i:]
		if k := strings.IndexByte(rest, '\n'); k >= 0 {
			rest = rest[:k]
		}
		value = strings.TrimRight(strings.TrimSuffix(rest, "\r"), " \t")
		p.i += len(value)
	}
	if err != nil {
		return Var{}, false, err
	}
	if err := p.endLine(true); err != nil {
		return Var{}, false, err
	}
	return Var{Key: key, Value: value, Line: line}, true, nil
}

// single reads a value in single quotes, the opening one at p.i.
func (p *parser) single() (string, error) {
	start := p.line
	k := strings.IndexByte(p.s[p.i+1:], '\'')
	if k < 0 {
		return "", &SyntaxError{Line: start, Message: "a ' that is never closed"}
	}
	v := p.s[p.i+1 : p.i+1+k]
	p.line += strings.Count(v, "\n")
	p.i += k + 2
	return v, nil
}

// double reads a value in double quotes, the opening one at p.i.
func (p *parser) double() (string, error) {
	start := p.line
	var b strings.Builder
	for p.i++; p.i < len(p.s); p.i++ {
		c := p.s[p.i]
		switch c {
		case '"':
			p.i++
			return b.String(), nil
		case '\n':
			p.line++
		case '\\':
			if p.i+1 == len(p.s) {
				continue // reported as never closed
			}
			p.i++
			switch e := p.s[p.i]; e {
			case '\\', '"', '$':
				c = e
			case 'n':
				c = '\n'
			case 't':
				c = '\t'
			case 'r':
				c = '\r'
			default:
				return "", p.fail("unknown escape \\%c in a double-quoted value (write \\\\ for a backslash)", e)
			}
		}
		b.WriteByte(c)
	}
	return "", &SyntaxError{Line: start, Message: `a " that is never closed`}
}

func isKeyByte(c byte, first bool) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || !first && '0' <= c && c <= '9'
}

// Read reads and parses the env file name: a regular file (a FIFO or a
// device is refused, and the open does not block) of at most MaxSize
// bytes. Its errors name the file.
func Read(name string) ([]Var, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("env file %s: not a regular file", name)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("env file %s: %w", name, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("env file %s: too large: an env file may have at most %d bytes", name, MaxSize)
	}
	vars, err := Parse(string(data))
	if err != nil {
		return nil, fmt.Errorf("env file %s: %w", name, err)
	}
	return vars, nil
}

// IsNotExist reports whether err is Read's error for a file that does not
// exist.
func IsNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }
