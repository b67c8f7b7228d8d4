package otptest_test

import (
	"fmt"
	goruntime "runtime"
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

// test runs body as the testing package runs a test: on its own goroutine,
// then its cleanups. Failures are printed.
func test(body func(t testing.TB)) {
	t := &exampleT{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		body(t)
	}()
	<-done
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

// exampleT is the testing.TB of test: it prints what a test would report.
type exampleT struct {
	testing.TB // nil: otptest uses only the methods below
	cleanups   []func()
}

func (t *exampleT) Helper()             {}
func (t *exampleT) Cleanup(f func())    { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Logf(string, ...any) {}

func (t *exampleT) Errorf(format string, args ...any) {
	fmt.Printf("FAIL: "+format+"\n", args...)
}

func (t *exampleT) Fatalf(format string, args ...any) {
	fmt.Printf("FAIL: "+format+"\n", args...)
	goruntime.Goexit()
}
