//go:build linux

package keeper_test

import (
	"fmt"
	"os"

	"github.com/otpctl/otpctl/internal/keeper"
)

// A process is named by its pid and its start time: a pid the kernel gives
// to another process later comes with another start time.
func ExampleProcStat() {
	state, pgid, ok := keeper.ProcStat(os.Getpid())
	_, started := keeper.ProcStart(os.Getpid())
	fmt.Println(state, pgid > 0, ok, started)
	// Output: R true true true
}
