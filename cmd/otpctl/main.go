// Command otpctl runs and steers declarative Erlang/OTP supervision trees.
// See the README, or `otpctl --help`.
package main

import (
	"os"

	"github.com/otpctl/otpctl/cli"
	_ "github.com/otpctl/otpctl/workers/builtin" // the built-in kinds
)

func main() { os.Exit(cli.Main(os.Args)) }
