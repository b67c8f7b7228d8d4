// Package testrec records what other goroutines report while a test runs
// (the events a tree emits, the lines a process prints, the records a
// logger writes) and lets the test wait, with a timeout, for one that
// matches. It is the one "wait for a line in a recorded stream" of the
// project's tests: otptest, loader, cli and workers/builtin build on it.
//
// A Log[T] is an append-only list that is safe for concurrent use: the
// reporting goroutines Add to it, the test reads it by index (Len, At,
// Since) and waits on it (Wait, WaitLen). A wait never sleeps and polls:
// every Add wakes the waiters, which look at what came. Every wait is
// bounded by its timeout; a log whose source has ended (EndWith: the
// process exited, the tree stopped) ends a wait at once, after a last look
// at what is in.
//
//	var events testrec.Log[string]
//	go func() { events.Add("started shop/db") }()
//	i, err := events.Wait(0, 10*time.Second, func(l string) bool {
//		return strings.HasPrefix(l, "started")
//	})
//
// Lines is an io.Writer over a Log[string]: each line written to it is an
// item, for a subprocess's stdout and stderr.
//
// The package starts no goroutine. It lives under internal/ because it is
// for this module's tests only; otptest's Tree is the user-facing form.
package testrec
