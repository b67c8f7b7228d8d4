package spec

import (
	"fmt"
	"math/bits"
	"strings"
	"testing"
)

// TestSyntaxErrorPosition pins where a YAML syntax error is reported,
// beside the golden files. yaml.v3's own line is right (cases 4, 5, 6, 8),
// the line before (cases 2, 9), the enclosing construct's (cases 1, 3, 10,
// which is 1,000 lines away), or missing (case 7).
func TestSyntaxErrorPosition(t *testing.T) {
	var long strings.Builder
	long.WriteString("version: 1\nname: big\nsupervisor:\n  children:\n")
	for i := range 1000 {
		fmt.Fprintf(&long, "    - {name: w%d, kind: echo}\n", i)
	}
	long.WriteString("   - {name: x, kind: echo}\n    - {name: y, kind: echo}\n")
	const head = "version: 1\nsupervisor:\n  children:\n"
	for i, c := range []struct{ data, want string }{
		{head + "    - name: a\n   kind: echo\n", "t.yaml:5:4: invalid YAML: did not find expected key"},
		{head + "    - name: a\n\t  kind: echo\n", "t.yaml:5:1: tab character in indentation; YAML indents with spaces only"},
		{head + "    - {name: a,\n       kind: echo\n    - name: b\n",
			"t.yaml:5:8: not a tree file: it is not valid YAML; a tree file starts with version: 1 (nothing of this file is quoted)"},
		{head + "    - name: 'a\n      kind: echo\n", "t.yaml:4:5: invalid YAML: found unexpected end of stream"},
		{head + "    - name: a: b\n", "t.yaml:4:5: invalid YAML: mapping values are not allowed in this context"},
		{head + "    - name: a\n      kind: echo\n  strategy: one_for_one\n    - name: b\n",
			"t.yaml:7:5: invalid YAML: mapping values are not allowed in this context"},
		{head + "    - name: a\n      kind: echo\n      args: *nothing\n", "t.yaml:6:13: alias *nothing refers to no anchor &nothing before it"},
		{"version: 1\nsupervisor: [\n", "t.yaml:2:1: invalid YAML: did not find expected node content"},
		{"version: 1\n- a\n", "t.yaml:2:1: invalid YAML: did not find expected key"},
		{long.String(), "t.yaml:1005:4: invalid YAML: did not find expected key"},
	} {
		_, err := Parse("t.yaml", []byte(c.data), testKinds)
		if got := fmt.Sprint(err); got != c.want {
			t.Errorf("case %d: got\n\t%s\nwant\n\t%s", i+1, got, c.want)
		}
	}
}

// TestFirstLine holds firstLine to a search by halves for every answer
// and guess, and to two calls when the guess or the line after it is the
// answer.
func TestFirstLine(t *testing.T) {
	for n := 1; n <= 40; n++ {
		for answer := 1; answer <= n; answer++ {
			for guess := -1; guess <= n+1; guess++ {
				calls := 0
				got := firstLine(n, guess, func(k int) bool {
					if k < 1 || k > n {
						t.Fatalf("n %d: asked about line %d", n, k)
					}
					calls++
					return k >= answer
				})
				if got != answer {
					t.Fatalf("n %d answer %d guess %d: got %d", n, answer, guess, got)
				}
				if (guess == answer || guess+1 == answer) && guess >= 1 && guess < n && calls > 2 {
					t.Errorf("n %d answer %d guess %d: %d calls, want at most 2", n, answer, guess, calls)
				}
				if limit := 2 + bits.Len(uint(n)); calls > limit {
					t.Errorf("n %d answer %d guess %d: %d calls, more than %d", n, answer, guess, calls, limit)
				}
			}
		}
	}
}
