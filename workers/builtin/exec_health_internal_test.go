package builtin

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// The counting of probe results, on a FakeClock: failures during the
// start period do not count until a probe passes (Docker's rule); a pass
// resets the count; the child is unhealthy once, at `failures` in a row.
func TestHealthTracker(t *testing.T) {
	refused := errors.New("connection refused")
	type step struct {
		after time.Duration // since readiness
		err   error
		want  string // status/failures after it, "!" when it turns unhealthy
	}
	cases := []struct {
		name        string
		startPeriod time.Duration
		steps       []step
	}{
		{"no start period", 0, []step{
			{10 * time.Second, refused, "starting/1"},
			{20 * time.Second, nil, "healthy/0"},
			{30 * time.Second, refused, "healthy/1"},
			{40 * time.Second, refused, "!unhealthy/2"},
			{50 * time.Second, refused, "unhealthy/3"},
		}},
		{"failures in the start period do not count", 30 * time.Second, []step{
			{10 * time.Second, refused, "starting/0"},
			{20 * time.Second, refused, "starting/0"},
			{30 * time.Second, refused, "starting/1"},
			{40 * time.Second, refused, "!unhealthy/2"},
		}},
		{"a pass ends the start period", 60 * time.Second, []step{
			{10 * time.Second, refused, "starting/0"},
			{20 * time.Second, nil, "healthy/0"},
			{30 * time.Second, refused, "healthy/1"},
			{40 * time.Second, nil, "healthy/0"},
			{50 * time.Second, refused, "healthy/1"},
			{55 * time.Second, refused, "!unhealthy/2"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := runtime.NewFakeClock(time.Unix(0, 0))
			check := &healthCheck{interval: 10 * time.Second, timeout: time.Second, failures: 2, startPeriod: c.startPeriod}
			h := newHealthTracker(check, clock.Now())
			var trace []string
			var want []string
			for _, s := range c.steps {
				clock.Advance(s.after - clock.Now().Sub(time.Unix(0, 0)))
				turned := h.observe(clock.Now(), s.err)
				st := h.state()
				got := fmt.Sprintf("%s/%d", st.Status, st.Failures)
				if turned {
					got = "!" + got
				}
				if !st.At.Equal(clock.Now()) {
					t.Errorf("at %v: At %v", s.after, st.At)
				}
				if s.err != nil && st.Last != s.err.Error() || s.err == nil && st.Last != "ok" {
					t.Errorf("at %v: Last %q", s.after, st.Last)
				}
				trace = append(trace, got)
				want = append(want, s.want)
			}
			if strings.Join(trace, " ") != strings.Join(want, " ") {
				t.Fatalf("trace %v, want %v", trace, want)
			}
		})
	}
}
