package testrec

import (
	"bytes"
	"sync"
)

// Lines is an io.Writer that records each line written to it as an item
// of its Log (without the newline), for a test to wait on, while String
// returns everything written so far. Give it as a subprocess's Stdout and
// Stderr: it is safe for concurrent use. A last line without a newline is
// in String but not in the Log. Its zero value is ready to use.
type Lines struct {
	Log[string]

	mu      sync.Mutex
	text    bytes.Buffer
	partial int // where the line not yet ended starts in text
}

// Write records p; it never fails.
func (w *Lines) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.text.Write(p)
	for {
		rest := w.text.Bytes()[w.partial:]
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.Add(string(rest[:i]))
		w.partial += i + 1
	}
}

// String returns everything written so far.
func (w *Lines) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.text.String()
}
