package runtime

import "time"

// The restart intensity (OTP's add_restart): a supervisor gives up when a
// restart would make more than MaxFrequency restarts within Period.

// restartRing keeps the times of the last restarts, at most
// max_frequency+1 of them, so that counting them is constant time (OTP keeps
// every restart in the period in a list and scans it). It grows as restarts
// come, so a huge intensity costs only what the restart rate fills.
type restartRing struct {
	ts    []time.Time
	head  int
	n     int
	limit int // max_frequency+1
}

func (r *restartRing) resize(limit int) {
	r.limit = max(limit, 1)
	for r.n > r.limit {
		r.pop()
	}
	r.realloc(min(max(r.n, 4), r.limit))
}

func (r *restartRing) realloc(size int) {
	ts := make([]time.Time, size)
	for i := 0; i < r.n; i++ {
		ts[i] = r.ts[(r.head+i)%len(r.ts)]
	}
	r.ts, r.head = ts, 0
}

func (r *restartRing) pop() {
	r.ts[r.head] = time.Time{}
	r.head = (r.head + 1) % len(r.ts)
	r.n--
}

func (r *restartRing) prune(now time.Time, period time.Duration) {
	threshold := now.Add(-period)
	for r.n > 0 && r.ts[r.head].Before(threshold) {
		r.pop()
	}
}

// add records a restart at now and reports whether it is within the
// intensity (OTP's add_restart: the restarts in the period, this one
// included, must not exceed max).
func (r *restartRing) add(now time.Time, period time.Duration, max int) bool {
	r.prune(now, period)
	if r.n == len(r.ts) {
		if len(r.ts) < r.limit {
			r.realloc(min(2*len(r.ts), r.limit))
		} else {
			r.pop()
		}
	}
	r.ts[(r.head+r.n)%len(r.ts)] = now
	r.n++
	return r.n <= max
}

func (r *restartRing) count(now time.Time, period time.Duration) int {
	threshold := now.Add(-period)
	n := 0
	for i := 0; i < r.n; i++ {
		if !r.ts[(r.head+i)%len(r.ts)].Before(threshold) {
			n++
		}
	}
	return n
}
