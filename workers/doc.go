// Package workers is otpctl's kind registry: the named ways to start the
// leaves of a tree. A kind has a name, a one-line doc, a JSON Schema for its
// args and a Start function that starts one instance linked to its
// supervisor and returns when it is ready.
//
// The built-in kinds (exec, counter, cache, echo, ticker, crash) live in
// package builtin, which registers them in Default when imported. A Go
// program registers its own kinds the same way, from init:
//
//	func init() {
//		workers.Register(workers.Kind{
//			Name:  "greeter",
//			Doc:   "replies hello",
//			Start: startGreeter,
//		})
//	}
//
// An in-process kind that answers `otpctl call` is easiest written with
// Actor: an Init that reads the args, and a handler per "op"; its Start
// method is the kind's StartFunc (see the Actor example). DecodeArgs and
// DecodeRequest decode strictly; Duration reads durations as tree files
// write them.
//
// Registering a name twice panics, as database/sql drivers do; looking up an
// unknown name is a user's error and says which name was probably meant.
package workers
