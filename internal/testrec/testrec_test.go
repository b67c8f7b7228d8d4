package testrec_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/otpctl/otpctl/internal/testrec"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// long bounds the waits that must succeed; no test waits it out.
const long = time.Minute

func is(want int) func(int) bool { return func(v int) bool { return v == want } }

func TestWaitSeesWhatIsAlreadyIn(t *testing.T) {
	var l testrec.Log[int]
	for _, v := range []int{1, 2, 3, 2} {
		l.Add(v)
	}
	for _, c := range []struct{ from, want, at int }{
		{0, 2, 1}, {1, 2, 1}, {2, 2, 3}, {-5, 1, 0}, {3, 2, 3},
	} {
		if i, err := l.Wait(c.from, long, is(c.want)); i != c.at || err != nil {
			t.Errorf("Wait(from %d, %d) = %d, %v; want %d", c.from, c.want, i, err, c.at)
		}
	}
	if got := fmt.Sprint(l.Len(), l.All(), l.Since(2), l.Since(9), l.At(3)); got != "4 [1 2 3 2] [3 2] [] 2" {
		t.Errorf("Len, All, Since(2), Since(9), At(3) = %s", got)
	}
}

func TestWaitWakesOnAdd(t *testing.T) {
	var l testrec.Log[string]
	l.Add("a")
	release := make(chan struct{})
	added := make(chan struct{})
	go func() {
		defer close(added)
		<-release
		l.Add("b")
		l.Add("a")
	}()
	got := make(chan int)
	go func() {
		i, _ := l.Wait(1, long, func(s string) bool { return s == "a" }) // not the "a" at 0
		got <- i
	}()
	close(release)
	if i := <-got; i != 2 {
		t.Errorf("Wait from 1 for a = %d, want 2", i)
	}
	<-added
}

func TestWaitTimesOut(t *testing.T) {
	var l testrec.Log[int]
	l.Add(1)
	if i, err := l.Wait(0, time.Millisecond, is(2)); i != -1 || !errors.Is(err, testrec.ErrTimeout) {
		t.Errorf("Wait for what never comes = %d, %v; want -1, ErrTimeout", i, err)
	}
	if i, err := l.Wait(1, time.Millisecond, is(1)); i != -1 || !errors.Is(err, testrec.ErrTimeout) {
		t.Errorf("Wait past the only match = %d, %v; want -1, ErrTimeout", i, err)
	}
	if err := l.WaitLen(2, time.Millisecond); !errors.Is(err, testrec.ErrTimeout) {
		t.Errorf("WaitLen(2) of 1 = %v, want ErrTimeout", err)
	}
}

func TestEndedStream(t *testing.T) {
	var l testrec.Log[int]
	end := make(chan struct{})
	l.EndWith(end)
	l.Add(1)
	l.Add(2) // the last item, added before the end
	close(end)
	// The end stops a wait long before its timeout, after a last look.
	if i, err := l.Wait(0, long, is(2)); i != 1 || err != nil {
		t.Errorf("Wait for the last item = %d, %v", i, err)
	}
	if i, err := l.Wait(0, long, is(3)); i != -1 || !errors.Is(err, testrec.ErrEnded) {
		t.Errorf("Wait after the end = %d, %v; want -1, ErrEnded", i, err)
	}
	if err := l.WaitLen(2, long); err != nil {
		t.Errorf("WaitLen(2) of 2 = %v", err)
	}
	if err := l.WaitLen(3, long); !errors.Is(err, testrec.ErrEnded) {
		t.Errorf("WaitLen(3) of 2 after the end = %v, want ErrEnded", err)
	}
}

// Writers add at once from many goroutines while waiters wait: nothing is
// lost or seen twice, and every wait returns (run with -race).
func TestConcurrentWriters(t *testing.T) {
	const writers, each = 8, 200
	var l testrec.Log[int]
	var wg sync.WaitGroup
	errs := make(chan error, writers+1)
	for w := range writers {
		wg.Go(func() {
			if _, err := l.Wait(0, long, is(-1)); err != nil { // the go signal
				errs <- err
				return
			}
			for i := range each {
				l.Add(w*each + i)
			}
		})
	}
	wg.Go(func() {
		errs <- l.WaitLen(writers*each+1, long)
	})
	l.Add(-1)
	last := make(chan int, writers)
	for w := range writers {
		go func() {
			i, _ := l.Wait(0, long, is(w*each+each-1))
			last <- i
		}()
	}
	for range writers {
		if i := <-last; i < 0 {
			t.Error("a writer's last item was not seen")
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	seen := map[int]bool{}
	for _, v := range l.Since(1) {
		if seen[v] {
			t.Fatalf("%d added twice", v)
		}
		seen[v] = true
	}
	if len(seen) != writers*each {
		t.Errorf("%d items, want %d", len(seen), writers*each)
	}
}
