package workers

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// CheckFunc reads a kind's args as its Start does and returns what Start
// would refuse in them: the same parser, run without starting anything.
// It must have no side effect (`otpctl validate` runs it). It may read
// what the args name and the start would read anyway (exec reads its env
// files and otpctl's environment, looks up its user and group), so that
// what the start would refuse on this machine validate refuses too; it
// must not start anything or touch the network. Return an *ArgError to say
// which arg is at fault.
type CheckFunc func(args json.RawMessage) error

// Run runs the check on args; a nil CheckFunc passes everything.
func (f CheckFunc) Run(args json.RawMessage) error {
	if f == nil {
		return nil
	}
	return f(args)
}

// WarnFunc looks at this machine for what would fail a start of valid args
// here (a file, a program in PATH), without changing anything. Return an
// *ArgError to say which arg it is about, several joined with errors.Join.
type WarnFunc func(args json.RawMessage) error

// Run runs the check on args; a nil WarnFunc finds nothing.
func (f WarnFunc) Run(args json.RawMessage) error {
	if f == nil {
		return nil
	}
	return f(args)
}

// WarnArgs runs the Warn of the kind called name on args (merged and
// canonical, as Start gets them). A kind without Warn, or an unknown one,
// finds nothing. It lets a Registry serve `otpctl validate`'s warnings, at
// the arg's FILE:LINE:COL.
func (r *Registry) WarnArgs(name string, args json.RawMessage) error {
	r.mu.RLock()
	k := r.kinds[name]
	r.mu.RUnlock()
	if k == nil {
		return nil
	}
	return k.Warn.Run(args)
}

// CheckArgs runs the Check of the kind called name on args (merged and
// canonical, as Start gets them). A kind without Check, or an unknown one,
// passes. It lets a Registry serve the tree-file checker, which reports the
// error at the arg's FILE:LINE:COL (see ArgError).
func (r *Registry) CheckArgs(name string, args json.RawMessage) error {
	r.mu.RLock()
	k := r.kinds[name]
	r.mu.RUnlock()
	if k == nil {
		return nil
	}
	return k.Check.Run(args)
}

// ArgError is a kind's refusal of one of its args, from its Check or its
// Start.
type ArgError struct {
	// Pointer is the JSON pointer (RFC 6901) of the arg at fault in the
	// args object ("/command/0", "/ready/timeout"); "" for the object.
	Pointer string
	// Message says what is wrong, without the arg's name.
	Message string
}

// Error reads "args.command[0]: MESSAGE".
func (e *ArgError) Error() string { return argsLabel(e.Pointer) + ": " + e.Message }

// ArgsPointer returns Pointer: the tree-file checker maps it to the arg's
// position.
func (e *ArgError) ArgsPointer() string { return e.Pointer }

// ArgsMessage returns Message.
func (e *ArgError) ArgsMessage() string { return e.Message }

// ArgPointer builds the JSON pointer of an arg from its path: ArgPointer("env",
// "A/B") is "/env/A~1B", ArgPointer("command", 0) is "/command/0".
func ArgPointer(path ...any) string {
	var b strings.Builder
	for _, p := range path {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(fmt.Sprint(p)))
	}
	return b.String()
}

// argsLabel names the arg at pointer as validate does: args.ready.tcp,
// args.command[1].
func argsLabel(pointer string) string {
	var b strings.Builder
	b.WriteString("args")
	if pointer == "" {
		return b.String()
	}
	r := strings.NewReplacer("~1", "/", "~0", "~")
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		if _, err := strconv.Atoi(tok); err == nil {
			b.WriteString("[" + tok + "]")
		} else {
			b.WriteString("." + r.Replace(tok))
		}
	}
	return b.String()
}

var durationType = reflect.TypeFor[Duration]()

// decodeError turns a decoding error into an *ArgError that names the arg
// when the decoder knows it (a value of the wrong type, a number out of
// range or with a fraction, a bad Duration).
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || te.Field == "" {
		return fmt.Errorf("args: %w", err)
	}
	path := make([]any, 0, 4)
	for _, f := range strings.Split(te.Field, ".") {
		path = append(path, f)
	}
	return &ArgError{Pointer: ArgPointer(path...), Message: typeMessage(te)}
}

func typeMessage(te *json.UnmarshalTypeError) string {
	t := te.Type
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == durationType {
		return "must be a duration such as 500ms, 5s or 2m, or a whole number of seconds, not " + te.Value
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := t.Bits()
		return fmt.Sprintf("must be a whole number from %d to %d, written without a fraction or an exponent, not %s",
			int64(-1)<<(bits-1), int64(math.MaxInt64>>(64-bits)), strings.TrimPrefix(te.Value, "number "))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("must be a whole number from 0 to %d, written without a fraction or an exponent, not %s",
			uint64(math.MaxUint64>>(64-t.Bits())), strings.TrimPrefix(te.Value, "number "))
	case reflect.Float32, reflect.Float64:
		return fmt.Sprintf("must be a number that fits in a float%d, not %s", t.Bits(), strings.TrimPrefix(te.Value, "number "))
	}
	return fmt.Sprintf("cannot be read as %s: %s", t, te.Value)
}
