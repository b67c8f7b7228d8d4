package control_test

import (
	"fmt"

	"github.com/otpctl/otpctl/control"
	"github.com/otpctl/otpctl/live"
)

// The event log numbers events and replays those after a sequence number,
// as GET /v1/events?since=N does.
func Example() {
	log := control.NewEventLog(1000)
	log.Append(live.Event{Type: "started", Path: "shop/db", Cause: "boot"})
	log.Append(live.Event{Type: "exited", Path: "shop/db", Reason: "exit status 1"})
	log.Append(live.Event{Type: "started", Path: "shop/db", Cause: "crash", Trigger: "shop/db"})

	past := make([]live.Event, 10)
	n, _ := log.Read(1, past)
	for _, e := range past[:n] {
		fmt.Println(e.Seq, e.Type, e.Path, e.Reason+string(e.Cause))
	}
	// Output:
	// 2 exited shop/db exit status 1
	// 3 started shop/db crash
}
