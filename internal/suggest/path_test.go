package suggest

import "testing"

func TestPath(t *testing.T) {
	paths := []string{"shop", "shop/web", "shop/pool", "shop/pool/w1", "shop/pool/w2", "shop/jobs", "ops", "ops/web"}
	for _, c := range []struct{ path, want string }{
		{"shop/pol/w1", "shop/pool/w1"},
		{"shop/pool/w4", "shop/pool/w1"},
		{"shpo/web", "shop/web"},
		{"shop/wbe", "shop/web"},
		{"shop/pool/w1", ""}, // it exists
		{"ops/nosuch", ""},   // nothing close
		{"shop/nope", ""},    // jobs is 3 edits away: another name
		{"shop/db", ""},
		{"shop/pool/w1/x", ""},
		{"nowhere", ""},
		{"", ""},
	} {
		if got := Path(c.path, paths); got != c.want {
			t.Errorf("Path(%q) = %q, want %q", c.path, got, c.want)
		}
	}
	if got := Path("shop/x", nil); got != "" {
		t.Errorf("Path with no paths = %q", got)
	}
}
