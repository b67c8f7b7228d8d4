package cli_test

import (
	"fmt"

	"github.com/otpctl/otpctl/cli"
)

// Main is the whole command line, as cmd/otpctl runs it: here `otpctl
// validate` on a file of the examples, then a mistyped command, and the exit
// status of each (their messages go to standard error: "valid (12 nodes)",
// and `unknown command "tre"; did you mean "tree"?`).
func ExampleMain() {
	code := cli.Main([]string{"otpctl", "validate", "../examples/shop.yaml"})
	fmt.Println("exit status", code)
	code = cli.Main([]string{"otpctl", "tre"})
	fmt.Println("exit status", code)
	// Output:
	// exit status 0
	// exit status 2
}
