package expand

import (
	"errors"
	"strings"
	"testing"
)

var vars = map[string]string{"HOME": "/home/ann", "EMPTY": "", "PORT": "8080", "I": "3"}

func lookup(name string) (string, bool) {
	v, ok := vars[name]
	return v, ok
}

func TestString(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{in: "plain", want: "plain"},
		{in: "", want: ""},
		{in: "${HOME}/bin", want: "/home/ann/bin"},
		{in: "--port=${PORT}", want: "--port=8080"},
		{in: "${PORT}${I}", want: "80803"},
		{in: "$$", want: "$"},
		{in: "$${HOME}", want: "${HOME}"},
		{in: "$$$${HOME}", want: "$${HOME}"},
		{in: "$$${HOME}", want: "$/home/ann"},
		{in: "$HOME $1 $(ls) $", want: "$HOME $1 $(ls) $"},
		{in: "${MISSING:-dflt}", want: "dflt"},
		{in: "${MISSING-dflt}", want: "dflt"},
		{in: "${EMPTY:-dflt}", want: "dflt"},
		{in: "${EMPTY-dflt}", want: ""},
		{in: "${PORT:-1}", want: "8080"},
		{in: "${MISSING:-}", want: ""},
		{in: "${MISSING:-${PORT}}", want: "8080"},
		{in: "${MISSING:-a$$b}", want: "a$b"},
		{in: "${MISSING:-${ALSO:-x}y}z", want: "xyz"},
		{in: "${PORT:-${UNDEFINED}}", want: "8080"}, // a default not used is not expanded
		{in: "${MISSING:-a-b:c}", want: "a-b:c"},
		{in: "${_x1:-ok}", want: "ok"},
		{in: "${MISSING}", err: `undefined variable MISSING (set it, give a default as ${MISSING:-value}, or write $${MISSING} for a literal) in "${MISSING}"`},
		{in: "a${MISSING:-${NOPE}}", err: "undefined variable NOPE"},
		{in: "${}", err: "${ is not followed by a variable name"},
		{in: "${1}", err: "${ is not followed by a variable name"},
		{in: "${HOME", err: "${HOME without its closing }"},
		{in: "${HOME:-x", err: "a default without its closing }"},
		{in: "${PORT:-${x", err: "without its closing }"},
		{in: "${HO ME}", err: "${HO  is not a variable"},
		{in: "${HOME:=x}", err: "${HOME: is not a variable"},
		{in: "${HOME%x}", err: "${HOME% is not a variable"},
	} {
		got, err := String(c.in, lookup)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("String(%q) = %q, %v; want an error with %q", c.in, got, err, c.err)
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("String(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Errorf("String(%q): %T is not an *Error", c.in, err)
		}
	}
}

func TestPartial(t *testing.T) {
	index := func(name string) (string, bool) {
		if name == "OTPCTL_INDEX" {
			return "2", true
		}
		return "", false
	}
	for _, c := range []struct{ in, want string }{
		{"80${OTPCTL_INDEX}", "802"},
		{"${OTPCTL_INDEX:-0}/${OTPCTL_INDEX-0}", "2/2"},
		{"${HOME}/${OTPCTL_INDEX}", "${HOME}/2"},
		{"${HOME:-${OTPCTL_INDEX}}", "${HOME:-${OTPCTL_INDEX}}"},
		{"$${OTPCTL_INDEX} $$ $x", "$${OTPCTL_INDEX} $$ $x"},
		{"${} ${1} ${OTPCTL_INDEX", "${} ${1} ${OTPCTL_INDEX"},
		{"${bad:-x ${OTPCTL_INDEX}", "${bad:-x 2"},
	} {
		if got := Partial(c.in, index); got != c.want {
			t.Errorf("Partial(%q) = %q; want %q", c.in, got, c.want)
		}
		// What Partial leaves, String then expands as it would have the
		// original (with the same variables and more).
		full := func(name string) (string, bool) {
			if v, ok := index(name); ok {
				return v, ok
			}
			return lookup(name)
		}
		a, errA := String(c.in, full)
		b, errB := String(Partial(c.in, index), full)
		if (errA == nil) != (errB == nil) || a != b {
			t.Errorf("String(%q) = %q, %v but String(Partial) = %q, %v", c.in, a, errA, b, errB)
		}
	}
}

// FuzzString: String never panics, an error is an *Error at an offset in
// the text, a text without ${ and $$ comes back as is, and Partial with a
// lookup that knows nothing changes nothing.
func FuzzString(f *testing.F) {
	for _, s := range []string{"${HOME}", "${A:-${B-c}}", "$$", "${", "${A:-", "}${X}}", "$${A}", "${PORT:-$${x}}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := String(s, lookup)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Offset < 0 || e.Offset >= len(s) || e.Text != s {
				t.Fatalf("String(%q): %#v", s, err)
			}
		} else if !strings.Contains(s, "${") && !strings.Contains(s, "$$") && out != s {
			t.Fatalf("String(%q) = %q", s, out)
		}
		none := func(string) (string, bool) { return "", false }
		if p := Partial(s, none); p != s {
			t.Fatalf("Partial(%q) with no variables = %q", s, p)
		}
	})
}
