package runtime

import "time"

// SupervisorSnapshot is a picture of a supervisor's subtree, taken without
// stopping it.
type SupervisorSnapshot struct {
	Path        string
	Pid         Pid
	Flags       Flags
	Dynamic     bool
	MaxChildren int // dynamic supervisors only; zero: no limit
	// Taken is the supervisor's clock reading when the picture was taken.
	Taken time.Time
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
	Pid         Pid // zero when not running; a starting child's once it exists
	Restart     RestartType
	Shutdown    ShutdownPolicy // with the default resolved
	Significant bool
	// Restarts counts the starts of this child after its first (by its
	// supervisor, an operator or a reload); LastRestart is the time of the
	// latest (zero if none) and Started the time of the latest start.
	Restarts    int
	LastRestart time.Time
	Started     time.Time
	Mailbox     int
	// Supervisor is the nested supervisor's own snapshot, for a running
	// supervisor child (nil if it exited while the snapshot was taken).
	Supervisor *SupervisorSnapshot
}

// Snapshot returns the supervisor's subtree as it is now, in start order,
// nested supervisors included. It answers while a child starts: that child
// is StateStarting, with its process once it exists (a nested supervisor
// being started shows its own start). Each supervisor's own part is consistent (it
// is taken by its goroutine between two messages); the nested supervisors'
// parts are taken right after, one by one, so that no supervisor waits for
// another.
func (s *Supervisor) Snapshot() (SupervisorSnapshot, error) {
	r, err := s.ask(func(st *sup) any { return st.snapshot() })
	if err != nil {
		return SupervisorSnapshot{}, err
	}
	out := r.(SupervisorSnapshot)
	for i := range out.Children {
		c := &out.Children[i]
		if c.Pid.IsZero() || c.Type != SupervisorChild {
			continue
		}
		if nested, ok := SupervisorOf(c.Pid); ok {
			if ns, err := nested.Snapshot(); err == nil {
				c.Supervisor = &ns
			}
		}
	}
	return out, nil
}

func (st *sup) snapshot() SupervisorSnapshot {
	now := st.self.p.clock.Now()
	out := SupervisorSnapshot{
		Path: st.path, Pid: st.self.Self(), Flags: st.flags, Dynamic: st.dyn != nil, Taken: now,
		Budget:   Budget{Used: st.restarts.count(now, st.flags.period()), Max: st.flags.MaxFrequency, Period: st.flags.period()},
		Children: make([]ChildSnapshot, 0, len(st.children)),
	}
	if st.dyn != nil {
		out.MaxChildren = st.dyn.MaxChildren
	}
	for _, c := range st.children {
		out.Children = append(out.Children, ChildSnapshot{
			ID: c.spec.ID, Path: c.path, Kind: c.spec.Kind, Type: c.spec.Type, State: c.state, Pid: st.pidOf(c),
			Restart: c.spec.Restart, Shutdown: c.spec.shutdown(), Significant: c.spec.Significant,
			Restarts: c.restarts, LastRestart: c.lastRestart, Started: c.started, Mailbox: st.pidOf(c).MailboxLen(),
		})
	}
	return out
}
