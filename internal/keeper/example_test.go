//go:build linux

package keeper_test

import (
	"fmt"
	"os"

	"github.com/otpctl/otpctl/internal/keeper"
)

// A process is named by its pid and its start time: a pid the kernel gives
// to another process later comes with another start time.
func ExampleProcStart() {
	start, ok := keeper.ProcStart(os.Getpid())
	again, _ := keeper.ProcStart(os.Getpid())
	state, pgid, _ := keeper.ProcStat(os.Getpid())
	fmt.Println(ok, start == again, state != "Z" && pgid > 0)
	// Output: true true true
}
