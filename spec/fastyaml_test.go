package spec

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// sameNodes says where a and b differ (comments aside: nothing reads
// them), or "".
func sameNodes(a, b *yaml.Node, at string) string {
	switch {
	case a == nil || b == nil:
		if a != b {
			return at + ": one is nil"
		}
		return ""
	case a.Kind != b.Kind || a.Style != b.Style || a.Tag != b.Tag || a.Value != b.Value || a.Anchor != b.Anchor ||
		a.Line != b.Line || a.Column != b.Column || (a.Alias == nil) != (b.Alias == nil) || len(a.Content) != len(b.Content):
		return fmt.Sprintf("%s: fast {kind %v style %v tag %s value %q at %d:%d, %d items} yaml.v3 {kind %v style %v tag %s value %q at %d:%d, %d items}",
			at, a.Kind, a.Style, a.Tag, a.Value, a.Line, a.Column, len(a.Content), b.Kind, b.Style, b.Tag, b.Value, b.Line, b.Column, len(b.Content))
	}
	for i := range a.Content {
		if d := sameNodes(a.Content[i], b.Content[i], fmt.Sprintf("%s/%d", at, i)); d != "" {
			return d
		}
	}
	return ""
}

// checkFast fails if fastYAML reads data and yaml.v3 reads it otherwise
// (or not at all). It reports whether fastYAML read it.
func checkFast(t *testing.T, name string, data []byte) bool {
	t.Helper()
	fast, nodes, ok := fastYAML(data)
	if !ok {
		return false
	}
	root, second, err := decodeYAMLv3(data)
	if err != nil || second != nil {
		t.Errorf("%s: fastYAML read it, yaml.v3 says %v (second document %v)\n%s", name, err, second != nil, data)
		return true
	}
	if d := sameNodes(fast, root, ""); d != "" {
		t.Errorf("%s: %s\n%s", name, d, data)
	}
	if n := countNodes(root); n != nodes {
		t.Errorf("%s: fastYAML counts %d nodes, there are %d", name, nodes, n)
	}
	return true
}

// fuzzCorpus returns the inputs of a go test fuzz corpus folder.
func fuzzCorpus(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<22)
		for sc.Scan() {
			line := sc.Text()
			if q, ok := strings.CutPrefix(line, "[]byte("); ok {
				if s, err := strconv.Unquote(strings.TrimSuffix(q, ")")); err == nil {
					out[f] = []byte(s)
				}
			}
		}
	}
	return out
}

var fastCases = []string{
	"version: 1\nsupervisor:\n  children:\n    - {name: a, kind: echo}\n",
	"a: 1\nb: -2\nc: 0\nd: 007\ne: 1_000\nf: 1.5\ng: 1e3\nh: 0x1f\ni: 5s\nj: 1m30s\nk: .5\nl: -m\nm: +1\nn: 2001-12-14\n",
	"a: true\nb: True\nc: yes\nd: null\ne: ~\nf: NULL\ng: off\nh: FALSE\ni: nan\nj: .inf\n",
	"a: 'it''s'\nb: \"q\"\nc: \"a\\nb\"\nd: 'x' # c\ne: \"\" \nf: ''\n",
	"a:\n- x\n- y\nb: [1, two, 'three', {four: 4}]\nc: {}\nd: []\n",
	"a:\n  - name: x\n    kind: y\n  -   name: z\n      args: {n: 1}\n  - plain words here # and a comment\n",
	"# head\na: 1 # line\n\n# between\nb:   2\n",
	"- a\n- - b\n", "a: {b: c,}\n", "a: {b: c\n", "a: [b\n  , c]\n", "a:\n", "a: \n", "a:b\n", "a: b: c\n",
	"a: b\n  c\n", "a: b\nc\n", "  a: 1\n", "a: 1\n b: 2\n", "a:\n  b: 1\n c: 2\n", "---\na: 1\n", "a: 1\n...\n",
	"a: &x 1\nb: *x\n", "a: !!str 1\n", "<<: {a: 1}\n", "a: |\n  x\n", "\"a\": 1\n", "a: 1\r\n", "a:\t1\n", "a: é\n",
	"a: @x\n", "a: -\n", "a: - x\n", "a: x#y\n", "a: x #y\n", "a: {x: y} z\n", "a: [x]z\n", "a:# x\n", "a: # x\n  b: 1\n",
	"a:\n  - x\n  y: 1\n", "a:\n- x\nb:\n  - y\n  - z\n", "- x\n-\n- y\n", "- {a: 1}\n- [b]\n", "a: {b: {c: {d: [e, [f]]}}}\n",
	"x-common: {a: 1}\nkey_2.a-b: v\n1: one\n", "a: b c  d\n", "a: b  # c\n", "a: x/y=z@w\n", "a: {b: 'c, d', e: \"f]\"}\n",
	"a: [--x, -_1, +y, -1, +1, -.5, --, -]\n", "a: [--x, -y]\n",
}

// TestFastYAMLIsYAMLv3 holds fastYAML to yaml.v3 on every tree file of the
// tests, the fuzz corpus, the examples and cases at the edges of the
// subset; and makes sure it does read the usual files.
func TestFastYAMLIsYAMLv3(t *testing.T) {
	inputs := map[string][]byte{}
	for _, pattern := range []string{"testdata/*/*.yaml", "testdata/*/*/*.yaml", "../examples/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			inputs[f] = b
		}
	}
	for f, b := range fuzzCorpus(t, "testdata/fuzz/FuzzParse") {
		inputs[f] = b
	}
	for i, c := range fastCases {
		inputs[fmt.Sprintf("case %d", i)] = []byte(c)
	}
	inputs["big"] = bigTree(3, 5)
	inputs["deep flow"] = []byte("a: " + strings.Repeat("[", 300) + strings.Repeat("]", 300) + "\n")
	var deep strings.Builder
	for i := range 300 {
		fmt.Fprintf(&deep, "%sk:\n", strings.Repeat(" ", i))
	}
	fmt.Fprintf(&deep, "%sk: v\n", strings.Repeat(" ", 300))
	inputs["deep mappings"] = []byte(deep.String())
	for name, data := range inputs {
		checkFast(t, name, data)
	}
	for _, name := range []string{"big", "case 0", "case 4", "case 5", "case 6", "testdata/good/kinds-chain.yaml", "../examples/shop.yaml"} {
		if _, _, ok := fastYAML(inputs[name]); !ok {
			t.Errorf("fastYAML does not read %s:\n%s", name, inputs[name])
		}
	}
}

// FuzzFastYAML: whatever fastYAML reads, yaml.v3 reads the same way.
//
//	go test -run '^$' -fuzz FuzzFastYAML -fuzztime 60s ./spec/
func FuzzFastYAML(f *testing.F) {
	for _, c := range fastCases {
		f.Add([]byte(c))
	}
	seeds, _ := filepath.Glob("testdata/*/*.yaml")
	for _, file := range seeds {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkFast(t, "fuzz", data) })
}

// TestFastYAMLRandomDocuments holds fastYAML to yaml.v3 on documents made
// of the subset's constructs and their near misses, at random.
func TestFastYAMLRandomDocuments(t *testing.T) {
	keys := []string{"a", "name", "x-y", "k_2.z", "1", "true", "null", "<<", "A", "-a", "\"q\""}
	scalars := []string{"w1", "echo", "42", "-7", "0", "007", "5s", "1m30s", "500ms", "0s", "1.5", "0x1f", "1_000", "1e3",
		"true", "False", "null", "~", "yes", "'it''s'", "\"dq\"", "\"\"", "''", "-m", "--x", "+y", "@x", "a b", "a  b",
		"a #c", "/srv/x", "a=b", "x@y", ".5", "2001-12-14", "{}", "[]", "{a: 1}", "[a, b]", "{a: [b, {c: 5s}]}",
		"[a,b]", "{a:1}", "{a: 1,}", "[a, ]", "{a: b", "'open", "x # comment", "é", "a:b", ":", "-", "a: b"}
	rng := rand.New(rand.NewPCG(7, 7))
	accepted := 0
	for range 4000 {
		var b strings.Builder
		var gen func(indent, depth int, seqOK bool)
		gen = func(indent, depth int, seqOK bool) {
			pad := strings.Repeat(" ", indent)
			if seqOK && rng.IntN(3) == 0 {
				for range 1 + rng.IntN(3) {
					switch {
					case depth > 0 && rng.IntN(3) == 0:
						fmt.Fprintf(&b, "%s- %s: %s\n", pad, keys[rng.IntN(len(keys))], scalars[rng.IntN(len(scalars))])
						if rng.IntN(2) == 0 {
							fmt.Fprintf(&b, "%s  %s: %s\n", pad, keys[rng.IntN(len(keys))], scalars[rng.IntN(len(scalars))])
						}
					default:
						fmt.Fprintf(&b, "%s- %s\n", pad, scalars[rng.IntN(len(scalars))])
					}
				}
				return
			}
			for range 1 + rng.IntN(4) {
				k := keys[rng.IntN(len(keys))]
				if depth > 0 && rng.IntN(3) == 0 {
					fmt.Fprintf(&b, "%s%s:\n", pad, k)
					step := []int{2, 2, 4, 0, 1}[rng.IntN(5)]
					gen(indent+step, depth-1, true)
					continue
				}
				fmt.Fprintf(&b, "%s%s: %s\n", pad, k, scalars[rng.IntN(len(scalars))])
				if rng.IntN(20) == 0 {
					b.WriteString("# a comment\n\n")
				}
			}
		}
		gen(0, 3, false)
		data := []byte(b.String())
		if checkFast(t, "random", data) {
			accepted++
		}
	}
	if accepted < 400 {
		t.Errorf("fastYAML read only %d of 4000 random documents: the test proves little", accepted)
	}
}
