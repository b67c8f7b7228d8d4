package spec

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/otpctl/otpctl/internal/names/namestest"
	"github.com/otpctl/otpctl/schema"
)

// A tree file's names are refused where, and only where, the schema's
// helpers refuse them: a child's name, the tree's name (written, or taken
// from the file's name), a kind's name in kinds: and a child's kind.
func TestNamesRefusedAsTheHelpersSay(t *testing.T) {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	seen := map[string]map[bool]int{} // what → valid → count
	for _, s := range namestest.Edges {
		if !utf8.ValidString(s) {
			continue // a tree file is UTF-8
		}
		for _, c := range []struct {
			what, file, text string
			valid            bool
		}{
			{"child name", "t.yaml", "version: 1\nsupervisor:\n  children:\n    - name: " + q(s) + "\n      kind: echo\n", schema.ValidName(s)},
			{"tree name", "t.yaml", "version: 1\nname: " + q(s) + "\nsupervisor: {}\n", schema.ValidName(s)},
			{"file name", s + ".yaml", "version: 1\nsupervisor: {}\n", schema.ValidName(s)},
			{"kind name", "t.yaml", "version: 1\nkinds:\n  " + q(s) + ": {base: echo}\nsupervisor: {}\n", schema.ValidKindName(s)},
			{"child's kind", "t.yaml", "version: 1\nkinds:\n  " + q(s) + ": {base: echo}\nsupervisor:\n  children:\n    - {name: w, kind: " + q(s) + "}\n", schema.ValidKindName(s)},
		} {
			if c.what == "file name" && strings.ContainsAny(s, "/\x00") {
				continue // not a file's base name
			}
			_, err := Parse(c.file, []byte(c.text), testKinds)
			if seen[c.what] == nil {
				seen[c.what] = map[bool]int{}
			}
			seen[c.what][c.valid]++
			if (err == nil) != c.valid {
				t.Errorf("%s %.40q: Parse says %v, want valid %v", c.what, s, err, c.valid)
				continue
			}
			var d Diagnostics
			if err != nil && (!errors.As(err, &d) || len(d) == 0 || d[0].Pos.Line == 0 || d[0].Pos.Col == 0) {
				t.Errorf("%s %.40q: %v is not a positioned diagnostic", c.what, s, err)
			}
		}
	}
	for what, n := range seen {
		if n[true] < 3 || n[false] < 3 {
			t.Errorf("%s: %d valid and %d refused names: the test proves little", what, n[true], n[false])
		}
	}
}
