package spec

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// Backoff is a restart backoff as a tree file sets it, defaults applied:
// `backoff: 1s` (a fixed delay) or `backoff: {initial, max, factor,
// jitter, reset_after}`. It delays the start of a restart; the intensity
// still counts the restart when it is decided (see the runtime's Backoff).
type Backoff struct {
	Initial, Max time.Duration
	Factor       float64
	Jitter       float64
	ResetAfter   time.Duration
}

// Defaults of a backoff mapping's keys left out.
const (
	DefaultBackoffInitial    = 100 * time.Millisecond
	DefaultBackoffMax        = 30 * time.Second
	DefaultBackoffFactor     = 2.0
	DefaultBackoffResetAfter = time.Minute
)

// String writes b as a tree file would: "1s" for a fixed delay, else
// "{initial: 100ms, max: 30s, factor: 2, jitter: 0.1, reset_after: 1m}".
// A nil backoff is "none".
func (b *Backoff) String() string {
	if b == nil {
		return "none"
	}
	if b.Max == b.Initial && b.Factor == 1 && b.Jitter == 0 && b.ResetAfter == DefaultBackoffResetAfter {
		return FormatDuration(b.Initial)
	}
	return fmt.Sprintf("{initial: %s, max: %s, factor: %s, jitter: %s, reset_after: %s}",
		FormatDuration(b.Initial), FormatDuration(b.Max), strconv.FormatFloat(b.Factor, 'g', -1, 64),
		strconv.FormatFloat(b.Jitter, 'g', -1, 64), FormatDuration(b.ResetAfter))
}

// backoffValue reads a backoff: a duration (fixed) or a mapping. What the
// schema cannot check (max below initial) is reported at its position.
func backoffValue(f *document, v *yaml.Node) (*Backoff, bool) {
	if f.bad[v] {
		return nil, false
	}
	n := deref(v)
	if n == nil {
		return nil, false
	}
	if n.Kind == yaml.ScalarNode {
		d, ok := durationValue(f, v, "backoff")
		if !ok {
			return nil, false
		}
		return &Backoff{Initial: d, Max: d, Factor: 1, ResetAfter: DefaultBackoffResetAfter}, true
	}
	b := &Backoff{Initial: DefaultBackoffInitial, Max: DefaultBackoffMax, Factor: DefaultBackoffFactor, ResetAfter: DefaultBackoffResetAfter}
	var maxNode *yaml.Node
	ok := true
	eachField(n, func(k, v *yaml.Node) bool {
		if f.bad[v] {
			ok = false
			return true
		}
		switch k.Value {
		case "initial":
			b.Initial, ok = durationOr(f, v, "backoff.initial", b.Initial, ok)
		case "max":
			maxNode = v
			b.Max, ok = durationOr(f, v, "backoff.max", b.Max, ok)
		case "reset_after":
			if s, _ := scalarString(v); s == "0" || s == "0s" {
				b.ResetAfter = 0
				break
			}
			b.ResetAfter, ok = durationOr(f, v, "backoff.reset_after", b.ResetAfter, ok)
		case "factor":
			b.Factor, ok = floatOr(f, v, "backoff.factor", 1, math.Inf(1), b.Factor, ok)
		case "jitter":
			b.Jitter, ok = floatOr(f, v, "backoff.jitter", 0, 1, b.Jitter, ok)
		}
		return true
	}, nil, nil)
	if !ok {
		return nil, false
	}
	if maxNode == nil && b.Max < b.Initial {
		b.Max = b.Initial
	}
	if b.Max < b.Initial {
		f.errorf(maxNode, "backoff.max: %s is less than initial %s; max must be at least initial", FormatDuration(b.Max), FormatDuration(b.Initial))
		return nil, false
	}
	return b, true
}

func durationOr(f *document, v *yaml.Node, what string, d time.Duration, ok bool) (time.Duration, bool) {
	if got, good := durationValue(f, v, what); good {
		return got, ok
	}
	return d, false
}

// floatOr reads a number in [lo, hi) (hi infinite: no bound above).
func floatOr(f *document, v *yaml.Node, what string, lo, hi, x float64, ok bool) (float64, bool) {
	var got float64
	if err := deref(v).Decode(&got); err != nil || math.IsNaN(got) || got < lo || got >= hi {
		if math.IsInf(hi, 1) {
			f.errorf(v, "%s: must be a number of at least %g", what, lo)
		} else {
			f.errorf(v, "%s: must be a number from %g up to (not including) %g", what, lo, hi)
		}
		return x, false
	}
	return got, ok
}
