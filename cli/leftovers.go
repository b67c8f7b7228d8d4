package cli

import (
	"log/slog"
	"strings"

	"github.com/otpctl/otpctl/workers/builtin"
)

// recordFile is where `run` on socket records what it starts: NAME.pids
// beside NAME.sock, in the instance's runtime folder.
func recordFile(socket string) string {
	return strings.TrimSuffix(socket, ".sock") + ".pids"
}

// stopLeftovers stops what a previous run of this instance that died left
// running (builtin.KeepRecord), logs each process it stopped, and records
// from now on what this run starts.
func stopLeftovers(socket string, log *slog.Logger) {
	file := recordFile(socket)
	left, err := builtin.KeepRecord(file)
	for _, l := range left {
		log.Warn("stopped a process a previous run left behind", "os_pid", l.Pid, "command", l.Command, "record", file)
	}
	if err != nil {
		log.Warn("leftovers of a previous run: " + err.Error())
	}
}
