package otptest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/otpctl/otpctl/otptest"
)

// A shop whose database crashes: rest_for_one restarts the api started
// after it, the restart counts against the intensity until the period has
// passed, and the restarted counter starts over. In a test, the body is the
// test function's and t its *testing.T.
func Example() {
	test(func(t testing.TB) {
		tree := otptest.StartYAML(t, `
version: 1
name: shop
supervisor:
  strategy: rest_for_one
  max_frequency: 2
  period: 5s
  children:
    - {name: db, kind: echo}
    - {name: api, kind: counter}
`, otptest.WithFakeClock())
		tree.Call("shop/api", `{"op":"increment"}`)

		m := tree.Mark()
		tree.Kill("shop/db", "boom")
		tree.AssertTrace(m,
			"exited shop/db reason=boom",
			"terminated shop/api cause=sibling trigger=shop/db reason=shutdown",
			"started shop/db cause=crash trigger=shop/db",
			"started shop/api cause=sibling trigger=shop/db")
		fmt.Println("api:", string(tree.Call("shop/api", `{"op":"get"}`)))

		snap := tree.Snapshot()
		fmt.Println("budget:", snap.Budget("shop").Used, "of", snap.Budget("shop").Max, "in", snap.Budget("shop").Period)
		fmt.Println("api restarts:", snap.Restarts("shop/api"))
		tree.Advance(6 * time.Second)
		fmt.Println("budget after the period:", tree.Snapshot().Budget("shop").Used)
		tree.AssertQuiet(m)
	})
	// Output:
	// api: {"value":0}
	// budget: 1 of 2 in 5s
	// api restarts: 1
	// budget after the period: 0
}

// What a test prints when the trace is not the one expected: both side by
// side, the first difference marked.
func Example_wrongTrace() {
	test(func(t testing.TB) {
		tree := otptest.StartYAML(t, `
version: 1
name: shop
supervisor:
  strategy: one_for_all
  children:
    - {name: db, kind: echo}
    - {name: api, kind: echo}
`)
		m := tree.Mark()
		tree.Kill("shop/api", "")
		tree.AssertTrace(m,
			"exited shop/api reason=killed",
			"started shop/api cause=crash trigger=shop/api")
	})
	// Output:
	// FAIL: otptest: the trace after #3 differs from the one expected:
	//      want                                           got
	//   1  exited shop/api reason=killed                  exited shop/api reason=killed
	// > 2  started shop/api cause=crash trigger=shop/api  terminated shop/db cause=sibling trigger=shop/api reason=shutdown
	//   3  (nothing)                                      started shop/db cause=sibling trigger=shop/api
	//   4  (nothing)                                      started shop/api cause=crash trigger=shop/api
}

// test runs body as the testing package runs a test, and prints what it
// reported.
func test(body func(t testing.TB)) {
	f := runFake(body)
	for _, msg := range append(f.errors, f.fatal) {
		if msg != "" {
			fmt.Println("FAIL: " + msg)
		}
	}
}
