package workers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/otpctl/otpctl/internal/names"
	"github.com/otpctl/otpctl/internal/suggest"
	"github.com/otpctl/otpctl/runtime"
)

// Kind is a named, registered way to start a leaf of a tree: a Go actor
// inside the process, or an OS process (exec).
type Kind struct {
	// Name is how tree files refer to the kind: [a-z][a-z0-9_-]*, the tree
	// schema's kind-name pattern (Register panics on any other).
	Name string
	// Doc is one line that `otpctl kinds` shows.
	Doc string
	// Args is the JSON Schema (draft 2020-12) of the kind's args object.
	// Empty means the kind takes no args: {"type":"object",
	// "additionalProperties":false}. Defaults written in it are for people
	// (`otpctl kinds` shows them); Start applies its own.
	Args string
	// Start starts one instance linked to parent (the supervisor's
	// process) and returns once it is ready, as OTP's start functions do.
	// It runs on the supervisor's goroutine: it must not wait without a
	// bound. An error fails the child's start.
	Start StartFunc
	// Check, when set, reads args with the parser Start uses and returns
	// what Start would refuse in them, so that `otpctl validate` (and a
	// reload, which validates first) refuses it too: whatever the schema
	// cannot say (a number too large for its Go type, a NUL in a string,
	// a duration that overflows). Nil: the schema is the only check.
	Check CheckFunc
	// Warn, when set, checks args (that passed Args and Check) against
	// this machine and returns what would fail a start here: an exec
	// program not found in PATH, a dir that does not exist. Only `otpctl
	// validate` runs it, and reports what it returns as warnings (errors
	// with --strict). Nil: no warnings.
	Warn WarnFunc
}

// StartFunc starts an instance of a kind. w.Args has been validated against
// the kind's Args schema.
type StartFunc func(parent *runtime.Process, w Worker) (Instance, error)

// Worker is what a kind's Start is given.
type Worker struct {
	// Path is the child's path in the tree ("shop/web").
	Path string
	// Args is the child's args object, the kind's defaults from the tree
	// file merged under the child's own, as raw JSON. Decode it with
	// DecodeArgs.
	Args json.RawMessage
	// Log is where the worker writes what it has to say (an exec worker's
	// output lines, a ticker's heartbeat). It already carries the path.
	// Never nil.
	Log *slog.Logger
	// Index is a pool member's index, 1 … the pool's size (0 for a worker
	// that is not in a pool). Its args have had ${OTPCTL_INDEX} replaced
	// by it already; an exec member also gets it as OTPCTL_INDEX in its
	// environment.
	Index int
	// Output, when not nil, keeps the worker's output lines for
	// `otpctl logs` (the exec kind writes each stdout and stderr line to
	// it). The loader sets it: one per path, kept across restarts.
	Output Output
	// TreeDir is the folder of the tree file that declares the worker:
	// a relative file path in its args (exec's log.file) is relative to
	// it. Empty: the working directory.
	TreeDir string
}

// Instance is a started worker.
type Instance struct {
	// Pid is the worker's process, linked to the parent.
	Pid runtime.Pid
	// Requests, when not zero, takes the JSON requests of `otpctl call`.
	Requests runtime.Subject[Request]
	// OSPid is the operating-system process id of an exec worker (0 for
	// an in-process one).
	OSPid int
	// Signal, when set, sends sig to the worker's OS process group
	// (`otpctl signal`). It returns ErrExited once the process has
	// exited: its group is never signalled after, so a pid the system
	// reused is never hit. Nil for a kind with no OS process.
	Signal func(sig syscall.Signal) error
	// Health, when not nil, reads the worker's health as its health check
	// last saw it (an exec worker with `health`). It is safe to call from
	// any goroutine.
	Health func() Health
}

// Health is a worker's health as its health check last saw it.
type Health struct {
	// Status is starting (no probe has passed yet), healthy (the last
	// that counted passed, or failed fewer times in a row than the check
	// allows) or unhealthy (it failed that many times: the worker is
	// stopping).
	Status string
	// Last is the last probe's result: "ok", or why it failed.
	Last string
	// At is when the last probe ended (zero before the first), on the
	// tree's clock.
	At time.Time
	// Failures is how many probes in a row failed and counted.
	Failures int
}

// ErrExited is Instance.Signal's error once the worker's OS process has
// exited.
var ErrExited = errors.New("its OS process has exited")

// Request is a JSON request to a worker (`otpctl call PATH JSON`).
type Request struct {
	Body  json.RawMessage
	Reply runtime.Subject[Reply]
}

// Reply answers a Request: a JSON value, or an error the caller sees as one
// line ("cache is full").
type Reply struct {
	Body  json.RawMessage
	Error string
}

// DefaultCallTimeout is how long a call waits for a worker's reply when the
// caller sets no timeout.
const DefaultCallTimeout = 5 * time.Second

// ErrNotCallable is returned by Call for a worker that takes no requests.
var ErrNotCallable = fmt.Errorf("worker does not take requests")

// Call sends body to the worker's Requests subject and waits up to timeout
// for its reply. A reply with an Error is returned as an error.
func Call(p *runtime.Process, inst Instance, body json.RawMessage, timeout time.Duration) (json.RawMessage, error) {
	if inst.Requests.IsZero() {
		return nil, ErrNotCallable
	}
	if timeout == 0 {
		timeout = DefaultCallTimeout
	}
	r, err := runtime.Call(p, inst.Requests, func(reply runtime.Subject[Reply]) Request {
		return Request{Body: body, Reply: reply}
	}, timeout)
	if err != nil {
		return nil, err
	}
	if r.Error != "" {
		return nil, &ReplyError{Message: r.Error}
	}
	return r.Body, nil
}

// ReplyError is a worker's refusal of a request.
type ReplyError struct{ Message string }

// Error returns the worker's message.
func (e *ReplyError) Error() string { return e.Message }

// DecodeArgs decodes a worker's args into v strictly: an unknown field is an
// error. Empty args leave v as it is, so v can hold the defaults. A value
// that does not fit its field (a number out of range or with a fraction, a
// bad Duration) is an *ArgError naming the field.
func DecodeArgs(args json.RawMessage, v any) error {
	if len(bytes.TrimSpace(args)) == 0 || string(bytes.TrimSpace(args)) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(args))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	return nil
}

// NoArgs is the args schema of a kind that takes none.
const NoArgs = `{"type":"object","additionalProperties":false}`

// Registry holds kinds by name. Register them from init, as database/sql
// drivers do; tests use a private NewRegistry. It is safe for concurrent use.
type Registry struct {
	mu    sync.RWMutex
	kinds map[string]*Kind
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{kinds: map[string]*Kind{}} }

// Default is the registry `otpctl` uses; the built-in kinds register in it.
var Default = NewRegistry()

// Register adds a kind to the Default registry. See Registry.Register.
func Register(k Kind) { Default.Register(k) }

// Register adds k. A bad or duplicate name, a missing Start or Args that
// are not a JSON object are programmer's errors: Register panics.
func (r *Registry) Register(k Kind) {
	if !names.Kind.Match(k.Name) {
		panic(fmt.Sprintf("workers: kind name %q must match %s", k.Name, names.KindPattern))
	}
	if k.Start == nil {
		panic(fmt.Sprintf("workers: kind %q has no Start", k.Name))
	}
	if strings.TrimSpace(k.Args) == "" {
		k.Args = NoArgs
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(k.Args), &obj); err != nil {
		panic(fmt.Sprintf("workers: kind %q: Args is not a JSON object: %v", k.Name, err))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.kinds[k.Name]; dup {
		panic(fmt.Sprintf("workers: kind %q registered twice", k.Name))
	}
	r.kinds[k.Name] = &k
}

// Lookup returns the kind called name. An unknown name is a user's error: it
// says which registered name is closest, if any is close.
func (r *Registry) Lookup(name string) (*Kind, error) {
	r.mu.RLock()
	k := r.kinds[name]
	r.mu.RUnlock()
	if k != nil {
		return k, nil
	}
	msg := fmt.Sprintf("unknown kind %q", name)
	if s := suggest.Closest(name, r.Names()); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return nil, &UnknownKindError{Name: name, Message: msg}
}

// UnknownKindError is returned by Lookup.
type UnknownKindError struct {
	Name    string
	Message string
}

// Error says which kind is unknown and what may have been meant.
func (e *UnknownKindError) Error() string { return e.Message }

// Names returns the registered names, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.kinds))
	for n := range r.kinds {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Kinds returns the registered kinds, sorted by name.
func (r *Registry) Kinds() []*Kind {
	names := r.Names()
	out := make([]*Kind, 0, len(names))
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, n := range names {
		out = append(out, r.kinds[n])
	}
	return out
}

// ArgsSchema returns the args JSON Schema of the kind called name; it lets a
// Registry serve as the kinds the tree-file checker knows.
func (r *Registry) ArgsSchema(name string) (string, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k := r.kinds[name]
	if k == nil {
		return "", false
	}
	return k.Args, true
}
