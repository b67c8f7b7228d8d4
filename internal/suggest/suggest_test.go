package suggest

import (
	"fmt"
	"testing"
)

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 3},
		{"", "abc", 3},
		{"echo", "echo", 0},
		{"ecoh", "echo", 2},
		{"exce", "exec", 2},
		{"kitten", "sitting", 3},
		{"one_for_any", "one_for_all", 2},
	} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := Distance(c.b, c.a); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetry)", c.b, c.a, got, c.want)
		}
	}
}

func TestClosest(t *testing.T) {
	names := []string{"cache", "counter", "crash", "echo", "exec", "ticker"}
	for _, c := range []struct{ name, want string }{
		{"ecoh", "echo"},
		{"exce", "exec"},
		{"countr", "counter"},
		{"tick", "ticker"},
		{"database", ""}, // nothing close: no suggestion
		{"x", ""},
		{"echo", "echo"},
	} {
		if got := Closest(c.name, names); got != c.want {
			t.Errorf("Closest(%q) = %q, want %q", c.name, got, c.want)
		}
	}
	if got := Closest("abc", nil); got != "" {
		t.Errorf("Closest with no candidates = %q", got)
	}
}

func ExampleClosest() {
	fmt.Println(Closest("stratgy", []string{"strategy", "period", "children"}))
	// Output: strategy
}
