package runtime

import "time"

// A killed supervisor cannot stop its children: they get its exit signal
// through their links and die with it (workers), or stop their own children
// and exit (nested supervisors, which trap exits), as in OTP. Nobody would
// report them, and everyone who keeps a record by pid (the loader, a test)
// would keep them for ever. So they are reported, in OTP's order (each
// worker after its supervisor):
//
//  1. the killed supervisor's exit, by its parent (exited, reason killed);
//  2. each of its workers, in reverse start order, by the killed
//     supervisor's goroutine as it unwinds (reportOrphans): terminated,
//     with the supervisor's exit reason (killed), cause escalation, and the
//     supervisor's path as trigger. That goroutine waits for its parent's
//     report (1) before it reports, and the parent waits for it before it
//     restarts anything, so that the old workers are reported before the
//     new ones start;
//  3. each nested supervisor by itself, once it has stopped its own
//     children (their terminated events have that same cause and trigger):
//     terminated, with the killed supervisor's reason, cause escalation
//     and the killed supervisor's path as trigger. It runs on its own
//     goroutine, at the same time as 2 and as the parent's restart, as the
//     orphaned supervisor does in OTP: its events are in no defined order
//     with those.
//
// For the root, which has no supervisor to see it exit, 2 and 3 come before
// the root's own exit is known (its Done is closed after 2).
//
// A killed supervisor whose goroutine was running a child's start (outside
// the runtime) reports its workers when that start returns; its parent does
// not wait for that. Both waits are bounded (orphanReportWait): a parent
// that is busy, or gone too, delays the report by that much at most, and
// then the order is not kept.

// orphanReportWait bounds how long a killed nested supervisor's goroutine
// waits for its parent's report of its exit, and how long the parent waits
// for that goroutine's report of its workers. The goroutine was not running
// a child's Start when it was killed, so it has nothing to do but unwind at
// its next runtime call; the bound only guards against an Events hook that
// blocks, or a parent that does not handle the exit.
const orphanReportWait = time.Second

// reportOrphans runs on the goroutine of a supervisor that was killed (it
// is unwinding): it reports each of its running workers terminated with
// the supervisor's reason, last started first. Nested supervisors report
// themselves (see reportSelf).
func (st *sup) reportOrphans(reason error) {
	for i := len(st.children) - 1; i >= 0; i-- {
		c := st.children[i]
		if c.pid.IsZero() || c.spec.Type == SupervisorChild {
			continue
		}
		st.emit(Event{Type: EventTerminated, Path: c.path, Kind: c.spec.Kind, Pid: c.pid, Reason: reason,
			Cause: CauseEscalation, Trigger: st.path, NotStopped: c.pid.p.isStray()})
	}
}

// awaitParentReport waits, on a killed supervisor's goroutine, until its
// parent supervisor has reported its exit (see reported), so that its
// workers are reported after it.
func (st *sup) awaitParentReport() {
	ps := st.parentSup
	if ps == nil {
		return
	}
	t := time.NewTimer(orphanReportWait)
	defer t.Stop()
	select {
	case <-st.h.parentReported:
	case <-ps.done:
	case <-t.C:
	}
}

// reported is called by a supervisor once it has reported the end of its
// child c, whose process was pid: for a supervisor child that was killed,
// it lets the child's goroutine report its workers, and waits until it has
// (see awaitOrphanReport).
func (st *sup) reported(c *child, pid Pid) {
	if c.spec.Type != SupervisorChild {
		return
	}
	h, ok := SupervisorOf(pid)
	if !ok {
		return
	}
	h.mu.Lock()
	if !h.reportReleased {
		h.reportReleased = true
		close(h.parentReported)
	}
	h.mu.Unlock()
	st.awaitOrphanReport(h)
}

// awaitOrphanReport waits until the supervisor child h, which has just
// exited, has reported its workers (see reportOrphans), unless its
// goroutine is running a child's Start, which may take long.
func (st *sup) awaitOrphanReport(h *Supervisor) {
	if h.isInStart() {
		return
	}
	select {
	case <-h.done:
		return
	default:
	}
	t := time.NewTimer(orphanReportWait)
	defer t.Stop()
	select {
	case <-h.done:
	case <-t.C:
	}
}

// reportSelf reports the supervisor terminated once it has stopped its
// children after its parent supervisor was killed: no one else is left to.
func (st *sup) reportSelf(reason error, trigger string) {
	st.emit(Event{Type: EventTerminated, Path: st.path, Kind: st.h.childKind(), Pid: st.self.Self(), Reason: reason,
		Cause: CauseEscalation, Trigger: trigger})
}

// noteKind records on a supervisor child's handle the kind its parent
// knows it as, for the event it reports of itself (reportSelf).
func noteKind(c *child) {
	if c.spec.Type != SupervisorChild {
		return
	}
	if h, ok := SupervisorOf(c.pid); ok {
		h.mu.Lock()
		h.kind = c.spec.Kind
		h.mu.Unlock()
	}
}

func (s *Supervisor) childKind() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.kind
}

// setInStart records whether the supervisor's goroutine runs a child's
// Start: killed then, it reports its workers only once that Start returns.
func (s *Supervisor) setInStart(on bool) {
	s.mu.Lock()
	s.inStart = on
	s.mu.Unlock()
}

func (s *Supervisor) isInStart() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inStart
}
