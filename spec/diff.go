package spec

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Op is what a reload does to one path. The values are public API: they are
// the ops of `otpctl plan --json` and the lists of the `reload` event.
type Op string

// The ops of a plan.
const (
	// Added: the node (with everything below it) is new; start it at
	// Change.Index among its parent's children.
	Added Op = "added"
	// Removed: the node (with everything below it) is gone; terminate it
	// with its shutdown setting and delete it.
	Removed Op = "removed"
	// Changed: the node's kind, base or args changed (a pool's members'
	// kind, base, args, restart or shutdown), or it turned from worker to
	// supervisor, static to dynamic or pool or back: terminate it (with
	// everything below it) and start the new one at its place.
	Changed Op = "changed"
	// Updated: the node keeps running; only what Fields name changes, in
	// place: how its parent supervises it (restart, shutdown,
	// significant), its own flags, its dynamic template, its children's
	// order, or a pool's size (members started at the end or stopped from
	// there, the others untouched) and dispatch.
	Updated Op = "updated"
)

// The fields a Change names. Each is the YAML key that was edited; "type"
// is worker, supervisor, dynamic or pool; "order" is the order of a supervisor's
// children; "name" is the root's name (the instance name).
const (
	FieldName        = "name"
	FieldType        = "type"
	FieldKind        = "kind"
	FieldBase        = "base"
	FieldArgs        = "args"
	FieldRestart     = "restart"
	FieldShutdown    = "shutdown"
	FieldSignificant = "significant"
	FieldBackoff     = "backoff"
	// FieldSupervisorBackoff is a supervisor's own backoff: the default
	// of its children.
	FieldSupervisorBackoff = "supervisor.backoff"
	FieldStrategy          = "strategy"
	FieldMaxFrequency      = "max_frequency"
	FieldPeriod            = "period"
	FieldAutoShutdown      = "auto_shutdown"
	FieldDynamicKind       = "dynamic.kind"
	FieldDynamicBase       = "dynamic.base"
	FieldDynamicArgs       = "dynamic.args"
	FieldDynamicRestart    = "dynamic.restart"
	FieldDynamicShutdown   = "dynamic.shutdown"
	FieldMaxChildren       = "dynamic.max_children"
	FieldPoolKind          = "pool.kind"
	FieldPoolBase          = "pool.base"
	FieldPoolArgs          = "pool.args"
	FieldPoolRestart       = "pool.restart"
	FieldPoolShutdown      = "pool.shutdown"
	FieldSize              = "size"
	FieldDispatch          = "dispatch"
	FieldOrder             = "order"
)

// Field is one field that differs between the old and the new node, with
// both values as text: durations and shutdowns as tree files write them
// ("5s", "brutal_kill"), args as canonical JSON, order as the kept
// children's names joined by spaces.
type Field struct {
	Name     string
	Old, New string
	// Keys details args and order: for args (and dynamic.args), the
	// top-level keys whose values differ, sorted (nil when either side is
	// not an object); for order, the children that moved.
	Keys []string
}

// Change is what a reload does to one path.
type Change struct {
	Op Op
	// Path is the node's path; Parent is its supervisor's path ("" for
	// the root) and Name its name there, which is the child ID the
	// runtime knows it by.
	Path, Parent, Name string
	// Index is the node's position among its parent's children: in the
	// new tree for Added, Changed and Updated (where the runtime's InsertChild puts
	// an added node), in the old tree for Removed; -1 for the root.
	Index int
	// Old and New are the node before and after; Old is nil for Added,
	// New is nil for Removed.
	Old, New *Node
	// Fields are the fields that caused a Changed or an Updated, in a
	// fixed order (none for Added and Removed).
	Fields []Field
	// Nodes is how many nodes the change starts or stops: the size of the
	// subtree added, removed (old) or started again (new); 1 for a worker.
	// Zero for Updated, which stops and starts nothing.
	Nodes int
	// Order is set when FieldOrder is: the names of the children present
	// in both trees, in their new order (the IDs of the runtime's
	// ReorderChildren, which is applied after the removals and before the
	// additions).
	Order []string
}

// Plan is the difference between two resolved trees: the changes a reload
// applies, in the order it applies them, and how many nodes it leaves alone.
//
// The order is made for an applier that works on the running supervisors:
//
//  1. Every Removed change first, in the order the old tree would stop
//     those nodes: reverse start order, depth first (a later sibling
//     before an earlier one, a nested supervisor's removed children in
//     its place in that order). A removed subtree is one change, for its
//     root; terminating it stops what is below. Stopping all of them
//     before starting anything frees what they held (a port, a file) for
//     the nodes that replace them elsewhere in the tree.
//  2. Then the rest, in the new tree's start order (depth first, each
//     supervisor before its children): for a supervisor, first its own
//     Updated change (flags, template, order; ReorderChildren can then
//     be applied with Order, since its removed children are gone and no
//     child has been added yet), then for each of its children in their
//     new order:
//     Added at Index (the siblings before it are then all in place),
//     Changed (replaced at its place), Updated, or the same walk into a
//     nested supervisor that is kept.
//
// A supervisor whose flags changed is Updated in place: its children keep
// running and are compared one by one. An added, removed or changed
// supervisor is one change for its whole subtree (its size in Nodes).
//
// Unchanged counts the nodes of the new tree that keep running with no change
// of their own, supervisors included (a supervisor whose only difference is
// below it is unchanged itself). Every node of the new tree is thus counted
// once: Unchanged + the number of Updated changes + the Nodes of the Added
// and Changed ones = the new tree's size.
//
// What does not touch the running tree is not compared: positions, the
// include file a subtree came from (a subtree moved to another file with
// the same content is unchanged), the files read. A reloader still takes
// the new tree's Files to watch.
type Plan struct {
	Changes   []Change
	Unchanged int
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }

// Paths returns the paths of the changes with op, in plan order (for the
// reload event's added, removed, changed and updated lists).
func (p *Plan) Paths(op Op) []string {
	var out []string
	for i := range p.Changes {
		if p.Changes[i].Op == op {
			out = append(out, p.Changes[i].Path)
		}
	}
	return out
}

// Equal reports whether two trees would run the same way: a reload from a to
// b changes nothing (Diff(a, b) is empty) and can be skipped.
func Equal(a, b *Tree) bool { return Diff(a, b).Empty() }

// Has reports whether the change names field.
func (c *Change) Has(field string) bool {
	for i := range c.Fields {
		if c.Fields[i].Name == field {
			return true
		}
	}
	return false
}

// UpdatesChild reports whether an Updated change changes how the node's
// parent supervises it (restart, shutdown, significant: the runtime's
// UpdateChild on the parent).
func (c *Change) UpdatesChild() bool {
	return c.Op == Updated && (c.Has(FieldRestart) || c.Has(FieldShutdown) || c.Has(FieldSignificant) || c.Has(FieldBackoff))
}

// UpdatesFlags reports whether an Updated change changes the supervisor's
// own flags (strategy, max_frequency, period, auto_shutdown: the runtime's
// SetFlags).
func (c *Change) UpdatesFlags() bool {
	return c.Op == Updated && (c.Has(FieldStrategy) || c.Has(FieldMaxFrequency) ||
		c.Has(FieldPeriod) || c.Has(FieldAutoShutdown) || c.Has(FieldSupervisorBackoff))
}

// UpdatesTemplate reports whether an Updated change changes a dynamic
// supervisor's template or max_children. Children it already runs keep
// running as they were started; the template is for the next ones.
func (c *Change) UpdatesTemplate() bool {
	if c.Op != Updated {
		return false
	}
	for i := range c.Fields {
		if strings.HasPrefix(c.Fields[i].Name, "dynamic.") {
			return true
		}
	}
	return false
}

// UpdatesPool reports whether an Updated change changes a pool's size or
// dispatch (the runtime's Pool.Resize and Pool.SetDispatch).
func (c *Change) UpdatesPool() bool {
	return c.Op == Updated && (c.Has(FieldSize) || c.Has(FieldDispatch))
}

// Diff compares two resolved trees path by path and returns the plan that
// takes a running old tree to new; see Plan for what it holds and in what
// order. Both trees are only read. Diff(t, t) is empty.
func Diff(old, new *Tree) *Plan {
	d := &differ{}
	if old.Name != new.Name || nodeType(old.Root) != nodeType(new.Root) {
		// The instance itself is another one: everything starts again.
		var fs []Field
		if old.Name != new.Name {
			fs = append(fs, Field{Name: FieldName, Old: old.Name, New: new.Name})
		}
		if t, u := nodeType(old.Root), nodeType(new.Root); t != u {
			fs = append(fs, Field{Name: FieldType, Old: t, New: u})
		}
		d.plan.Changes = append(d.plan.Changes, Change{
			Op: Changed, Path: old.Root.Path, Name: old.Root.Name, Index: -1,
			Old: old.Root, New: new.Root, Fields: fs, Nodes: size(new.Root),
		})
		return &d.plan
	}
	d.kept(old.Root, new.Root, "", -1)
	if d.paired != nil { // some children were added, removed or moved
		d.removals(old.Root, new.Root)
		slices.Reverse(d.removed)
		d.plan.Changes = append(d.removed, d.plan.Changes...)
	}
	return &d.plan
}

type differ struct {
	plan Plan
	// paired keeps, for each kept static supervisor of the old tree whose
	// children's names differ from the new one's, the pairs of its
	// children (pairs is not nil then), for removals.
	paired  map[*Node][]int
	removed []Change
}

// removals collects the Removed changes below the kept supervisors o and n
// in the old tree's start order (Diff reverses them).
func (d *differ) removals(o, n *Node) {
	oc, nc := o.Supervisor.Children, n.Supervisor.Children
	p := d.paired[o]
	var inv []int // old index → new index, -1 when removed
	if p != nil {
		inv = make([]int, len(oc))
		for i := range inv {
			inv[i] = -1
		}
		for j, i := range p {
			if i >= 0 {
				inv[i] = j
			}
		}
	}
	for i, c := range oc {
		j := i
		if inv != nil {
			j = inv[i]
		}
		if j < 0 {
			d.removed = append(d.removed, Change{
				Op: Removed, Path: c.Path, Parent: o.Path, Name: c.Name, Index: i,
				Old: c, Nodes: size(c),
			})
			continue
		}
		if static(c) && static(nc[j]) { // kept, and walked by kept
			d.removals(c, nc[j])
		}
	}
}

// kept handles a node present in both trees, at index among parent's new
// children: Changed, Updated or unchanged, then (for a kept static
// supervisor) its children in their new order.
func (d *differ) kept(o, n *Node, parent string, index int) {
	if replaced(o, n) {
		var fs []Field
		if t, u := nodeType(o), nodeType(n); t != u {
			fs = append(fs, Field{Name: FieldType, Old: t, New: u})
		}
		if o.Worker != nil && n.Worker != nil {
			fs = workerFields(fs, o.Worker, n.Worker)
		}
		if op, np := poolOf(o), poolOf(n); op != nil && np != nil {
			fs = memberFields(fs, op, np)
		}
		fs = supervisedFields(fs, o, n)
		d.plan.Changes = append(d.plan.Changes, Change{
			Op: Changed, Path: n.Path, Parent: parent, Name: n.Name, Index: index,
			Old: o, New: n, Fields: fs, Nodes: size(n),
		})
		return
	}
	var fs []Field
	if index >= 0 { // the root has no parent to supervise it
		fs = supervisedFields(fs, o, n)
	}
	var p []int
	var order []string
	if o.Supervisor != nil {
		fs = flagFields(fs, o.Supervisor, n.Supervisor)
		switch {
		case o.Supervisor.Dynamic != nil:
			fs = dynamicFields(fs, o.Supervisor.Dynamic, n.Supervisor.Dynamic)
		case o.Supervisor.Pool != nil:
			fs = poolFields(fs, o.Supervisor.Pool, n.Supervisor.Pool)
		default:
			p = pairs(o.Supervisor.Children, n.Supervisor.Children)
			if p != nil {
				if d.paired == nil {
					d.paired = map[*Node][]int{}
				}
				d.paired[o] = p
			}
			var f *Field
			f, order = orderField(o.Supervisor.Children, n.Supervisor.Children, p)
			if f != nil {
				fs = append(fs, *f)
			}
		}
	}
	if len(fs) > 0 {
		d.plan.Changes = append(d.plan.Changes, Change{
			Op: Updated, Path: n.Path, Parent: parent, Name: n.Name, Index: index,
			Old: o, New: n, Fields: fs, Order: order,
		})
	} else {
		d.plan.Unchanged++
	}
	if !static(n) {
		return
	}
	oc := o.Supervisor.Children
	for j, m := range n.Supervisor.Children {
		i := j
		if p != nil {
			i = p[j]
		}
		if i < 0 {
			d.plan.Changes = append(d.plan.Changes, Change{
				Op: Added, Path: m.Path, Parent: n.Path, Name: m.Name, Index: j,
				New: m, Nodes: size(m),
			})
			continue
		}
		d.kept(oc[i], m, n.Path, j)
	}
}

// pairs returns, for each of nc, the index of the child of oc with the same
// name or -1; nil when both hold the same names in the same order (the
// usual case, which needs no map).
func pairs(oc, nc []*Node) []int {
	if len(oc) == len(nc) {
		same := true
		for i := range oc {
			if oc[i].Name != nc[i].Name {
				same = false
				break
			}
		}
		if same {
			return nil
		}
	}
	at := make(map[string]int, len(oc))
	for i, c := range oc {
		at[c.Name] = i
	}
	p := make([]int, len(nc))
	for j, c := range nc {
		i, ok := at[c.Name]
		if !ok {
			i = -1
		}
		p[j] = i
	}
	return p
}

// orderField returns the order field when the children present in both
// lists are not in the same order, with the moved ones in Keys, and the
// kept names in their new order.
func orderField(oc, nc []*Node, p []int) (*Field, []string) {
	if p == nil {
		return nil, nil
	}
	var seq []int // old indexes of the kept children, in new order
	for _, i := range p {
		if i >= 0 {
			seq = append(seq, i)
		}
	}
	if slices.IsSorted(seq) {
		return nil, nil
	}
	oldNames := make([]string, len(seq))
	for k, i := range slices.Sorted(slices.Values(seq)) {
		oldNames[k] = oc[i].Name
	}
	newNames := make([]string, len(seq))
	for k, i := range seq {
		newNames[k] = oc[i].Name
	}
	stay := longestIncreasing(seq)
	var moved []string
	for k, i := range seq {
		if !stay[k] {
			moved = append(moved, oc[i].Name)
		}
	}
	return &Field{
		Name: FieldOrder, Old: strings.Join(oldNames, " "), New: strings.Join(newNames, " "),
		Keys: moved,
	}, newNames
}

// longestIncreasing marks the members of one longest increasing
// subsequence of seq (distinct values): the children that can stay where
// they are while the others move.
func longestIncreasing(seq []int) []bool {
	// tails[k]: index in seq of the smallest tail of an increasing run of
	// length k+1; prev links each member to the one before it.
	var tails []int
	prev := make([]int, len(seq))
	for k, v := range seq {
		l, _ := slices.BinarySearchFunc(tails, v, func(t, v int) int { return seq[t] - v })
		if l > 0 {
			prev[k] = tails[l-1]
		} else {
			prev[k] = -1
		}
		if l == len(tails) {
			tails = append(tails, k)
		} else {
			tails[l] = k
		}
	}
	stay := make([]bool, len(seq))
	if len(tails) > 0 {
		for k := tails[len(tails)-1]; k >= 0; k = prev[k] {
			stay[k] = true
		}
	}
	return stay
}

// replaced reports whether the node at one path must be terminated and
// started again: another type, a worker whose kind, base or args differ,
// or a pool whose members' do (or their restart or shutdown).
func replaced(o, n *Node) bool {
	if nodeType(o) != nodeType(n) {
		return true
	}
	if o.Worker != nil {
		return o.Worker.Kind != n.Worker.Kind || o.Worker.Base != n.Worker.Base ||
			!bytes.Equal(o.Worker.Args, n.Worker.Args)
	}
	if op, np := poolOf(o), poolOf(n); op != nil {
		return len(memberFields(nil, op, np)) > 0
	}
	return false
}

// poolOf returns n's pool, or nil.
func poolOf(n *Node) *Pool {
	if n.Supervisor == nil {
		return nil
	}
	return n.Supervisor.Pool
}

// Node types, as the type field names them.
const (
	typeWorker     = "worker"
	typeSupervisor = "supervisor"
	typeDynamic    = "dynamic"
	typePool       = "pool"
)

func nodeType(n *Node) string {
	switch {
	case n.Worker != nil:
		return typeWorker
	case n.Supervisor != nil && n.Supervisor.Dynamic != nil:
		return typeDynamic
	case n.Supervisor != nil && n.Supervisor.Pool != nil:
		return typePool
	default:
		return typeSupervisor
	}
}

func static(n *Node) bool {
	return n.Supervisor != nil && n.Supervisor.Dynamic == nil && n.Supervisor.Pool == nil
}

// size counts n and the nodes below it.
func size(n *Node) int {
	k := 0
	n.Walk(func(*Node) { k++ })
	return k
}

func workerFields(fs []Field, o, n *Worker) []Field {
	if o.Kind != n.Kind {
		fs = append(fs, Field{Name: FieldKind, Old: o.Kind, New: n.Kind})
	}
	if o.Kind == n.Kind && o.Base != n.Base { // a kind's new name says enough
		fs = append(fs, Field{Name: FieldBase, Old: o.Base, New: n.Base})
	}
	return argsField(fs, FieldArgs, o.Args, n.Args)
}

func supervisedFields(fs []Field, o, n *Node) []Field {
	if o.Restart != n.Restart {
		fs = append(fs, Field{Name: FieldRestart, Old: o.Restart, New: n.Restart})
	}
	if o.Shutdown != n.Shutdown {
		fs = append(fs, Field{Name: FieldShutdown, Old: shutdownText(o.Shutdown), New: shutdownText(n.Shutdown)})
	}
	if o.Significant != n.Significant {
		fs = append(fs, Field{Name: FieldSignificant,
			Old: strconv.FormatBool(o.Significant), New: strconv.FormatBool(n.Significant)})
	}
	if o.Backoff.String() != n.Backoff.String() {
		fs = append(fs, Field{Name: FieldBackoff, Old: o.Backoff.String(), New: n.Backoff.String()})
	}
	return fs
}

func flagFields(fs []Field, o, n *Supervisor) []Field {
	if o.Strategy != n.Strategy {
		fs = append(fs, Field{Name: FieldStrategy, Old: o.Strategy, New: n.Strategy})
	}
	if o.MaxFrequency != n.MaxFrequency {
		fs = append(fs, Field{Name: FieldMaxFrequency,
			Old: strconv.Itoa(o.MaxFrequency), New: strconv.Itoa(n.MaxFrequency)})
	}
	if o.Period != n.Period {
		fs = append(fs, Field{Name: FieldPeriod, Old: FormatDuration(o.Period), New: FormatDuration(n.Period)})
	}
	if o.AutoShutdown != n.AutoShutdown {
		fs = append(fs, Field{Name: FieldAutoShutdown, Old: o.AutoShutdown, New: n.AutoShutdown})
	}
	if o.Backoff.String() != n.Backoff.String() {
		fs = append(fs, Field{Name: FieldSupervisorBackoff, Old: o.Backoff.String(), New: n.Backoff.String()})
	}
	return fs
}

func dynamicFields(fs []Field, o, n *Dynamic) []Field {
	fs = templateFields(fs, "dynamic.", o.template(), n.template())
	if o.MaxChildren != n.MaxChildren {
		fs = append(fs, Field{Name: FieldMaxChildren,
			Old: strconv.Itoa(o.MaxChildren), New: strconv.Itoa(n.MaxChildren)})
	}
	return fs
}

// template is what a dynamic supervisor's template and a pool say of
// their children.
type template struct {
	kind, base, restart string
	args                json.RawMessage
	shutdown            Shutdown
}

func (d *Dynamic) template() template {
	return template{kind: d.Kind, base: d.Base, restart: d.Restart, args: d.Args, shutdown: d.Shutdown}
}

func (p *Pool) template() template {
	return template{kind: p.Kind, base: p.Base, restart: p.Restart, args: p.Args, shutdown: p.Shutdown}
}

// templateFields appends the fields prefix+kind, base, args, restart and
// shutdown where o and n differ.
func templateFields(fs []Field, prefix string, o, n template) []Field {
	if o.kind != n.kind {
		fs = append(fs, Field{Name: prefix + "kind", Old: o.kind, New: n.kind})
	}
	if o.kind == n.kind && o.base != n.base { // a kind's new name says enough
		fs = append(fs, Field{Name: prefix + "base", Old: o.base, New: n.base})
	}
	fs = argsField(fs, prefix+"args", o.args, n.args)
	if o.restart != n.restart {
		fs = append(fs, Field{Name: prefix + "restart", Old: o.restart, New: n.restart})
	}
	if o.shutdown != n.shutdown {
		fs = append(fs, Field{Name: prefix + "shutdown", Old: shutdownText(o.shutdown), New: shutdownText(n.shutdown)})
	}
	return fs
}

// memberFields are the fields of a pool whose change restarts its members:
// their kind, base, args, restart and shutdown.
func memberFields(fs []Field, o, n *Pool) []Field {
	return templateFields(fs, "pool.", o.template(), n.template())
}

// poolFields are the fields of a pool that change in place: its size and
// dispatch.
func poolFields(fs []Field, o, n *Pool) []Field {
	if o.Size != n.Size {
		fs = append(fs, Field{Name: FieldSize, Old: strconv.Itoa(o.Size), New: strconv.Itoa(n.Size)})
	}
	if o.Dispatch != n.Dispatch {
		fs = append(fs, Field{Name: FieldDispatch, Old: o.Dispatch, New: n.Dispatch})
	}
	return fs
}

// argsField appends an args field when the canonical args differ, with the
// top-level keys that differ when both are objects.
func argsField(fs []Field, name string, o, n json.RawMessage) []Field {
	if bytes.Equal(o, n) {
		return fs
	}
	return append(fs, Field{Name: name, Old: string(o), New: string(n), Keys: argKeys(o, n)})
}

func argKeys(o, n json.RawMessage) []string {
	var a, b map[string]json.RawMessage
	if json.Unmarshal(o, &a) != nil || json.Unmarshal(n, &b) != nil || a == nil || b == nil {
		return nil
	}
	var keys []string
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal(v, w) {
			keys = append(keys, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// shutdownText writes a shutdown as a person would in a tree file:
// brutal_kill, infinity, 10s, 1m30s.
func shutdownText(s Shutdown) string {
	if s < 0 {
		return s.String()
	}
	return FormatDuration(time.Duration(s))
}

// FormatDuration writes d as a person would in a tree file: as Go does,
// without zero units (10s, 1m, 1m30s, 1h, 500ms); time.ParseDuration reads
// it back.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
