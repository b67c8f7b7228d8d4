package runtime

import (
	"testing"
	"time"
)

// The restart ring answers OTP's add_restart: a restart is within the
// intensity while the restarts in the period, itself included, are at most
// max; a restart exactly Period ago still counts.
func TestRestartRing(t *testing.T) {
	const s = time.Second
	type step struct {
		at     time.Duration // since the epoch
		resize int           // when > 0: resize(resize) before the restart, as SetFlags does
		within bool          // what add answers
	}
	cases := []struct {
		name   string
		max    int
		period time.Duration
		steps  []step
		count  int // restarts in the period after the last step
	}{
		{"intensity 0 allows none", 0, 5 * s, []step{{at: 0, within: false}}, 1},
		{"intensity 1: the second in the period gives up", 1, 5 * s, []step{{at: 0, within: true}, {at: s, within: false}}, 2},
		{"exactly Period ago still counts", 1, 5 * s, []step{{at: 0, within: true}, {at: 5 * s, within: false}}, 2},
		{"just past Period no longer counts", 1, 5 * s, []step{{at: 0, within: true}, {at: 5*s + 1, within: true}}, 1},
		{"old restarts leave the window", 3, 10 * s, []step{
			{at: 0, within: true}, {at: s, within: true}, {at: 2 * s, within: true}, {at: 3 * s, within: false},
			{at: 20 * s, within: true}}, 1},
		{"the ring grows with the restart rate", 1000, s, []step{
			{at: 1, within: true}, {at: 2, within: true}, {at: 3, within: true}, {at: 4, within: true},
			{at: 5, within: true}, {at: 6, within: true}, {at: 7, within: true}}, 7},
		{"a lower intensity keeps the latest restarts", 3, 10 * s, []step{
			{at: 0, within: true}, {at: s, within: true}, {at: 2 * s, within: true},
			{at: 3 * s, resize: 2, within: false}}, 2},
	}
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r restartRing
			r.resize(c.max + 1)
			max := c.max
			var last time.Time
			for i, st := range c.steps {
				if st.resize > 0 {
					r.resize(st.resize)
					max = st.resize - 1
				}
				last = epoch.Add(st.at)
				if got := r.add(last, c.period, max); got != st.within {
					t.Fatalf("restart %d at %v: within = %v, want %v", i, st.at, got, st.within)
				}
			}
			if got := r.count(last, c.period); got != c.count {
				t.Fatalf("count = %d, want %d", got, c.count)
			}
		})
	}
}
