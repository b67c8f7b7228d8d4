package control_test

import (
	"fmt"

	"github.com/otpctl/otpctl/control"
)

// The event log numbers events and replays those after a sequence number,
// as GET /v1/events?since=N does.
func Example() {
	log := control.NewEventLog(1000)
	log.Append(control.Event{Event: "started", Path: "shop/db", Cause: "boot"})
	log.Append(control.Event{Event: "exited", Path: "shop/db", Reason: "exit status 1"})
	log.Append(control.Event{Event: "started", Path: "shop/db", Cause: "crash", Trigger: "shop/db"})

	past := make([]control.Event, 10)
	n, _ := log.Read(1, past)
	for _, e := range past[:n] {
		fmt.Println(e.Seq, e.Event, e.Path, e.Reason+e.Cause)
	}
	// Output:
	// 2 exited shop/db exit status 1
	// 3 started shop/db crash
}
