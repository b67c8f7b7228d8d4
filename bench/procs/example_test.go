package procs_test

import (
	"fmt"

	"github.com/otpctl/otpctl/bench/procs"
)

// W8 measures otpctl, supervisord or pm2; `go run ./bench` runs it with
// 200 and 1,000 children (TestW8Otpctl runs it with 10).
func ExampleW8() {
	_, err := procs.W8(procs.Options{System: "runit", N: 10, Kills: 3})
	fmt.Println(err)
	// Output:
	// W8: no system "runit" (otpctl, supervisord or pm2)
}
