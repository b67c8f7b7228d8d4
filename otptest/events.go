package otptest

import (
	"errors"
	"fmt"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/otpctl/otpctl/internal/testrec"
	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/loader"
	"github.com/otpctl/otpctl/runtime"
)

// Line renders an event as one line of a trace, the form AssertTrace
// compares and failure messages print:
//
//	TYPE PATH [cause=CAUSE] [trigger=PATH] [reason=REASON]
//	reload PATH [added=P,…] [removed=P,…] [changed=P,…] [updated=P,…] [failed=P,…]
//	reload_failed PATH errors=N
//
// for example "started shop/db cause=crash trigger=shop/db" or
// "exited shop/db reason=exit status 2". What is empty is left out; the
// reason comes last, as it may hold spaces. Whether a terminated
// in-process worker was abandoned rather than stopped (NotStopped) is left
// out: it depends on where its goroutine was at that instant.
func Line(e live.Event) string {
	var b strings.Builder
	b.WriteString(string(e.Type))
	if e.Path != "" {
		b.WriteString(" " + e.Path)
	}
	field := func(name, value string) {
		if value != "" {
			b.WriteString(" " + name + "=" + value)
		}
	}
	switch e.Type {
	case loader.EventReload:
		field("added", strings.Join(e.Added, ","))
		field("removed", strings.Join(e.Removed, ","))
		field("changed", strings.Join(e.Changed, ","))
		field("updated", strings.Join(e.Updated, ","))
		field("failed", strings.Join(e.Failed, ","))
	case loader.EventReloadFailed:
		field("errors", strconv.Itoa(len(e.Errors)))
	default:
		field("cause", string(e.Cause))
		field("trigger", e.Trigger)
		field("reason", e.Reason)
	}
	return b.String()
}

// Lines renders events with Line.
func Lines(events []live.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = Line(e)
	}
	return out
}

// Mark is a place in a tree's event stream: the number of events emitted
// before it. Tree.Mark takes one; AssertTrace and AssertQuiet check what
// came after it.
type Mark int

// Matcher selects events for Await: by type and path, then optionally by
// cause, trigger, reason or a predicate. Started, Exited, Terminated,
// StartFailed, GaveUp, Reloaded and ReloadFailed make one; its methods
// narrow it and return the narrower copy.
type Matcher struct {
	typ                     runtime.EventType
	path                    string
	cause, trigger, reason  string
	byCause, byTrig, byReas bool
	preds                   []pred
}

type pred struct {
	desc string
	f    func(live.Event) bool
}

func match(typ runtime.EventType, path string) Matcher { return Matcher{typ: typ, path: path} }

// Started matches a started event of the node at path ("" for any node).
func Started(path string) Matcher { return match(runtime.EventStarted, path) }

// Exited matches an exited event (the node exited by itself) of path.
func Exited(path string) Matcher { return match(runtime.EventExited, path) }

// Terminated matches a terminated event (its supervisor stopped it) of path.
func Terminated(path string) Matcher { return match(runtime.EventTerminated, path) }

// StartFailed matches a start_failed event of path.
func StartFailed(path string) Matcher { return match(runtime.EventStartFailed, path) }

// GaveUp matches the give_up event of the supervisor at path: it passed its
// restart intensity.
func GaveUp(path string) Matcher { return match(runtime.EventGiveUp, path) }

// Reloaded matches a reload event: a reload applied its plan.
func Reloaded() Matcher { return match(loader.EventReload, "") }

// ReloadFailed matches a reload_failed event: a reload was refused and
// nothing changed.
func ReloadFailed() Matcher { return match(loader.EventReloadFailed, "") }

// Cause narrows m to events with that cause (boot, crash, sibling,
// escalation, reload, operator, shutdown).
func (m Matcher) Cause(c runtime.Cause) Matcher {
	m.cause, m.byCause = string(c), true
	return m
}

// Trigger narrows m to events set off by the exit of the node at path.
func (m Matcher) Trigger(path string) Matcher {
	m.trigger, m.byTrig = path, true
	return m
}

// Reason narrows m to events whose reason reads exactly text (as Line
// shows it: "killed", "shutdown", "exit status 2", …).
func (m Matcher) Reason(text string) Matcher {
	m.reason, m.byReas = text, true
	return m
}

// Where narrows m to events for which f is true; desc says what f checks,
// for failure messages.
func (m Matcher) Where(desc string, f func(live.Event) bool) Matcher {
	m.preds = append(append([]pred(nil), m.preds...), pred{desc, f})
	return m
}

// Match reports whether e is one of the events m selects.
func (m Matcher) Match(e live.Event) bool {
	switch {
	case e.Type != m.typ,
		m.path != "" && e.Path != m.path,
		m.byCause && string(e.Cause) != m.cause,
		m.byTrig && e.Trigger != m.trigger,
		m.byReas && e.Reason != m.reason:
		return false
	}
	for _, p := range m.preds {
		if !p.f(e) {
			return false
		}
	}
	return true
}

// String describes m in the form of Line: "started shop/db cause=crash".
func (m Matcher) String() string {
	var b strings.Builder
	b.WriteString(string(m.typ))
	if m.path != "" {
		b.WriteString(" " + m.path)
	} else if m.typ != loader.EventReload && m.typ != loader.EventReloadFailed {
		b.WriteString(" (any path)")
	}
	if m.byCause {
		b.WriteString(" cause=" + m.cause)
	}
	if m.byTrig {
		b.WriteString(" trigger=" + m.trigger)
	}
	if m.byReas {
		b.WriteString(" reason=" + m.reason)
	}
	for _, p := range m.preds {
		b.WriteString(" where " + p.desc)
	}
	return b.String()
}

// Events returns every event the tree has emitted so far, from its first
// boot start.
func (tr *Tree) Events() []live.Event { return tr.Since(0) }

// Since returns the events emitted after m.
func (tr *Tree) Since(m Mark) []live.Event { return tr.events.Since(int(m)) }

// Mark returns the current end of the event stream, and moves Await's
// cursor there: what happens from now on is after the mark.
func (tr *Tree) Mark() Mark {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.cursor = tr.events.Len()
	return Mark(tr.cursor)
}

// Await waits for the next event that m matches and returns it. It reads
// the stream from a cursor: the last Mark, or just after the event the last
// Await returned, or the end of the trace the last AssertTrace checked
// (the start of the stream at first). So a series of Awaits matches events
// in order, and an Await after a Mark sees only what came after it. The
// events it skips stay unchecked (AssertQuiet reports them). The test fails
// if no such event comes within the timeout, with the events it saw.
func (tr *Tree) Await(m Matcher) live.Event {
	tr.tb.Helper()
	tr.mu.Lock()
	from := tr.cursor
	tr.mu.Unlock()
	i, err := tr.events.Wait(from, tr.timeout, m.Match)
	switch {
	case errors.Is(err, testrec.ErrEnded):
		// The tree has stopped: its last event is in.
		tr.tb.Fatalf("otptest: Await %s: the tree stopped without it\n%s", m, tr.describe(from))
	case err != nil:
		tr.tb.Fatalf("otptest: Await %s: not seen in %v\n%s", m, tr.timeout, tr.describe(from))
	}
	tr.mu.Lock()
	tr.seen[i] = true
	tr.cursor = i + 1
	tr.mu.Unlock()
	return tr.events.At(i)
}

// describe lists the events after from, for failure messages.
func (tr *Tree) describe(from int) string {
	evs := tr.Since(Mark(from))
	if len(evs) == 0 {
		return fmt.Sprintf("no event after #%d", from)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "events after #%d:", from)
	for i, e := range evs {
		fmt.Fprintf(&b, "\n\t%3d  %s", from+i+1, Line(e))
	}
	return b.String()
}

// AssertTrace checks that the events after m are exactly want, in order,
// each written as Line writes it, and returns the mark at the end of them.
// It waits (up to the timeout) for at least len(want) events after m,
// then for the tree to settle (see AssertQuiet), so that an event that
// should not be there is seen too. On a difference the test fails with both
// traces side by side and the first difference marked.
func (tr *Tree) AssertTrace(m Mark, want ...string) Mark {
	tr.tb.Helper()
	end, msg := tr.assertTrace(m, want, false)
	if msg != "" {
		tr.tb.Fatalf("%s", msg)
	}
	return end
}

// AssertEvents is AssertTrace for events whose order is not defined: those
// of supervisors that run at the same time (an orphaned nested supervisor
// stopping its children while its parent's parent restarts it; a dynamic
// supervisor's children, stopped all at once). It checks that the events
// after m are want in some order; on a difference both lists are shown
// sorted.
func (tr *Tree) AssertEvents(m Mark, want ...string) Mark {
	tr.tb.Helper()
	end, msg := tr.assertTrace(m, want, true)
	if msg != "" {
		tr.tb.Fatalf("%s", msg)
	}
	return end
}

func (tr *Tree) assertTrace(m Mark, want []string, anyOrder bool) (Mark, string) {
	// Short of len(want) events, past the timeout or once the tree has
	// stopped, the difference is the answer.
	waited := tr.events.WaitLen(int(m)+len(want), tr.timeout) == nil
	unsettled := ""
	if waited {
		unsettled = tr.settle()
	}
	all := tr.events.All()
	end := len(all)
	got := Lines(all[min(int(m), end):])
	tr.mu.Lock()
	for i := int(m); i < end; i++ {
		tr.seen[i] = true
	}
	tr.cursor = max(tr.cursor, end)
	tr.mu.Unlock()
	what, is, differs := "trace", "is", "differs from the one"
	if anyOrder {
		what, is, differs = "events (in any order)", "are", "differ from the ones"
		want, got = slices.Sorted(slices.Values(want)), slices.Sorted(slices.Values(got))
	}
	d := diff(want, got)
	switch {
	case d == "" && unsettled == "":
		return Mark(end), ""
	case d == "":
		return Mark(end), fmt.Sprintf("otptest: the %s after #%d %s as expected, but the tree did not settle: %s", what, m, is, unsettled)
	}
	msg := fmt.Sprintf("otptest: the %s after #%d %s expected:\n%s", what, m, differs, d)
	switch {
	case !waited:
		msg += fmt.Sprintf("\n(waited %v for %d events)", tr.timeout, len(want))
	case unsettled != "":
		msg += "\n(the tree did not settle: " + unsettled + ")"
	}
	return Mark(end), msg
}

// AssertQuiet checks that nothing else happened after m: once the tree
// has settled, every event after m is one that an Await returned or an
// AssertTrace checked. It does not sleep and hope; it settles the tree (see
// below) and then looks.
//
// # Settling
//
// The tree has settled when every supervisor has handled everything that
// was sent or signalled to it before the check began, so that every event
// those things cause has been emitted. A pass takes a snapshot of the whole
// tree (loader.Running.Snapshot): each supervisor answers it from its own
// goroutine, between two messages (or during a child's start, which then
// shows as starting), so its answer comes after it has
// handled every message queued before the request, and handling a message
// emits its events before the supervisor takes the next one. A pass counts
// as settled when
//
//  1. no event was emitted while it ran;
//  2. no child is restarting (a failed restart retries through the
//     supervisor's own mailbox, after our request) nor starting (a
//     supervisor answers snapshots during a child's start);
//  3. every child the snapshot shows running is alive: a dead one has an
//     exit on its way to its supervisor that the supervisor has not
//     handled (a process is marked dead before its links are signalled);
//  4. every process the tree ever started that is still alive is in the
//     snapshot: none is an orphan still stopping its own children after
//     its supervisor was killed.
//
// One such pass is enough. The snapshot asks the root first, then each
// nested supervisor: one that handles a queued message after its parent
// answered can only emit events (1), or exit, and then its parent still
// lists it running while it is dead (3). Events emitted by handling a
// message queued before the pass are in before the handler's supervisor
// answers. So after a settled pass no message queued, and no exit signalled,
// before it is still to be handled; the tree is retried until a pass
// settles, up to the timeout.
//
// Exits that the test causes (Kill, Stop, Halt, a supervisor's stop) reach
// the supervisor's mailbox before the call returns, or show as 3 or 4 until
// they do; a stopped tree has settled once its last event is in (Done)
// and no process of it is alive. What settling cannot see is what a worker
// will do by itself later: one that exits on a timer that Advance just
// fired, or after replying to a Call, has not necessarily done it yet. For
// those, Await the event.
func (tr *Tree) AssertQuiet(m Mark) {
	tr.tb.Helper()
	if why := tr.settle(); why != "" {
		tr.tb.Fatalf("otptest: AssertQuiet: the tree did not settle: %s\n%s", why, tr.describe(int(m)))
	}
	all := tr.events.All()
	tr.mu.Lock()
	var extra []string
	for i := int(m); i < len(all); i++ {
		if !tr.seen[i] {
			extra = append(extra, fmt.Sprintf("\t%3d  %s", i+1, Line(all[i])))
		}
	}
	tr.mu.Unlock()
	if len(extra) > 0 {
		tr.tb.Fatalf("otptest: AssertQuiet: something else happened after #%d:\n%s\n%s", m, strings.Join(extra, "\n"), tr.describe(int(m)))
	}
}

// settle waits until the tree has settled (see AssertQuiet) and returns ""
// or, past the timeout, why it has not.
func (tr *Tree) settle() string {
	_, why := tr.settled()
	return why
}

// settled settles the tree and returns its last snapshot (nil once the
// tree has stopped).
func (tr *Tree) settled() (*live.Node, string) {
	deadline := time.Now().Add(tr.timeout)
	for try := 0; ; try++ {
		n := tr.events.Len()
		snap, err := tr.r.Snapshot()
		why := ""
		if err != nil {
			// Stopped: Done is closed once the root's last event is in.
			select {
			case <-tr.r.Done():
				if alive := tr.alive(); len(alive) > 0 {
					why = "the tree has stopped, but these are still stopping: " + strings.Join(alive, ", ")
				}
			default:
				why = "the root has exited; its last event is not in yet"
			}
		} else {
			why = tr.unsettled(snap)
			if why == "" && tr.events.Len() != n {
				why = "events were emitted while it was checked"
			}
		}
		if why == "" {
			return snap, ""
		}
		if time.Now().After(deadline) {
			return nil, why
		}
		// Between tries, let the goroutines that are still at work run.
		if try < 100 {
			goruntime.Gosched()
		} else {
			time.Sleep(50 * time.Microsecond)
		}
	}
}

// unsettled checks conditions 2 to 4 of AssertQuiet on a snapshot.
func (tr *Tree) unsettled(snap *live.Node) string {
	why := ""
	inTree := map[runtime.Pid]bool{}
	snap.Walk(func(n *live.Node) {
		if !n.Proc.IsZero() {
			inTree[n.Proc] = true
		}
		if why != "" || n == snap {
			return
		}
		switch {
		case n.State == runtime.StateRestarting && n.RestartDue == nil:
			// (One waiting for its backoff is settled: it starts when
			// its time comes, which a test with a fake clock arranges.)
			why = n.Path + " is being restarted"
		case n.State == runtime.StateStarting:
			why = n.Path + " is starting"
		case n.State == runtime.StateRunning && !n.Proc.Alive():
			why = n.Path + " has exited and its supervisor has not handled it yet"
		}
	})
	if why != "" {
		return why
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, p := range tr.procs {
		if !inTree[p.pid] && p.pid.Alive() {
			return fmt.Sprintf("%s %v is alive outside the tree (still stopping)", p.path, p.pid)
		}
	}
	return ""
}

// diff returns "" when got is want, or both side by side, numbered, with
// the first line that differs marked ">":
//
//	     want                          got
//	  1  started r/a cause=boot        started r/a cause=boot
//	> 2  exited r/b reason=boom        exited r/c reason=boom
//	  3  started r/b cause=crash …     (nothing)
func diff(want, got []string) string {
	first := -1
	for i := 0; i < max(len(want), len(got)); i++ {
		if i >= len(want) || i >= len(got) || want[i] != got[i] {
			first = i
			break
		}
	}
	if first < 0 {
		return ""
	}
	const none = "(nothing)"
	width := len(none)
	for _, w := range want {
		width = max(width, len(w))
	}
	num := len(strconv.Itoa(max(len(want), len(got))))
	var b strings.Builder
	fmt.Fprintf(&b, "  %*s  %-*s  %s\n", num, "", width, "want", "got")
	for i := 0; i < max(len(want), len(got)); i++ {
		w, g := none, none
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		mark := " "
		if i == first {
			mark = ">"
		}
		fmt.Fprintf(&b, "%s %*d  %-*s  %s\n", mark, num, i+1, width, w, g)
	}
	return strings.TrimRight(b.String(), "\n")
}
