// Package otptest starts YAML supervision trees inside Go tests, steers
// them by path and asserts on what their supervisors did.
//
// A tree is a fixture next to the test (testdata/tree.yaml) or YAML in the
// test itself. Start and StartYAML build and start it in the test's own
// process, with the kinds of workers.Default (the built-ins: exec,
// counter, cache, echo, ticker, crash, and whatever the program
// registered) or of a registry the test passes (WithRegistry). The tree is
// stopped when the test ends, and the test fails if anything it started is
// still alive then.
//
//	func TestDatabaseCrashRestartsItsClients(t *testing.T) {
//		tree := otptest.StartYAML(t, `
//	version: 1
//	name: shop
//	supervisor:
//	  strategy: rest_for_one
//	  max_frequency: 2
//	  period: 5s
//	  children:
//	    - {name: db, kind: echo}
//	    - {name: api, kind: counter}
//	`, otptest.WithFakeClock())
//		m := tree.Mark()
//		tree.Kill("shop/db", "boom")
//		tree.AssertTrace(m,
//			"exited shop/db reason=boom",
//			"terminated shop/api cause=sibling trigger=shop/db reason=shutdown",
//			"started shop/db cause=crash trigger=shop/db",
//			"started shop/api cause=sibling trigger=shop/db")
//		if got := tree.Snapshot().Budget("shop").Used; got != 1 {
//			t.Fatalf("budget used %d, want 1", got)
//		}
//		tree.Advance(6 * time.Second) // the restart leaves the window
//	}
//
// # Steering
//
// Kill, Stop, Start, StartChild, Restart, Call and Scale are the command
// line's verbs (`otpctl kill PATH --reason R`, …) and act on the node at a
// path ("shop/workers/w1"; a pool's members are "shop/pool/1" …, and a
// Call to "shop/pool" goes to one of them). Each fails the test if the
// operation is refused; TryCall returns a worker's refusal instead.
// Snapshot's Pool gives a pool's size and dispatch. Reload applies a new version
// of the YAML to the running tree, as a hot reload of its file does.
//
// # Time
//
// WithFakeClock runs the tree on a runtime.FakeClock: restart intensity and
// period, shutdown timeouts and the built-in actors' ticks move only when
// the test calls Advance. Intensity tests then run in microseconds and
// never flake.
//
// # Events
//
// Every event of the tree is recorded, in the order the supervisors emit
// them. Line renders one as a compact line:
//
//	started shop/db cause=crash trigger=shop/db
//	terminated shop/api cause=sibling trigger=shop/db reason=shutdown
//	exited shop/db reason=exit status 2
//
// Mark takes a place in the stream. AssertTrace(mark, lines...) checks the
// exact trace after it (AssertEvents, the same events in any order, for
// supervisors that run at the same time); AssertQuiet(mark) checks that
// nothing happened after it beyond what the test already checked. Neither sleeps: they
// settle the tree first, with a round trip through every supervisor's
// mailbox (AssertQuiet documents why that is enough). Await waits for one
// event (Started, Exited, Terminated, StartFailed, GaveUp, Reloaded,
// ReloadFailed, narrowed by Cause, Trigger, Reason or Where). Snapshot
// returns the live tree with states, pids, restart counts and budgets.
//
// Every wait is bounded (DefaultTimeout, or WithTimeout), and every failure
// says what was expected and what happened: a wrong trace prints both side
// by side with the first difference marked.
//
// The functions take a testing.TB, so helpers and benchmarks can use them
// as well as tests.
package otptest
