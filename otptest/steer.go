package otptest

import (
	"encoding/json"
	"fmt"
)

// Steering by path: the verbs of the command line (`otpctl kill`, stop,
// start, restart, call, scale), on the loader's running tree. Each fails the test
// with the loader's error ("otptest: kill shop/db: not running") when the
// operation is refused. Each returns once the operation is done or, for
// Kill, under way: what follows is in the event stream.

// Kill makes the process at path exit with reason, as `otpctl kill --reason`:
// "" or "killed", "normal", "shutdown", "shutdown:TEXT" (OTP's
// {shutdown, Term}: not abnormal), or any other text (an abnormal reason
// that reads as the text, e.g. "boom"). A worker exits whatever it
// does (trapping exits does not save it) and its supervisor applies its
// restart rules, as for a crash; a supervisor takes only killed or shutdown.
// When Kill returns, the exit has reached the supervisor's mailbox (or, for
// a supervisor stopped with shutdown, the request to stop has reached its
// own), so AssertTrace and AssertQuiet see all that it causes.
func (tr *Tree) Kill(path, reason string) {
	tr.tb.Helper()
	if err := tr.r.Kill(path, reason); err != nil {
		tr.tb.Fatalf("otptest: %v", err)
	}
}

// Stop terminates the child at path, as `otpctl stop` (OTP's
// terminate_child): an operator's stop, not counted against the intensity.
// It returns once the child has stopped.
func (tr *Tree) Stop(path string) {
	tr.tb.Helper()
	if err := tr.r.Stop(path); err != nil {
		tr.tb.Fatalf("otptest: %v", err)
	}
}

// Start starts the stopped child at path again (OTP's restart_child), or,
// when path is a dynamic supervisor, a new child of it with the next
// generated name (<kind>-<n>), as `otpctl start`. It returns the started
// child's path once it runs.
func (tr *Tree) Start(path string) string {
	tr.tb.Helper()
	return tr.StartChild(path, "", nil)
}

// StartChild starts a new child of the dynamic supervisor at path (OTP's
// start_child), named name ("" for the next generated name), with args
// merged over the template's: nil for none, JSON text (a string, []byte or
// json.RawMessage), or any other value, which is marshalled. It returns
// the child's path once it runs.
func (tr *Tree) StartChild(path, name string, args any) string {
	tr.tb.Helper()
	var raw json.RawMessage
	if args != nil {
		raw = tr.encode("start "+path, args)
	}
	child, _, err := tr.r.Start(path, name, raw)
	if err != nil {
		tr.tb.Fatalf("otptest: %v", err)
	}
	return child
}

// Restart stops the child at path and starts it again in its place, as
// `otpctl restart`: an operator's restart (both events say cause=operator),
// not counted against the intensity and restarting no sibling.
func (tr *Tree) Restart(path string) {
	tr.tb.Helper()
	if _, _, err := tr.r.Restart(path); err != nil {
		tr.tb.Fatalf("otptest: %v", err)
	}
}

// Call sends request to the worker at path and returns its JSON reply, as
// `otpctl call`. request is JSON text (a string, []byte or
// json.RawMessage: `{"op":"get"}`) or any other value, which is
// marshalled. The wait for the reply is bounded by the tree's timeout.
func (tr *Tree) Call(path string, request any) json.RawMessage {
	tr.tb.Helper()
	rep, err := tr.TryCall(path, request)
	if err != nil {
		tr.tb.Fatalf("otptest: %v", err)
	}
	return rep
}

// Scale resizes the pool at path to size members in place, as `otpctl
// scale`: new members start at the end, surplus ones stop from the end,
// the others are not touched. It returns the size before, once the new
// members run and the surplus ones have stopped.
func (tr *Tree) Scale(path string, size int) int {
	tr.tb.Helper()
	old, err := tr.r.Scale(path, size)
	if err != nil {
		tr.tb.Fatalf("otptest: %v", err)
	}
	return old
}

// TryCall is Call that returns the error instead of failing the test, for
// tests of a worker's refusals (a *workers.ReplyError: "cache is full").
func (tr *Tree) TryCall(path string, request any) (json.RawMessage, error) {
	tr.tb.Helper()
	return tr.r.Call(path, tr.encode("call "+path, request), tr.timeout)
}

// encode turns a request or args into JSON text.
func (tr *Tree) encode(what string, v any) json.RawMessage {
	tr.tb.Helper()
	switch v := v.(type) {
	case json.RawMessage:
		return v
	case []byte:
		return v
	case string:
		return json.RawMessage(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		tr.tb.Fatalf("otptest: %s: %v", what, fmt.Errorf("encoding %T: %w", v, err))
	}
	return b
}
