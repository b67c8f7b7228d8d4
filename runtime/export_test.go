package runtime

// LinksOf returns the processes pid is linked to, for tests that check the
// link table's invariants.
func LinksOf(pid Pid) []Pid {
	if pid.p == nil {
		return nil
	}
	pid.p.mu.Lock()
	defer pid.p.mu.Unlock()
	var out []Pid
	if pid.p.link != nil {
		out = append(out, Pid{pid.p.link})
	}
	if pid.p.x != nil {
		for q := range pid.p.x.links {
			out = append(out, Pid{q})
		}
	}
	return out
}

// IsStray reports whether the process is counted as a stray: killed while
// its goroutine ran outside the runtime.
func IsStray(pid Pid) bool { return pid.p.isStray() }

// SupervisorCount returns the number of supervisors in the registry that
// SupervisorOf reads: every supervisor whose goroutine has not ended.
func SupervisorCount() int {
	n := 0
	supervisors.Range(func(any, any) bool { n++; return true })
	return n
}
