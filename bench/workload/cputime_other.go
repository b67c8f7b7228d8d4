//go:build !unix

package workload

import "time"

// cpuTime is 0: the OS process's CPU time is read on Unix only.
func cpuTime() time.Duration { return 0 }
