package loader

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/otpctl/otpctl/control"
	"github.com/otpctl/otpctl/workers"
)

// logs keeps the last output lines of every worker path (`otpctl logs`):
// one ring per path, made at the worker's first start and kept across its
// restarts until a reload removes the node. A line's sequence number is
// unique in the tree and grows in the order the lines were kept, so rings
// merge in time order by it.
type logs struct {
	seq atomic.Uint64

	mu        sync.Mutex
	rings     map[string]*logRing
	nGone     int // rings whose gone is set
	followers map[chan struct{}]struct{}
}

// maxGoneRings bounds the rings kept of workers that have exited and not
// started again (a dynamic supervisor's finished jobs, each with a new
// name): past it, the one whose last line is oldest is dropped.
const maxGoneRings = 256

// ring returns the ring of path, a worker that starts, made empty with the
// default size if it has none.
func (l *logs) ring(path string) *logRing {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rings == nil {
		l.rings = map[string]*logRing{}
	}
	g := l.rings[path]
	if g == nil {
		g = &logRing{logs: l, path: path, size: workers.DefaultLogLines}
		l.rings[path] = g
	}
	if g.gone {
		g.gone = false
		l.nGone--
	}
	return g
}

// exited notes that the worker at path has exited: its ring may be dropped
// once more than maxGoneRings such are kept, unless it starts again first.
func (l *logs) exited(path string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	g := l.rings[path]
	if g == nil || g.gone {
		return
	}
	g.gone = true
	l.nGone++
	// Counted, so that an exit costs a look at every ring only past the
	// bound (a restart of one of many workers stays O(1)).
	if l.nGone <= maxGoneRings {
		return
	}
	var gone []*logRing
	for _, h := range l.rings {
		if h.gone {
			gone = append(gone, h)
		}
	}
	if len(gone) <= maxGoneRings {
		return
	}
	oldest := slices.MinFunc(gone, func(a, b *logRing) int { return compareSeq(a.last(), b.last()) })
	delete(l.rings, oldest.path)
	l.nGone--
}

// forget drops the rings of path and of its subtree (a reload removed it).
func (l *logs) forget(path string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for p := range l.rings {
		if p == path || strings.HasPrefix(p, path+"/") {
			if l.rings[p].gone {
				l.nGone--
			}
			delete(l.rings, p)
		}
	}
}

// read returns, in the order they were kept, the last n (at most) lines of
// path and its subtree that came after the sequence number after and, when
// q.Since is set, not before it. found says whether path or a path under
// it has a ring.
func (l *logs) read(q control.LogQuery) (lines []control.LogLine, found bool) {
	l.mu.Lock()
	var rings []*logRing
	for p, g := range l.rings {
		if p == q.Path || strings.HasPrefix(p, q.Path+"/") {
			rings = append(rings, g)
		}
	}
	l.mu.Unlock()
	for _, g := range rings {
		lines = g.appendAfter(lines, q)
	}
	slices.SortFunc(lines, func(a, b control.LogLine) int { return compareSeq(a.Seq, b.Seq) })
	if q.N > 0 && len(lines) > q.N {
		lines = lines[len(lines)-q.N:]
	}
	return lines, len(rings) > 0
}

func compareSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// follow returns a channel that gets a value (it holds one at most) when a
// line is kept, and the function that stops it.
func (l *logs) follow() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	l.mu.Lock()
	if l.followers == nil {
		l.followers = map[chan struct{}]struct{}{}
	}
	l.followers[ch] = struct{}{}
	l.mu.Unlock()
	return ch, func() {
		l.mu.Lock()
		delete(l.followers, ch)
		l.mu.Unlock()
	}
}

// kept wakes the followers, never waiting for one.
func (l *logs) kept() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ch := range l.followers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// logRing is the workers.Output of one path: its last size lines, the
// oldest overwritten first. Its memory grows with the lines written (a
// worker that writes none costs no buffer), up to size. Write is O(1)
// under a mutex.
type logRing struct {
	logs *logs
	path string
	gone bool // its worker has exited and not started again (under logs.mu)

	mu   sync.Mutex
	size int               // the most lines kept
	buf  []control.LogLine // at most size; once full, a circle whose oldest is at next
	next int
}

var _ workers.Output = (*logRing)(nil)

// Write keeps line, overwriting the oldest when the ring is full.
func (g *logRing) Write(line workers.Line) {
	g.mu.Lock()
	l := control.LogLine{
		Seq: g.logs.seq.Add(1), Time: line.Time, Path: g.path,
		OSPid: line.OSPid, Stream: line.Stream, Line: line.Text,
	}
	if len(g.buf) < g.size {
		g.buf = append(g.buf, l)
	} else {
		g.buf[g.next] = l
		g.next = (g.next + 1) % len(g.buf)
	}
	g.mu.Unlock()
	g.logs.kept()
}

// Keep resizes the ring to lines (0: the default), keeping the newest
// lines that fit.
func (g *logRing) Keep(lines int) {
	if lines <= 0 {
		lines = workers.DefaultLogLines
	}
	lines = min(lines, workers.MaxLogLines)
	g.mu.Lock()
	defer g.mu.Unlock()
	if lines == g.size {
		return
	}
	kept := g.appendLocked(nil, control.LogQuery{})
	if len(kept) > lines {
		kept = kept[len(kept)-lines:]
	}
	g.buf, g.next, g.size = slices.Clip(kept), 0, lines
}

// last is the sequence number of its newest line (0: none).
func (g *logRing) last() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.buf) == 0 {
		return 0
	}
	return g.buf[(g.next-1+len(g.buf))%len(g.buf)].Seq
}

// appendAfter appends the lines q selects (all but n) to out, oldest first.
func (g *logRing) appendAfter(out []control.LogLine, q control.LogQuery) []control.LogLine {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.appendLocked(out, q)
}

func (g *logRing) appendLocked(out []control.LogLine, q control.LogQuery) []control.LogLine {
	for i := range g.buf {
		l := g.buf[(g.next+i)%len(g.buf)]
		if l.Seq > q.After && (q.Since.IsZero() || !l.Time.Before(q.Since)) {
			out = append(out, l)
		}
	}
	return out
}

// Logs returns the kept output lines of q.Path's worker, or of every worker
// under the supervisor q.Path merged in time order: those after q.After,
// not before q.Since (when set), the last q.N of them (0: all). A path that
// has no node is ErrNotFound; a node without output has no lines.
func (r *Running) Logs(q control.LogQuery) ([]control.LogLine, error) {
	lines, found := r.logs.read(q)
	if found {
		return lines, nil
	}
	n, err := r.Snapshot()
	if err != nil {
		return nil, err
	}
	if n.Find(q.Path) == nil {
		return nil, &PathError{Op: "logs", Path: q.Path, Err: ErrNotFound}
	}
	return nil, nil
}

// FollowLogs returns a channel that gets a value (it holds one at most)
// whenever an output line is kept, and the function that stops it.
func (r *Running) FollowLogs() (<-chan struct{}, func()) { return r.logs.follow() }
