package cli

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// stuckWriter is a stderr that takes its first line, then blocks until
// released, as a pipe whose reader stopped.
type stuckWriter struct {
	entered chan struct{} // closed when the first Write is under way
	release chan struct{}
	once    sync.Once

	mu    sync.Mutex
	lines []string
}

func newStuckWriter() *stuckWriter {
	return &stuckWriter{entered: make(chan struct{}), release: make(chan struct{})}
}

func (w *stuckWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.entered) })
	<-w.release
	w.mu.Lock()
	w.lines = append(w.lines, strings.TrimSuffix(string(p), "\n"))
	w.mu.Unlock()
	return len(p), nil
}

func (w *stuckWriter) written() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.lines)
}

func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 10s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLogQueueDropsAndCountsWhenStderrIsStuck(t *testing.T) {
	cases := []struct {
		name string
		size int // bytes per line, newline included
		fit  int // lines that wait in the queue
	}{
		{"many short lines", 10, logQueueLines},
		{"few long lines", 256 << 10, logQueueBytes / (256 << 10)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newStuckWriter()
			q := newLogQueue(w, func(n int) []byte { return fmt.Appendf(nil, "dropped %d\n", n) })
			line := func(i int) []byte {
				b := bytes.Repeat([]byte{'x'}, c.size)
				copy(b, fmt.Sprint(i, " "))
				b[len(b)-1] = '\n'
				return b
			}
			q.Write(line(0))
			<-w.entered // the writer holds line 0 and is stuck

			const extra = 100
			put := make(chan struct{})
			go func() {
				for i := 1; i <= c.fit+extra; i++ {
					q.Write(line(i))
				}
				close(put)
			}()
			select {
			case <-put:
			case <-time.After(10 * time.Second):
				close(w.release)
				t.Fatal("writing to the log waits for a stuck stderr")
			}

			// Once stderr takes lines again, it gets every line that fit,
			// then how many were lost.
			close(w.release)
			until(t, "drained log", func() bool { return len(w.written()) == c.fit+2 })
			got := w.written()
			for i, l := range got[:c.fit+1] {
				if !strings.HasPrefix(l, fmt.Sprint(i, " ")) {
					t.Fatalf("line %d is %.20q", i, l)
				}
			}
			if last := got[c.fit+1]; last != fmt.Sprint("dropped ", extra) {
				t.Fatalf("after the kept lines: %.40q, want dropped %d", last, extra)
			}
			q.Write([]byte("after\n"))
			q.close(10 * time.Second)
			if got := w.written(); len(got) != c.fit+3 || got[c.fit+2] != "after" {
				t.Fatalf("%d lines, the last %.20q", len(got), got[len(got)-1])
			}
		})
	}
}

func TestLogQueueMarksTheGapWhereLinesWereLost(t *testing.T) {
	w := newStuckWriter()
	q := newLogQueue(w, func(n int) []byte { return fmt.Appendf(nil, "dropped %d\n", n) })
	q.Write([]byte("first\n"))
	<-w.entered
	for range logQueueLines + 3 {
		q.Write([]byte("kept or lost\n"))
	}
	// One line is taken; the next one marks the gap before itself.
	w.release <- struct{}{}
	until(t, "room", func() bool { return len(w.written()) == 1 })
	q.Write([]byte("next\n"))
	close(w.release)
	q.close(10 * time.Second)
	got := w.written()
	want := []string{"first"}
	for range logQueueLines {
		want = append(want, "kept or lost")
	}
	want = append(want, "dropped 3", "next")
	if !slices.Equal(got, want) {
		t.Fatalf("%d lines, the last ones %q", len(got), got[max(0, len(got)-3):])
	}
	// GET /metrics' otpctl_events_dropped_total: every line lost, ever.
	if n := q.droppedTotal(); n != 3 {
		t.Errorf("droppedTotal = %d, want 3", n)
	}
}

func TestLogQueueCloseDoesNotWaitForAStuckStderr(t *testing.T) {
	w := newStuckWriter()
	q := newLogQueue(w, func(n int) []byte { return fmt.Appendf(nil, "dropped %d\n", n) })
	defer close(w.release)
	q.Write([]byte("never taken\n"))
	<-w.entered
	closed := make(chan struct{})
	go func() { q.close(10 * time.Millisecond); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("close waits for a stuck stderr")
	}
	q.Write([]byte("after close\n")) // dropped, no panic
}
