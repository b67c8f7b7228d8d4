package loader

import (
	"time"

	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/spec"
	"github.com/otpctl/otpctl/workers"
)

// Snapshot returns the live tree as it is now: each supervisor's subtree is
// a consistent picture taken by its own goroutine (runtime.Supervisor's
// Snapshot), with the workers' OS pids added. It fails with ErrStopped once
// the tree has stopped.
func (r *Running) Snapshot() (*live.Node, error) {
	ss, err := r.root.Snapshot()
	if err != nil {
		return nil, ErrStopped
	}
	root := &live.Node{
		Path: r.rootPath, Name: r.rootPath, Type: runtime.SupervisorChild.String(), State: runtime.StateStarting,
		Mailbox: r.root.Pid().MailboxLen(),
		Restart: runtime.Permanent.String(), Shutdown: shutdownText(runtime.Infinity),
	}
	setProc(root, r.root.Pid())
	if r.isUp() {
		root.State, root.Started = runtime.StateRunning, timePtr(r.started)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fillSupervisor(root, &ss)
	return root, nil
}

// fillSupervisor adds a supervisor snapshot's flags and children to n. It
// runs with r.mu held (for the OS pids).
func (r *Running) fillSupervisor(n *live.Node, ss *runtime.SupervisorSnapshot) {
	n.Strategy, n.AutoShutdown = ss.Flags.Strategy.String(), ss.Flags.AutoShutdown.String()
	n.Dynamic, n.MaxChildren = ss.Dynamic, ss.MaxChildren
	if n.State == runtime.StateRunning && ss.Budget.Period > 0 {
		n.Budget = &live.Budget{Used: ss.Budget.Used, Max: ss.Budget.Max, Period: spec.FormatDuration(ss.Budget.Period)}
	}
	if sn := r.node(n.Path); ss.Dynamic && sn != nil && sn.Supervisor != nil && sn.Supervisor.Dynamic != nil {
		n.Kind = sn.Supervisor.Dynamic.Kind
	}
	r.fillPool(n)
	n.Children = make([]*live.Node, 0, len(ss.Children))
	for i := range ss.Children {
		c := &ss.Children[i]
		cn := &live.Node{
			Path: c.Path, Name: c.ID, Type: c.Type.String(), State: c.State,
			Restarts: c.Restarts, LastRestart: timePtr(c.LastRestart), Mailbox: c.Mailbox,
			Restart: c.Restart.String(), Shutdown: shutdownText(c.Shutdown), Significant: c.Significant,
			CrashRestarts: c.CrashRestarts,
		}
		if c.LastExit != nil {
			cn.LastExit = &live.Exit{Reason: ReasonText(c.LastExit), At: c.LastExitAt}
		}
		setProc(cn, c.Pid)
		fillBackoff(cn, c, ss.Taken)
		if c.Type != runtime.SupervisorChild {
			cn.Kind = c.Kind
		}
		if !c.Pid.IsZero() && c.State == runtime.StateRunning {
			cn.Started = timePtr(c.Started)
			if inst := r.insts[c.Pid]; inst != nil {
				cn.OSPid = inst.OSPid
				cn.Health = healthOf(&inst.Instance)
			}
		}
		if c.Type == runtime.SupervisorChild {
			if c.Supervisor != nil {
				r.fillSupervisor(cn, c.Supervisor)
			} else if sn := r.node(c.Path); sn != nil && sn.Supervisor != nil {
				// Not running: its strategy as the tree file says.
				cn.Strategy = sn.Supervisor.Strategy
				if d := sn.Supervisor.Dynamic; d != nil {
					cn.Dynamic, cn.Kind, cn.Strategy = true, d.Kind, spec.OneForOne
				}
				r.fillPool(cn)
			}
		}
		n.Children = append(n.Children, cn)
	}
}

// setProc sets n's process and its text.
func setProc(n *live.Node, pid runtime.Pid) {
	if !pid.IsZero() {
		n.Proc, n.Pid = pid, pid.String()
	}
}

// timePtr is t, or nil when it is zero (JSON leaves it out).
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// shutdownText reads a shutdown policy as the tree file writes it:
// brutal_kill, infinity or a duration ("5s").
func shutdownText(s runtime.ShutdownPolicy) string {
	if s < 0 {
		return s.String()
	}
	return spec.FormatDuration(time.Duration(s))
}

// healthOf reads a worker's health, nil when it has no health check.
func healthOf(inst *workers.Instance) *live.Health {
	if inst.Health == nil {
		return nil
	}
	h := inst.Health()
	return &live.Health{Status: h.Status, Last: h.Last, At: timePtr(h.At), Failures: h.Failures}
}
