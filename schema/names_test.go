package schema

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/otpctl/otpctl/internal/names"
)

// nameCases are names at the edges of the name rules, and whether each is
// a valid child name and a valid kind name.
var nameCases = []struct {
	s          string
	name, kind bool
}{
	{"", false, false},
	{"a", true, true},
	{"0", true, false},
	{"web", true, true},
	{"w1", true, true},
	{"9lives", true, false},
	{"a.b-c_d", true, false},
	{"my-kind_2", true, true},
	{"a..b", true, false},
	{"..", false, false},
	{".", false, false},
	{".hidden", false, false},
	{"-w", false, false},
	{"_w", false, false},
	{"w-", true, true},
	{"Web", false, false},
	{"wEb", false, false},
	{"W", false, false},
	{"a/b", false, false},
	{"/", false, false},
	{"a b", false, false},
	{" a", false, false},
	{"a\n", false, false},
	{"a\x00", false, false},
	{"a:b", false, false},
	{"a*", false, false},
	{"wé", false, false},
	{"é", false, false},
	{"ｗ", false, false},                                // a full-width w
	{"a\u212a", false, false},                          // the Kelvin sign, which folds to k
	{"a\xff", false, false},                            // not UTF-8
	{strings.Repeat("a", 1), true, true},               // no lower bound past one character
	{strings.Repeat("a", 100_000), true, true},         // and no upper bound: the schema sets none
	{strings.Repeat("a", 100_000) + "A", false, false}, // a bad last byte of a long name
	{"abcdefghijklmnopqrstuvwxyz0123456789_.-", true, false},
	{"abcdefghijklmnopqrstuvwxyz0123456789_-", true, true},
}

func TestValidNameAndValidKindName(t *testing.T) {
	for _, c := range nameCases {
		if got := ValidName(c.s); got != c.name {
			t.Errorf("ValidName(%.40q) = %v, want %v", c.s, got, c.name)
		}
		if got := ValidKindName(c.s); got != c.kind {
			t.Errorf("ValidKindName(%.40q) = %v, want %v", c.s, got, c.kind)
		}
	}
}

// The helpers say what the tree schema says, where the schema says it:
// a child's name, the tree's name, a child's kind, a kind's name in kinds:.
func TestNameHelpersAgreeWithTheSchema(t *testing.T) {
	for _, c := range nameCases {
		for _, at := range []struct {
			doc   map[string]any
			valid bool
		}{
			{map[string]any{"version": json.Number("1"), "supervisor": map[string]any{"children": []any{map[string]any{"name": c.s, "supervisor": map[string]any{}}}}}, c.name},
			{map[string]any{"version": json.Number("1"), "name": c.s, "supervisor": map[string]any{}}, c.name},
			{map[string]any{"version": json.Number("1"), "supervisor": map[string]any{"children": []any{map[string]any{"name": "w", "kind": c.s, "shutdown": "infinity"}}}}, c.kind},
			{map[string]any{"version": json.Number("1"), "kinds": map[string]any{c.s: map[string]any{"base": "echo"}}, "supervisor": map[string]any{}}, c.kind},
		} {
			for _, check := range []func(any) []Violation{tree().Validate, ValidateTree} {
				if vs := check(at.doc); (len(vs) == 0) != at.valid {
					b, _ := json.Marshal(at.doc)
					t.Errorf("%.200s: valid %v, want %v: %v", b, len(vs) == 0, at.valid, vs)
				}
			}
		}
	}
}

func TestValidShutdown(t *testing.T) {
	for s, want := range map[string]bool{
		"brutal_kill": true, "infinity": true, "5s": true, "1m30s": true, ".5s": true, "500ms": true, "1µs": true, "1μs": true, "2us": true,
		"": false, "5": false, "s": false, "forever": false, "Infinity": false, "brutal_kill ": false, "-5s": false, "5 s": false, "infinity5s": false,
	} {
		if got := validShutdown(s); got != want {
			t.Errorf("validShutdown(%q) = %v, want %v", s, got, want)
		}
	}
}

// Package workers, which may not import schema, checks a kind's name
// against internal/names.KindPattern: it must be the schema's pattern.
func TestKindNamePatternIsTheSchemas(t *testing.T) {
	if got := patternsOf(TreeSchema(), "kindName")["kindName"]; got != names.KindPattern {
		t.Errorf("tree.schema.json's $defs/kindName/pattern is %q, internal/names.KindPattern %q: change both", got, names.KindPattern)
	}
}

// The helpers apply the schema's own patterns.
func TestHelpersReadTheSchema(t *testing.T) {
	var sch struct {
		Defs map[string]struct{ Pattern string } `json:"$defs"`
	}
	if err := json.Unmarshal([]byte(TreeSchema()), &sch); err != nil {
		t.Fatal(err)
	}
	for def, got := range map[string]string{"name": NamePattern(), "kindName": kindNameRule.String(), "shutdown": shutdownRule.String()} {
		if want := sch.Defs[def].Pattern; got != want {
			t.Errorf("$defs/%s: the helper applies %q, the schema says %q", def, got, want)
		}
	}
}

func TestPatternsOfPanicsOnAMissingPattern(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "$defs/nope/pattern") {
			t.Errorf("recovered %v, want a panic naming $defs/nope/pattern", r)
		}
	}()
	patternsOf(TreeSchema(), "nope")
}

func TestMaxPoolSizeIsTheSchemas(t *testing.T) {
	if got := MaxPoolSize(); got != 1024 {
		t.Fatalf("MaxPoolSize() = %d, want the schema's 1024", got)
	}
}
