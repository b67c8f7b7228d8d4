package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/otpctl/otpctl/internal/expand"
)

// Version is the tree-file format version this package reads.
const Version = 1

// Pos is a place in a tree file: FILE:LINE:COL, 1-based.
type Pos struct {
	File string
	Line int
	Col  int
}

// String reads FILE:LINE:COL.
func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// Restart types, strategies and auto_shutdown values, as tree files spell
// them (and as OTP names them).
const (
	Permanent = "permanent"
	Transient = "transient"
	Temporary = "temporary"

	OneForOne  = "one_for_one"
	OneForAll  = "one_for_all"
	RestForOne = "rest_for_one"

	Never          = "never"
	AnySignificant = "any_significant"
	AllSignificant = "all_significant"
)

// Shutdown is a child's shutdown setting: a positive timeout, or one of
// BrutalKill and Infinity (the same values as the runtime's ShutdownPolicy).
type Shutdown time.Duration

const (
	// Infinity waits for the child to stop, however long it takes.
	Infinity Shutdown = -1
	// BrutalKill kills the child at once.
	BrutalKill Shutdown = -2
	// DefaultWorkerShutdown is a worker's shutdown when none is set (OTP's
	// 5000 ms); supervisors default to Infinity.
	DefaultWorkerShutdown = Shutdown(5 * time.Second)
)

// String reads brutal_kill, infinity or a Go duration.
func (s Shutdown) String() string {
	switch s {
	case Infinity:
		return "infinity"
	case BrutalKill:
		return "brutal_kill"
	}
	return time.Duration(s).String()
}

// Defaults of a supervisor's flags (OTP's).
const (
	DefaultStrategy     = OneForOne
	DefaultMaxFrequency = 1
	DefaultPeriod       = 5 * time.Second
)

// Tree is a resolved tree file: includes mounted, kinds resolved, defaults
// applied. It is immutable once loaded; the loader builds the running tree
// from it and a reload diffs two of them.
type Tree struct {
	// Name is the instance name: the file's `name:`, or its base name
	// without extension. It is the root's path.
	Name string
	// File is the root file as given; Files lists every file read (the
	// root first, then includes in the order met), for watching.
	File  string
	Files []string
	// Root is the root supervisor.
	Root *Node
	// Warnings are what a load with LoadOptions.Warnings found wrong on
	// this machine, sorted as Diagnostics (each SeverityWarning).
	Warnings Diagnostics
}

// Node is one node of the tree: a worker, a supervisor, a dynamic
// supervisor or a pool. Exactly one of Worker, Supervisor is set; a
// dynamic supervisor has Supervisor with Dynamic set, a pool Supervisor
// with Pool set.
type Node struct {
	// Name is unique among siblings; Path is the parent's path, "/", and
	// Name (the root's path is the tree's name).
	Name string
	Path string
	// Pos is where the node is declared (its `- name:` entry; the root's
	// `supervisor:` key). Include is the file that was mounted here, if
	// the node came from `include:`.
	Pos     Pos
	Include string

	// Restart, Shutdown and Significant are how the parent supervises this
	// node (defaults applied: permanent; 5s for a worker, infinity for a
	// supervisor; false).
	Restart     string
	Shutdown    Shutdown
	Significant bool
	// Backoff delays the node's restarts: its own `backoff:`, else its
	// kind's; nil when neither sets one (its supervisor's, if any, then
	// applies: Supervisor.Backoff).
	Backoff *Backoff

	Worker     *Worker
	Supervisor *Supervisor
}

// Worker is a leaf.
type Worker struct {
	// Kind is the kind as written: a registered kind or one from `kinds:`.
	// Base is the registered kind it comes down to.
	Kind string
	Base string
	// Args is the kind's default args with the child's merged over them
	// (objects merge key by key, anything else replaces), as canonical
	// JSON: keys sorted, no spaces, so equal args are equal bytes.
	Args json.RawMessage
}

// Supervisor is a supervisor's flags and children.
type Supervisor struct {
	Strategy     string
	MaxFrequency int
	Period       time.Duration
	AutoShutdown string
	// Backoff is the default backoff of its direct children that set none
	// (not of their children); nil: none.
	Backoff *Backoff
	// Children are in start order. Empty for a dynamic supervisor and a
	// pool.
	Children []*Node
	// Dynamic makes the supervisor dynamic (a factory): its children are
	// started at run time from this template.
	Dynamic *Dynamic
	// Pool makes the supervisor a pool: Size members of one kind, named
	// 1 … Size.
	Pool *Pool
}

// Pool is a pool's members: Size workers alike, the children "1" … "Size"
// of the pool's supervisor (whose strategy, max_frequency and period are
// the pool's; auto_shutdown is never).
type Pool struct {
	Kind, Base string
	// Args are every member's, canonical as Worker.Args; IndexVar in them
	// is replaced by the member's index when it starts (MemberArgs).
	Args     json.RawMessage
	Size     int
	Dispatch string // round_robin, random or least_busy
	Restart  string
	Shutdown Shutdown
}

// The dispatches of a pool, as tree files spell them.
const (
	RoundRobin = "round_robin"
	Random     = "random"
	LeastBusy  = "least_busy"
)

// IndexVar is the variable of a pool member's args: each member's start
// replaces ${OTPCTL_INDEX} by its index, 1 … size (so that N copies of a
// server listen on N ports: "80${OTPCTL_INDEX}"), as ${OTPCTL_INDEX:-x}
// and ${OTPCTL_INDEX-x} (package internal/expand's syntax). Every other
// variable and $$ are left as written: an exec member expands them at its
// start, as any exec child does.
const IndexVar = "${OTPCTL_INDEX}"

// MemberArgs returns the args of member index of a pool whose args are
// args: in every string value, OTPCTL_INDEX expanded (expand.Partial).
func MemberArgs(args json.RawMessage, index int) json.RawMessage {
	if !bytes.Contains(args, []byte("${OTPCTL_INDEX")) {
		return args
	}
	v, err := decodeObject(args)
	if err != nil {
		return args
	}
	i := strconv.Itoa(index)
	lookup := func(name string) (string, bool) { return i, name == "OTPCTL_INDEX" }
	return canonical(expandStrings(v, lookup))
}

// expandStrings returns v with expand.Partial applied to every string
// value (not to object keys).
func expandStrings(v any, lookup expand.Lookup) any {
	switch v := v.(type) {
	case string:
		return expand.Partial(v, lookup)
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = expandStrings(x, lookup)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = expandStrings(x, lookup)
		}
		return out
	}
	return v
}

// Dynamic is a dynamic supervisor's child template.
type Dynamic struct {
	Kind, Base  string
	Args        json.RawMessage // canonical, as Worker.Args
	Restart     string
	Shutdown    Shutdown
	MaxChildren int // zero: no limit
}

// Walk calls f for n and every node below it, depth first in start order.
func (n *Node) Walk(f func(*Node)) {
	f(n)
	if n.Supervisor != nil {
		for _, c := range n.Supervisor.Children {
			c.Walk(f)
		}
	}
}

// Find returns the node at path, or nil.
func (t *Tree) Find(path string) *Node {
	var found *Node
	t.Root.Walk(func(n *Node) {
		if found == nil && n.Path == path {
			found = n
		}
	})
	return found
}

// Kinds is what the checker needs to know of the registered kinds (a
// workers.Registry is one).
type Kinds interface {
	// ArgsSchema returns the JSON Schema of a registered kind's args.
	ArgsSchema(name string) (schema string, ok bool)
	// Names returns every registered kind's name, for "did you mean".
	Names() []string
}
