package loader

import (
	"time"

	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/spec"
)

// fillBackoff sets the backoff of the live node n of child c, and the
// time left before its delayed restart, if one is pending, from the
// snapshot taken at taken.
func fillBackoff(n *live.Node, c *runtime.ChildSnapshot, taken time.Time) {
	if b := c.Backoff; !b.IsZero() {
		n.Backoff = (&spec.Backoff{Initial: b.Initial, Max: max(b.Max, b.Initial), Factor: max(b.Factor, 1),
			Jitter: b.Jitter, ResetAfter: b.ResetAfter}).String()
	}
	if c.RestartDue.IsZero() {
		return
	}
	n.RestartDue = timePtr(c.RestartDue)
	n.RestartIn = spec.FormatDuration(max(c.RestartDue.Sub(taken), 0).Round(100 * time.Millisecond))
}
