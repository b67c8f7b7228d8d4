package workload_test

import (
	"fmt"

	"github.com/otpctl/otpctl/bench/workload"
)

// Run W2 on the runtime and on the floor and compare them, as the bench
// harness does (ratios >1 are worse than plain Go).
func Example() {
	sz := workload.QuickSizes()
	actors, err := workload.W2Actors(sz)
	if err != nil {
		panic(err)
	}
	floor, err := workload.W2Floor(sz, 0)
	if err != nil {
		panic(err)
	}
	ratio := actors["ns_per_rt"] / floor["ns_per_rt"]
	fmt.Println(workload.Metrics["ns_per_rt"].Label, ratio > 0)
	// Output: ns / round trip true
}
