package runtime

import "time"

// SupervisorSnapshot is a consistent picture of a supervisor's subtree,
// taken without stopping it.
type SupervisorSnapshot struct {
	Path        string
	Pid         Pid
	Flags       Flags
	Dynamic     bool
	MaxChildren int // dynamic supervisors only; zero: no limit
	// Budget is the restart intensity in use: Used restarts inside the
	// current window of Period, against Max (max_frequency).
	Budget   Budget
	Children []ChildSnapshot
}

// Budget is a supervisor's restart budget ("budget 1/3 in 5s").
type Budget struct {
	Used   int
	Max    int
	Period time.Duration
}

// ChildSnapshot is one child in a SupervisorSnapshot.
type ChildSnapshot struct {
	ID          string
	Path        string
	Kind        string
	Type        ChildType
	State       ChildState
	Pid         Pid // zero when not running
	Restart     RestartType
	Shutdown    ShutdownPolicy
	Significant bool
	// Restarts counts the starts after the first; LastRestart is the time
	// of the latest (zero if none) and Started the time of the current
	// start.
	Restarts    int
	LastRestart time.Time
	Started     time.Time
	Mailbox     int
	// Supervisor is the nested supervisor's own snapshot, for a running
	// supervisor child.
	Supervisor *SupervisorSnapshot
}

// Snapshot returns the supervisor's subtree as it is now, nested
// supervisors included.
func (s *Supervisor) Snapshot() (SupervisorSnapshot, error) {
	r, err := s.do(func(st *sup) any { return st.snapshot() })
	if err != nil {
		return SupervisorSnapshot{}, err
	}
	return r.(SupervisorSnapshot), nil
}

func (st *sup) snapshot() SupervisorSnapshot {
	now := st.self.p.clock.Now()
	out := SupervisorSnapshot{
		Path: st.path, Pid: st.self.Self(), Flags: st.flags, Dynamic: st.dyn != nil,
		Budget:   Budget{Used: st.restarts.count(now, st.flags.period()), Max: st.flags.MaxFrequency, Period: st.flags.period()},
		Children: make([]ChildSnapshot, 0, len(st.children)),
	}
	if st.dyn != nil {
		out.MaxChildren = st.dyn.MaxChildren
	}
	for _, c := range st.children {
		cs := ChildSnapshot{
			ID: c.spec.ID, Path: c.path, Kind: c.spec.Kind, Type: c.spec.Type, State: c.state, Pid: c.pid,
			Restart: c.spec.Restart, Shutdown: c.spec.shutdown(), Significant: c.spec.Significant,
			Restarts: c.restarts, LastRestart: c.lastRestart, Started: c.started, Mailbox: c.pid.MailboxLen(),
		}
		if !c.pid.IsZero() && c.spec.Type == SupervisorChild {
			if nested, ok := SupervisorOf(c.pid); ok {
				if ns, err := nested.Snapshot(); err == nil {
					cs.Supervisor = &ns
				}
			}
		}
		out.Children = append(out.Children, cs)
	}
	return out
}
