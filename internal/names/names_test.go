package names

import (
	"regexp"
	"testing"
)

// patterns: the shapes of the tree schema's names, and others that must
// fall back to the regexp engine.
var patterns = []struct {
	pattern string
	fast    bool
}{
	{`^[a-z0-9][a-z0-9_.-]*$`, true},
	{KindPattern, true},
	{`^[A-Z][a-z]*$`, true},
	{`^(?i)[a-z][a-z0-9]*$`, false}, // the Kelvin sign folds to k: beyond ASCII
	{`^(?i)[b-j][b-j0-9]*$`, true},
	{`^[a-z][a-z]*$`, true},
	{`^[a-zé][a-z]*$`, false}, // a class beyond ASCII
	{`^a[a-z]*$`, false},      // a literal, not a class
	{`^[a-z]+$`, true},
	{`^[a-z]*$`, false},
	{`[a-z][a-z]*`, false}, // not anchored
	{`^[a-z][a-z]*x$`, false},
	{`^(brutal_kill|infinity|[0-9]+s)$`, false},
}

var inputs = []string{
	"", "a", "z", "0", "9", "_", ".", "-", "w1", "a.b-c_d", "0x", "web", "my-kind_2",
	"W1", "Web", "aB", "-w", ".a", "_a", "a b", "a/b", "..", "a..b", "a\x00", "\x00",
	"wé", "é", "ǅ", "a\u212a", "\u212a", "K", "k", "a\xff", "\xff", "a\n", "\na",
	"brutal_kill", "infinity", "5s", "abcdefghijklmnopqrstuvwxyz0123456789_.-",
}

// Match agrees with the regexp engine on every pattern and input, and the
// patterns of the simple shape take the fast path.
func TestRuleAgreesWithRegexp(t *testing.T) {
	for _, p := range patterns {
		r := MustCompile(p.pattern)
		if got := r.first != nil; got != p.fast {
			t.Errorf("%s: fast path %v, want %v", p.pattern, got, p.fast)
		}
		if r.String() != p.pattern {
			t.Errorf("String() = %q, want %q", r.String(), p.pattern)
		}
		re := regexp.MustCompile(p.pattern)
		for _, s := range inputs {
			if got, want := r.Match(s), re.MatchString(s); got != want {
				t.Errorf("%s: Match(%q) = %v, the regexp says %v", p.pattern, s, got, want)
			}
		}
	}
}

func TestMustCompilePanicsOnABadPattern(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustCompile(`[`) did not panic")
		}
	}()
	MustCompile(`[`)
}

func FuzzRule(f *testing.F) {
	for _, s := range inputs {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range patterns {
			if got, want := MustCompile(p.pattern).Match(s), regexp.MustCompile(p.pattern).MatchString(s); got != want {
				t.Fatalf("%s: Match(%q) = %v, the regexp says %v", p.pattern, s, got, want)
			}
		}
	})
}

func BenchmarkRule(b *testing.B) {
	r, re := MustCompile(KindPattern), regexp.MustCompile(KindPattern)
	b.Run("rule", func(b *testing.B) {
		for b.Loop() {
			r.Match("counter")
		}
	})
	b.Run("regexp", func(b *testing.B) {
		for b.Loop() {
			re.MatchString("counter")
		}
	})
}
