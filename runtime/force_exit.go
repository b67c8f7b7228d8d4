package runtime

// ForceExit ends the process at pid at once with reason, as if it had
// exited by itself with it: neither trapping exits nor a Normal reason keeps
// it alive, and its links and monitors fire with reason (a supervisor sees
// the child exit with it). It is fault injection (`otpctl kill`), not a
// signal the process may handle; prefer Exit, which follows Erlang's
// exit/2. Its OnExit function runs; a goroutine running outside the runtime
// is abandoned until its next runtime call, as for Killed (see Strays).
// A dead process is left as it is.
func ForceExit(pid Pid, reason error) {
	if pid.p == nil {
		return
	}
	if reason == nil {
		reason = Normal
	}
	pid.p.exit(reason)
}
