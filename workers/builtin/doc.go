// Package builtin holds otpctl's built-in worker kinds: exec (an OS
// process), and the actors counter, cache, echo, ticker and crash.
// Importing it registers them in workers.Default; Register adds them to a
// private registry.
package builtin

import "github.com/otpctl/otpctl/workers"

// Register adds the built-in kinds to r.
func Register(r *workers.Registry) {
	for _, k := range Kinds() {
		r.Register(k)
	}
}

func init() { Register(workers.Default) }

// Kinds returns the built-in kinds.
func Kinds() []workers.Kind {
	return []workers.Kind{Exec(), Counter(), Cache(), Echo(), Ticker(), Crash()}
}
