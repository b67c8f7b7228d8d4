package cli

import (
	"bytes"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// The bounds of the queue between what `otpctl run` logs and its stderr: at
// most logQueueLines lines and logQueueBytes bytes wait to be written.
// Enough for any burst a reader that keeps up sees (a restart storm, an exec
// child's flood of output); past them a stderr that is not read costs no
// more memory.
const (
	logQueueLines = 4096
	logQueueBytes = 4 << 20
)

// logFlushTimeout is how long `run` waits, when it exits, for stderr to take
// what is still queued: a stderr nobody reads cannot hold up the exit.
const logFlushTimeout = time.Second

// logQueue is the one queue between everything `otpctl run` logs and stderr.
// Each Write is one line (a slog handler writes each record with one Write);
// it never waits: a line that does not fit is dropped and counted, and
// where the lines were lost the log says how many, with the line dropLine
// makes, as soon as there is room again or stderr has taken everything
// before. One goroutine writes to stderr; what it cannot write (a closed
// pipe) is lost, and ends nothing.
type logQueue struct {
	w        io.Writer
	dropLine func(n int) []byte

	mu      sync.Mutex
	lines   [][]byte
	bytes   int
	dropped int
	lost    atomic.Uint64 // every line dropped so far (GET /metrics' otpctl_events_dropped_total)
	closed  bool
	wake    chan struct{}
	done    chan struct{}
}

func newLogQueue(w io.Writer, dropLine func(n int) []byte) *logQueue {
	q := &logQueue{w: w, dropLine: dropLine, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go q.run()
	return q
}

// Write queues a copy of p as one line; it never blocks and never fails.
func (q *logQueue) Write(p []byte) (int, error) {
	q.put(bytes.Clone(p))
	return len(p), nil
}

func (q *logQueue) put(line []byte) {
	q.mu.Lock()
	switch {
	case q.closed:
		// run is exiting: what is said now is not waited for
	case len(q.lines) >= logQueueLines || q.bytes+len(line) > logQueueBytes:
		q.dropped++
		q.lost.Add(1)
	default:
		if q.dropped > 0 {
			q.add(q.dropLine(q.dropped))
			q.dropped = 0
		}
		q.add(line)
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// droppedTotal is how many lines were dropped since the queue began.
func (q *logQueue) droppedTotal() uint64 { return q.lost.Load() }

func (q *logQueue) add(line []byte) {
	q.lines = append(q.lines, line)
	q.bytes += len(line)
}

// run writes the queued lines to w, one at a time, until close.
func (q *logQueue) run() {
	defer close(q.done)
	for {
		q.mu.Lock()
		var line []byte
		switch {
		case len(q.lines) > 0:
			line = q.lines[0]
			q.lines[0] = nil
			q.lines = q.lines[1:]
			q.bytes -= len(line)
		case q.dropped > 0:
			// stderr took everything before the loss
			line = q.dropLine(q.dropped)
			q.dropped = 0
		case q.closed:
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		if line == nil {
			<-q.wake
			continue
		}
		q.w.Write(line) // an error loses the line: there is no one to tell
	}
}

// close stops taking lines and waits up to timeout for the queued ones to
// be written. A write that does not return by then is left to the exit of
// the process.
func (q *logQueue) close(timeout time.Duration) {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-q.done:
	case <-t.C:
	}
}
