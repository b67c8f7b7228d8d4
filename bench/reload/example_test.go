package reload_test

import (
	"fmt"
	"slices"

	"github.com/otpctl/otpctl/bench/reload"
	"github.com/otpctl/otpctl/bench/workload"
)

// W7 on a small tree (2 supervisors of 3 workers): it fails unless each
// reload restarts exactly the changed leaf, and returns its figures by name.
func ExampleW7Reload() {
	res, err := reload.W7Reload(workload.Sizes{Sups: 2, Workers: 3})
	if err != nil {
		fmt.Println(err)
		return
	}
	names := make([]string, 0, len(res))
	for name := range res {
		names = append(names, name)
	}
	slices.Sort(names)
	fmt.Println(names)
	// Output:
	// [reload_file_s reload_no_debounce_s tree_json_bytes tree_json_s validate_s write_to_reload_s]
}
