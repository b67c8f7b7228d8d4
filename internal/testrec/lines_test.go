package testrec_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/otpctl/otpctl/internal/testrec"
)

func TestLines(t *testing.T) {
	var w testrec.Lines
	for _, p := range []string{"", "one\n", "tw", "o\nthree\n\nfo", "ur"} {
		fmt.Fprint(&w, p)
	}
	if got := strings.Join(w.All(), "|"); got != "one|two|three|" {
		t.Errorf("lines %q, want one|two|three| (four has no newline yet)", got)
	}
	if w.String() != "one\ntwo\nthree\n\nfour" {
		t.Errorf("String = %q", w.String())
	}
	fmt.Fprintln(&w)
	if i, err := w.Wait(0, long, func(l string) bool { return l == "four" }); i != 4 || err != nil {
		t.Errorf("Wait for four = %d, %v", i, err)
	}
}

// Whole lines written at once by many goroutines (a process's stdout and
// stderr) stay whole.
func TestLinesConcurrentWriters(t *testing.T) {
	var w testrec.Lines
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 100 {
				fmt.Fprintf(&w, "writer %d line %d\n", g, i)
			}
		})
	}
	if _, err := w.Wait(0, long, func(l string) bool { return l == "writer 3 line 99" }); err != nil {
		t.Error(err)
	}
	wg.Wait()
	if n := w.Len(); n != 400 {
		t.Errorf("%d lines, want 400", n)
	}
	for _, l := range w.All() {
		var g, i int
		if _, err := fmt.Sscanf(l, "writer %d line %d", &g, &i); err != nil {
			t.Errorf("line %q: %v", l, err)
		}
	}
}
