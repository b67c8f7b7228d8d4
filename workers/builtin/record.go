package builtin

// Leftover is a process of a previous run of the same tree that KeepRecord
// found still running (its otpctl died) and stopped.
type Leftover struct {
	Pid     int
	Command string
}
