package control

import (
	"strings"
	"time"

	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/runtime"
)

// kindDynamic is the Kind of a dynamic supervisor's events
// (loader.KindDynamic; control does not import the loader).
const kindDynamic = "dynamic"

// restartCauses are the causes restarts are counted by, in the order of
// nodeCounts.restarts; a cause not listed counts as the last, "other".
var restartCauses = [...]string{
	string(runtime.CauseCrash), string(runtime.CauseSibling), string(runtime.CauseEscalation),
	string(runtime.CauseReload), string(runtime.CauseOperator), string(runtime.CauseBoot),
	string(runtime.CauseShutdown), "other",
}

func causeIndex(c runtime.Cause) int {
	for i, name := range restartCauses[:len(restartCauses)-1] {
		if string(c) == name {
			return i
		}
	}
	return len(restartCauses) - 1
}

// nodeKey names what the counts of a node are kept under: its path, or,
// with all, every child of the dynamic supervisor at path (the metrics'
// "PATH/*"). A dynamic supervisor's children are counted together so that
// the series stay as many as the tree file's nodes, however many children
// come and go.
type nodeKey struct {
	path string
	all  bool
}

// label is the key as the metrics' path label reads it.
func (k nodeKey) label() string {
	if k.all {
		return k.path + "/*"
	}
	return k.path
}

// nodeCounts is what the events told about one node (or one dynamic
// supervisor's children).
type nodeCounts struct {
	restarts  [len(restartCauses)]uint64
	lastExit  time.Time     // the latest exited or terminated
	startedIn time.Duration // the latest start's time to ready
	started   bool          // startedIn is set
	giveUps   uint64
}

// eventCounts are the counters the metrics read from the event stream. The
// event log keeps them under its lock: observe is O(1) and allocates only
// the first time a node is seen (the nodes are bounded by the tree files;
// a dynamic supervisor's children share one entry).
type eventCounts struct {
	nodes      map[nodeKey]*nodeCounts
	dynamic    map[string]bool // the paths of the dynamic supervisors seen started
	reloadsOK  uint64
	reloadsBad uint64
}

func (c *eventCounts) node(k nodeKey) *nodeCounts {
	n := c.nodes[k]
	if n == nil {
		if c.nodes == nil {
			c.nodes = map[nodeKey]*nodeCounts{}
		}
		n = &nodeCounts{}
		c.nodes[k] = n
	}
	return n
}

// key is where the counts of the node at path go.
func (c *eventCounts) key(path string) nodeKey {
	if i := strings.LastIndexByte(path, '/'); i > 0 && c.dynamic[path[:i]] {
		return nodeKey{path: path[:i], all: true}
	}
	return nodeKey{path: path}
}

// observe counts e.
func (c *eventCounts) observe(e *live.Event) {
	switch e.Type {
	case runtime.EventStarted:
		if e.Kind == kindDynamic {
			if c.dynamic == nil {
				c.dynamic = map[string]bool{}
			}
			c.dynamic[e.Path] = true
		} else if c.dynamic[e.Path] {
			delete(c.dynamic, e.Path) // a reload made it a supervisor of another kind
		}
		n := c.node(c.key(e.Path))
		if e.Restart {
			n.restarts[causeIndex(e.Cause)]++
		}
		n.startedIn, n.started = e.StartedIn, true
	case runtime.EventExited, runtime.EventTerminated:
		n := c.node(c.key(e.Path))
		if e.Time.After(n.lastExit) {
			n.lastExit = e.Time
		}
	case runtime.EventGiveUp:
		c.node(nodeKey{path: e.Path}).giveUps++
	case "reload":
		c.reloadsOK++
	case "reload_failed":
		c.reloadsBad++
	}
}

// countsCopy is a copy of the counts, for one scrape.
type countsCopy struct {
	nodes      map[nodeKey]nodeCounts
	dynamic    map[string]bool
	reloadsOK  uint64
	reloadsBad uint64
}

func (c *eventCounts) copy() countsCopy {
	cp := countsCopy{nodes: make(map[nodeKey]nodeCounts, len(c.nodes)), dynamic: make(map[string]bool, len(c.dynamic)),
		reloadsOK: c.reloadsOK, reloadsBad: c.reloadsBad}
	for k, n := range c.nodes {
		cp.nodes[k] = *n
	}
	for p := range c.dynamic {
		cp.dynamic[p] = true
	}
	return cp
}
