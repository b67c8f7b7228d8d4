package testrec_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/otpctl/otpctl/internal/testrec"
)

// A goroutine reports events while the test waits for the one it expects.
func Example() {
	var events testrec.Log[string]
	done := make(chan struct{})
	go func() {
		defer close(done)
		events.Add("started shop/db cause=boot")
		events.Add("exited shop/db reason=boom")
		events.Add("started shop/db cause=crash")
	}()
	events.EndWith(done)

	i, err := events.Wait(0, 10*time.Second, func(e string) bool { return strings.HasPrefix(e, "exited") })
	fmt.Println(i, events.At(i), err)
	_, err = events.Wait(i+1, 10*time.Second, func(e string) bool { return strings.HasPrefix(e, "give_up") })
	fmt.Println(err)
	// Output:
	// 1 exited shop/db reason=boom <nil>
	// testrec: the stream ended
}

// Lines records what a subprocess prints, line by line.
func ExampleLines() {
	var out testrec.Lines
	fmt.Fprint(&out, "listening on :80")
	fmt.Fprint(&out, "80\nready\npart")
	i, err := out.Wait(0, 10*time.Second, func(l string) bool { return l == "ready" })
	fmt.Println(i, err, out.All())
	fmt.Printf("%q\n", out.String())
	// Output:
	// 1 <nil> [listening on :8080 ready]
	// "listening on :8080\nready\npart"
}
