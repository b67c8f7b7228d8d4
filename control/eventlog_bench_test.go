package control

import (
	"testing"

	"github.com/otpctl/otpctl/live"
)

// BenchmarkEventLogAppend is the cost of the events' path through the log
// (`otpctl run`'s event hook): a restart's exited and started, with the
// counting that GET /metrics reads.
func BenchmarkEventLogAppend(b *testing.B) {
	l := NewEventLog(10000)
	exited := live.Event{Type: "exited", Path: "shop/pool/w1", Reason: "boom"}
	started := live.Event{Type: "started", Path: "shop/pool/w1", Cause: "crash"}
	b.ReportAllocs()
	for b.Loop() {
		l.Append(exited)
		l.Append(started)
	}
}
