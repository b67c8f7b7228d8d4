package spec

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// Small constructors of resolved trees, with the loader's defaults.

type opt func(*Node)

func wk(name, kind, args string, opts ...opt) *Node {
	n := &Node{Name: name, Restart: Permanent, Shutdown: DefaultWorkerShutdown,
		Worker: &Worker{Kind: kind, Base: kind, Args: json.RawMessage(args)}}
	for _, o := range opts {
		o(n)
	}
	return n
}

func sv(name string, opts []opt, children ...*Node) *Node {
	n := &Node{Name: name, Restart: Permanent, Shutdown: Infinity,
		Supervisor: &Supervisor{Strategy: DefaultStrategy, MaxFrequency: DefaultMaxFrequency,
			Period: DefaultPeriod, AutoShutdown: Never, Children: children}}
	for _, o := range opts {
		o(n)
	}
	return n
}

func dyn(name, kind string, max int, opts ...opt) *Node {
	n := sv(name, nil)
	n.Supervisor.Dynamic = &Dynamic{Kind: kind, Base: kind, Args: json.RawMessage(`{}`),
		Restart: Temporary, Shutdown: DefaultWorkerShutdown, MaxChildren: max}
	for _, o := range opts {
		o(n)
	}
	return n
}

func tree(name string, opts []opt, children ...*Node) *Tree {
	root := sv(name, opts, children...)
	var set func(n *Node, path string)
	set = func(n *Node, path string) {
		n.Path = path
		if n.Supervisor != nil {
			for _, c := range n.Supervisor.Children {
				set(c, path+"/"+c.Name)
			}
		}
	}
	set(root, name)
	return &Tree{Name: name, File: name + ".yaml", Files: []string{name + ".yaml"}, Root: root}
}

func restart(r string) opt         { return func(n *Node) { n.Restart = r } }
func shutdown(d time.Duration) opt { return func(n *Node) { n.Shutdown = Shutdown(d) } }
func brutal() opt                  { return func(n *Node) { n.Shutdown = BrutalKill } }
func significant() opt             { return func(n *Node) { n.Significant = true } }
func strategy(s string) opt        { return func(n *Node) { n.Supervisor.Strategy = s } }
func maxFreq(k int) opt            { return func(n *Node) { n.Supervisor.MaxFrequency = k } }
func period(d time.Duration) opt   { return func(n *Node) { n.Supervisor.Period = d } }
func autoShutdown(a string) opt    { return func(n *Node) { n.Supervisor.AutoShutdown = a } }
func include(file string) opt      { return func(n *Node) { n.Include = file } }
func base(b string) opt            { return func(n *Node) { n.Worker.Base = b } }
func at(file string, line int) opt { return func(n *Node) { n.Pos = Pos{file, line, 7} } }
func tmplArgs(a string) opt        { return func(n *Node) { n.Supervisor.Dynamic.Args = json.RawMessage(a) } }
func tmplShutdown(d time.Duration) opt {
	return func(n *Node) { n.Supervisor.Dynamic.Shutdown = Shutdown(d) }
}
func opts(o ...opt) []opt { return o }

// shop is the tree most cases start from:
//
//	shop
//	├── db      (counter)
//	├── web     (exec)
//	├── workers (rest_for_one: w1, w2, w3)
//	└── jobs    (dynamic echo, max 10)
func shop(edit ...func(root []*Node) []*Node) *Tree {
	children := []*Node{
		wk("db", "counter", `{"initial":0}`),
		wk("web", "exec", `{"command":["python3","-m","http.server"],"env":{"A":"1"}}`, shutdown(5*time.Second)),
		sv("workers", opts(strategy(RestForOne), maxFreq(5), period(time.Minute)),
			wk("w1", "echo", `{}`), wk("w2", "echo", `{}`), wk("w3", "echo", `{}`)),
		dyn("jobs", "echo", 10),
	}
	for _, e := range edit {
		children = e(children)
	}
	return tree("shop", opts(maxFreq(3)), children...)
}

// replace returns an edit that swaps the child named name (at any depth)
// for n.
func replace(name string, n *Node) func([]*Node) []*Node {
	return func(cs []*Node) []*Node {
		cs = slices.Clone(cs)
		for i, c := range cs {
			if c.Name == name {
				cs[i] = n
				return cs
			}
			if c.Supervisor != nil {
				cc := *c
				s := *c.Supervisor
				s.Children = replace(name, n)(c.Supervisor.Children)
				cc.Supervisor = &s
				cs[i] = &cc
			}
		}
		return cs
	}
}

func drop(name string) func([]*Node) []*Node {
	return func(cs []*Node) []*Node {
		return slices.DeleteFunc(slices.Clone(cs), func(c *Node) bool { return c.Name == name })
	}
}

func insert(i int, n *Node) func([]*Node) []*Node {
	return func(cs []*Node) []*Node { return slices.Insert(slices.Clone(cs), i, n) }
}

func order(names ...string) func([]*Node) []*Node {
	return func(cs []*Node) []*Node {
		out := make([]*Node, len(names))
		for i, name := range names {
			out[i] = cs[slices.IndexFunc(cs, func(c *Node) bool { return c.Name == name })]
		}
		return out
	}
}

var workers3 = func(o ...opt) *Node {
	return sv("workers", append(opts(strategy(RestForOne), maxFreq(5), period(time.Minute)), o...),
		wk("w1", "echo", `{}`), wk("w2", "echo", `{}`), wk("w3", "echo", `{}`))
}

func TestDiff(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old, new *Tree
		want     string // the plan's text
	}{
		{"no change", shop(), shop(), "8 unchanged\n"},
		{"args changed", shop(), shop(replace("db", wk("db", "counter", `{"initial":5}`))), `
~ shop/db (args changed (initial): restart)
7 unchanged
`},
		{"args changed in a list", shop(),
			shop(replace("web", wk("web", "exec", `{"command":["python3","-m","http.server","8080"],"env":{"A":"1"}}`))), `
~ shop/web (args changed (command): restart)
7 unchanged
`},
		{"kind changed", shop(), shop(replace("db", wk("db", "cache", `{"initial":0}`))), `
~ shop/db (kind counter → cache: restart)
7 unchanged
`},
		{"base changed under the same kind name", shop(),
			shop(replace("db", wk("db", "counter", `{"initial":0}`, base("cache")))), `
~ shop/db (base counter → cache: restart)
7 unchanged
`},
		{"kind, args and shutdown changed: one restart that says all", shop(),
			shop(replace("db", wk("db", "cache", `{"max_size":3}`, shutdown(time.Second)))), `
~ shop/db (kind counter → cache, args changed (initial, max_size), shutdown 5s → 1s: restart)
7 unchanged
`},
		{"shutdown changed: in place", shop(),
			shop(replace("web", wk("web", "exec", `{"command":["python3","-m","http.server"],"env":{"A":"1"}}`, shutdown(10*time.Second)))), `
~ shop/web (shutdown 5s → 10s: updated in place)
7 unchanged
`},
		{"restart and significant changed: in place", shop(),
			shop(replace("db", wk("db", "counter", `{"initial":0}`, restart(Transient), significant()))), `
~ shop/db (restart permanent → transient, significant false → true: updated in place)
7 unchanged
`},
		{"brutal_kill", shop(), shop(replace("db", wk("db", "counter", `{"initial":0}`, brutal()))), `
~ shop/db (shutdown 5s → brutal_kill: updated in place)
7 unchanged
`},
		{"root flags", shop(),
			tree("shop", opts(maxFreq(5), period(90*time.Second), strategy(OneForAll), autoShutdown(AnySignificant)), shop().Root.Supervisor.Children...), `
~ shop (strategy one_for_one → one_for_all, max_frequency 3 → 5, period 5s → 1m30s, auto_shutdown never → any_significant: updated in place)
7 unchanged
`},
		{"nested supervisor's flags: children are kept", shop(), shop(replace("workers", workers3(maxFreq(10), period(time.Hour)))), `
~ shop/workers (max_frequency 5 → 10, period 1m → 1h: updated in place)
7 unchanged
`},
		{"nested supervisor's shutdown and strategy: one line", shop(), shop(replace("workers", workers3(strategy(OneForAll), shutdown(time.Minute)))), `
~ shop/workers (shutdown infinity → 1m, strategy rest_for_one → one_for_all: updated in place)
7 unchanged
`},
		{"nested leaf changed", shop(), shop(replace("w2", wk("w2", "echo", `{"x":1}`))), `
~ shop/workers/w2 (args changed (x): restart)
7 unchanged
`},
		{"nested leaf changed and its supervisor's flags", shop(),
			shop(replace("workers", sv("workers", opts(strategy(OneForOne), maxFreq(5), period(time.Minute)),
				wk("w1", "echo", `{}`), wk("w2", "echo", `{"x":1}`), wk("w3", "echo", `{}`)))), `
~ shop/workers (strategy rest_for_one → one_for_one: updated in place)
~ shop/workers/w2 (args changed (x): restart)
6 unchanged
`},
		{"added at the end", shop(), shop(func(cs []*Node) []*Node { return append(cs, wk("cache", "cache", `{}`)) }), `
+ shop/cache (added)
8 unchanged
`},
		{"added in the middle", shop(), shop(insert(1, wk("cache", "cache", `{}`))), `
+ shop/cache (added)
8 unchanged
`},
		{"removed", shop(), shop(drop("web")), `
- shop/web (removed)
7 unchanged
`},
		{"removed ones in reverse start order, depth first", shop(),
			shop(drop("db"), drop("jobs"), replace("workers", sv("workers", opts(strategy(RestForOne), maxFreq(5), period(time.Minute)), wk("w2", "echo", `{}`)))), `
- shop/jobs (removed)
- shop/workers/w3 (removed)
- shop/workers/w1 (removed)
- shop/db (removed)
4 unchanged
`},
		{"whole subtree added: one line", shop(drop("workers")), shop(), `
+ shop/workers (added, 4 nodes)
4 unchanged
`},
		{"whole subtree removed: one line", shop(), shop(drop("workers")), `
- shop/workers (removed, 4 nodes)
4 unchanged
`},
		{"swap: reordered, nothing restarts", shop(), shop(order("web", "db", "workers", "jobs")), `
~ shop (order changed (web moved): updated in place)
7 unchanged
`},
		{"one moved to the front", shop(), shop(order("jobs", "db", "web", "workers")), `
~ shop (order changed (jobs moved): updated in place)
7 unchanged
`},
		{"reversed", shop(), shop(order("jobs", "workers", "web", "db")), `
~ shop (order changed (jobs, workers, web moved): updated in place)
7 unchanged
`},
		{"an insertion alone is no reorder", shop(), shop(insert(0, wk("a", "echo", `{}`)), drop("web")), `
- shop/web (removed)
+ shop/a (added)
7 unchanged
`},
		{"reordered, added and removed in one supervisor", shop(),
			shop(drop("db"), insert(0, wk("cache", "cache", `{}`)), order("cache", "workers", "web", "jobs")), `
- shop/db (removed)
~ shop (order changed (workers moved): updated in place)
+ shop/cache (added)
6 unchanged
`},
		{"worker turned supervisor", shop(), shop(replace("db", sv("db", nil, wk("primary", "counter", `{}`), wk("replica", "counter", `{}`)))), `
~ shop/db (type worker → supervisor, shutdown 5s → infinity: restart, 3 nodes)
7 unchanged
`},
		{"supervisor turned worker", shop(), shop(replace("workers", wk("workers", "echo", `{}`))), `
~ shop/workers (type supervisor → worker, shutdown infinity → 5s: restart)
4 unchanged
`},
		{"static turned dynamic", shop(), shop(replace("workers", dyn("workers", "echo", 0, shutdown(time.Duration(Infinity))))), `
~ shop/workers (type supervisor → dynamic: restart)
4 unchanged
`},
		{"dynamic turned static", shop(), shop(replace("jobs", sv("jobs", nil, wk("j1", "echo", `{}`)))), `
~ shop/jobs (type dynamic → supervisor: restart, 2 nodes)
7 unchanged
`},
		{"dynamic template and max_children: in place", shop(), shop(replace("jobs", dyn("jobs", "ticker", 20, tmplArgs(`{"interval":"1s"}`), tmplShutdown(time.Second)))), `
~ shop/jobs (dynamic.kind echo → ticker, dynamic.args changed (interval), dynamic.shutdown 5s → 1s, dynamic.max_children 10 → 20: updated in place)
7 unchanged
`},
		{"include content changed", shop(replace("workers", workers3(include("workers.yaml")))),
			shop(replace("workers", sv("workers", opts(strategy(RestForOne), maxFreq(5), period(time.Minute), include("workers.yaml")),
				wk("w1", "echo", `{}`), wk("w2", "counter", `{}`), wk("w3", "echo", `{}`), wk("w4", "echo", `{}`)))), `
~ shop/workers/w2 (kind echo → counter: restart)
+ shop/workers/w4 (added)
7 unchanged
`},
		{"include moved to another file, same content: unchanged", shop(replace("workers", workers3(include("a.yaml")))),
			shop(replace("workers", workers3(include("b.yaml"), at("b.yaml", 3)))), "8 unchanged\n"},
		{"positions differ only: unchanged", shop(), shop(replace("db", wk("db", "counter", `{"initial":0}`, at("shop.yaml", 40)))), "8 unchanged\n"},
		{"instance renamed: everything restarts", shop(), tree("store", opts(maxFreq(3)), shop().Root.Supervisor.Children...), `
~ shop (name shop → store: restart, 8 nodes)
0 unchanged
`},
		{"a combination, in the order it applies", shop(),
			tree("shop", opts(maxFreq(4)),
				wk("cache", "cache", `{}`),
				wk("db", "counter", `{"initial":0}`, shutdown(time.Second)),
				sv("workers", opts(strategy(RestForOne), maxFreq(5), period(time.Minute)),
					wk("w3", "echo", `{}`), wk("w1", "echo", `{"v":2}`), wk("w4", "echo", `{}`)),
				dyn("jobs", "echo", 10),
				sv("pool", nil, wk("p1", "echo", `{}`), wk("p2", "echo", `{}`))), `
- shop/workers/w2 (removed)
- shop/web (removed)
~ shop (max_frequency 3 → 4: updated in place)
+ shop/cache (added)
~ shop/db (shutdown 5s → 1s: updated in place)
~ shop/workers (order changed (w3 moved): updated in place)
~ shop/workers/w1 (args changed (v): restart)
+ shop/workers/w4 (added)
+ shop/pool (added, 3 nodes)
2 unchanged
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Diff(tc.old, tc.new)
			want := strings.TrimPrefix(tc.want, "\n")
			if got := p.String(); got != want {
				t.Errorf("plan:\n%s\nwant:\n%s", got, want)
			}
			checkPlan(t, tc.old, tc.new, p)
		})
	}
}

// checkPlan asserts what holds for every plan: it is deterministic, empty
// exactly when Equal says so, its counts cover the new tree once, the
// reverse plan is as big, and applying it to the old tree as the runtime
// would gives the new tree.
func checkPlan(t *testing.T, old, new *Tree, p *Plan) {
	t.Helper()
	if q := Diff(old, new); !reflect.DeepEqual(p, q) {
		t.Errorf("two diffs of the same trees differ:\n%s\n%s", p, q)
	}
	if Equal(old, new) != p.Empty() {
		t.Errorf("Equal = %v, but the plan is %s", Equal(old, new), p)
	}
	if !Diff(old, old).Empty() || !Diff(new, new).Empty() {
		t.Errorf("a tree differs from itself")
	}
	total := p.Unchanged
	for _, c := range p.Changes {
		switch c.Op {
		case Added, Changed:
			total += c.Nodes
		case Updated:
			total++
		}
	}
	if n := size(new.Root); total != n {
		t.Errorf("unchanged + updated + added/changed nodes = %d; the new tree has %d nodes", total, n)
	}
	back := Diff(new, old)
	if len(back.Changes) != len(p.Changes) {
		t.Errorf("the way back has %d changes, the way there %d:\n%s\n%s", len(back.Changes), len(p.Changes), back, p)
	}
	if old.Name != new.Name {
		return // not something a running tree can do in place
	}
	got, err := apply(old, p)
	if err != nil {
		t.Fatalf("applying the plan as the runtime would: %v\n%s", err, p)
	}
	if !sameTree(got.Root, new.Root) {
		t.Errorf("applying the plan does not give the new tree:\n%s", p)
	}
}

// apply replays a plan on a copy of old with the preconditions of the
// runtime's RemoveChild, SetFlags, Reorder, InsertChild, ReplaceChild and
// UpdateChild, as the reload applier will call them.
func apply(old *Tree, p *Plan) (*Tree, error) {
	root := clone(old.Root)
	sups := map[string]*Node{}
	var index func(n *Node)
	index = func(n *Node) {
		if n.Supervisor != nil {
			sups[n.Path] = n
			for _, c := range n.Supervisor.Children {
				index(c)
			}
		}
	}
	index(root)
	find := func(parent, name string) (*Node, int, error) {
		s := sups[parent]
		if s == nil {
			return nil, 0, fmt.Errorf("no supervisor %q", parent)
		}
		i := slices.IndexFunc(s.Supervisor.Children, func(c *Node) bool { return c.Name == name })
		if i < 0 {
			return s, -1, fmt.Errorf("%s: no child %q", parent, name)
		}
		return s, i, nil
	}
	started := false
	for _, c := range p.Changes {
		switch c.Op {
		case Removed:
			if started {
				return nil, fmt.Errorf("%s removed after something started", c.Path)
			}
			s, i, err := find(c.Parent, c.Name)
			if err != nil {
				return nil, err
			}
			s.Supervisor.Children = slices.Delete(s.Supervisor.Children, i, i+1)
		case Added:
			started = true
			s := sups[c.Parent]
			if s == nil || c.Index > len(s.Supervisor.Children) {
				return nil, fmt.Errorf("%s: cannot insert at %d", c.Path, c.Index)
			}
			if slices.ContainsFunc(s.Supervisor.Children, func(x *Node) bool { return x.Name == c.Name }) {
				return nil, fmt.Errorf("%s: already there", c.Path)
			}
			n := clone(c.New)
			s.Supervisor.Children = slices.Insert(s.Supervisor.Children, c.Index, n)
			index(n)
		case Changed:
			started = true
			s, i, err := find(c.Parent, c.Name)
			if err != nil {
				return nil, err
			}
			n := clone(c.New)
			s.Supervisor.Children[i] = n
			index(n)
		case Updated:
			started = true
			var n *Node
			if c.Parent == "" {
				n = root
			} else {
				s, i, err := find(c.Parent, c.Name)
				if err != nil {
					return nil, err
				}
				n = s.Supervisor.Children[i]
			}
			if c.UpdatesChild() {
				n.Restart, n.Shutdown, n.Significant = c.New.Restart, c.New.Shutdown, c.New.Significant
			}
			if c.UpdatesFlags() {
				s := c.New.Supervisor
				n.Supervisor.Strategy, n.Supervisor.MaxFrequency = s.Strategy, s.MaxFrequency
				n.Supervisor.Period, n.Supervisor.AutoShutdown = s.Period, s.AutoShutdown
			}
			if c.UpdatesTemplate() {
				d := *c.New.Supervisor.Dynamic
				n.Supervisor.Dynamic = &d
			}
			if c.UpdatesPool() {
				p := *n.Supervisor.Pool
				p.Size, p.Dispatch = c.New.Supervisor.Pool.Size, c.New.Supervisor.Pool.Dispatch
				n.Supervisor.Pool = &p
			}
			if c.Has(FieldOrder) {
				cs := n.Supervisor.Children
				if len(c.Order) != len(cs) {
					return nil, fmt.Errorf("%s: reorder with %d ids for %d children", c.Path, len(c.Order), len(cs))
				}
				out := make([]*Node, len(cs))
				for k, id := range c.Order {
					i := slices.IndexFunc(cs, func(x *Node) bool { return x.Name == id })
					if i < 0 {
						return nil, fmt.Errorf("%s: reorder: no child %q", c.Path, id)
					}
					out[k] = cs[i]
				}
				n.Supervisor.Children = out
			}
		}
	}
	return &Tree{Name: old.Name, Root: root}, nil
}

func clone(n *Node) *Node {
	c := *n
	if n.Worker != nil {
		w := *n.Worker
		c.Worker = &w
	}
	if n.Supervisor != nil {
		s := *n.Supervisor
		s.Children = make([]*Node, len(n.Supervisor.Children))
		for i, x := range n.Supervisor.Children {
			s.Children[i] = clone(x)
		}
		c.Supervisor = &s
	}
	return &c
}

// sameTree compares what runs, independently of Diff.
func sameTree(a, b *Node) bool {
	if a.Name != b.Name || a.Path != b.Path || a.Restart != b.Restart || a.Shutdown != b.Shutdown ||
		a.Significant != b.Significant || (a.Worker == nil) != (b.Worker == nil) {
		return false
	}
	if a.Worker != nil {
		return reflect.DeepEqual(a.Worker, b.Worker)
	}
	x, y := *a.Supervisor, *b.Supervisor
	if !reflect.DeepEqual(x.Dynamic, y.Dynamic) || len(x.Children) != len(y.Children) {
		return false
	}
	xc, yc := x.Children, y.Children
	x.Children, y.Children, x.Dynamic, y.Dynamic = nil, nil, nil, nil
	if !reflect.DeepEqual(x, y) {
		return false
	}
	for i := range xc {
		if !sameTree(xc[i], yc[i]) {
			return false
		}
	}
	return true
}

func TestDiffChangeDetails(t *testing.T) {
	old := shop()
	new := tree("shop", opts(maxFreq(3)),
		wk("cache", "cache", `{}`, at("new.yaml", 5)),
		wk("db", "counter", `{"initial":0}`, shutdown(time.Second), at("new.yaml", 8)),
		wk("web", "exec", `{"command":["x"]}`, at("new.yaml", 11)),
		workers3(at("new.yaml", 14)),
	)
	old.Find("shop/jobs").Pos = Pos{"old.yaml", 30, 7}
	p := Diff(old, new)
	want := []struct {
		op            Op
		path, parent  string
		index, nodes  int
		hasOld, hasNw bool
	}{
		{Removed, "shop/jobs", "shop", 3, 1, true, false},
		{Added, "shop/cache", "shop", 0, 1, false, true},
		{Updated, "shop/db", "shop", 1, 0, true, true},
		{Changed, "shop/web", "shop", 2, 1, true, true},
	}
	if len(p.Changes) != len(want) {
		t.Fatalf("plan:\n%s", p)
	}
	for i, w := range want {
		c := p.Changes[i]
		if c.Op != w.op || c.Path != w.path || c.Parent != w.parent || c.Index != w.index || c.Nodes != w.nodes ||
			(c.Old != nil) != w.hasOld || (c.New != nil) != w.hasNw || c.Name != c.Path[len(c.Parent)+1:] {
			t.Errorf("change %d = %+v, want %+v", i, c, w)
		}
	}
	if db := p.Changes[2]; !db.UpdatesChild() || db.UpdatesFlags() || db.UpdatesTemplate() || db.Has(FieldOrder) {
		t.Errorf("db's update: child %v flags %v template %v", db.UpdatesChild(), db.UpdatesFlags(), db.UpdatesTemplate())
	}
	if got := p.Paths(Removed); !slices.Equal(got, []string{"shop/jobs"}) {
		t.Errorf("Paths(Removed) = %q", got)
	}
	if got := p.Paths(Changed); !slices.Equal(got, []string{"shop/web"}) {
		t.Errorf("Paths(Changed) = %q", got)
	}

	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	const wantJSON = `{"changes":[` +
		`{"op":"removed","path":"shop/jobs","nodes":1,"pos":"old.yaml:30:7"},` +
		`{"op":"added","path":"shop/cache","index":0,"nodes":1,"pos":"new.yaml:5:7"},` +
		`{"op":"updated","path":"shop/db","fields":[{"field":"shutdown","old":"5s","new":"1s"}],"pos":"new.yaml:8:7"},` +
		`{"op":"changed","path":"shop/web","fields":[{"field":"args","old":{"command":["python3","-m","http.server"],"env":{"A":"1"}},"new":{"command":["x"]},"keys":["command","env"]}],"nodes":1,"pos":"new.yaml:11:7"}` +
		`],"unchanged":5}`
	if string(b) != wantJSON {
		t.Errorf("JSON:\n%s\nwant:\n%s", b, wantJSON)
	}
}

func TestDiffJSONTypes(t *testing.T) {
	old := shop()
	new := tree("shop", opts(maxFreq(7)),
		wk("db", "counter", `{"initial":0}`, restart(Transient), significant()),
		wk("web", "exec", `{"command":["python3","-m","http.server"],"env":{"A":"1"}}`),
		workers3(), dyn("jobs", "echo", 11))
	new.Root.Supervisor.Children = order("web", "db", "workers", "jobs")(new.Root.Supervisor.Children)
	var got struct {
		Changes []struct {
			Op     Op
			Path   string
			Fields []struct {
				Field    string
				Old, New any
			}
		}
		Unchanged int
	}
	b, _ := json.Marshal(Diff(old, new))
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string][2]any{
		"max_frequency":        {3.0, 7.0},
		"order":                {[]any{"db", "web", "workers", "jobs"}, []any{"web", "db", "workers", "jobs"}},
		"restart":              {"permanent", "transient"},
		"significant":          {false, true},
		"dynamic.max_children": {10.0, 11.0},
	}
	seen := 0
	for _, c := range got.Changes {
		for _, f := range c.Fields {
			w, ok := want[f.Field]
			if !ok || !reflect.DeepEqual(f.Old, w[0]) || !reflect.DeepEqual(f.New, w[1]) {
				t.Errorf("%s %s: %#v → %#v", c.Path, f.Field, f.Old, f.New)
			}
			seen++
		}
	}
	if seen != len(want) {
		t.Errorf("%d fields, want %d: %s", seen, len(want), b)
	}
	b, _ = json.Marshal(Diff(old, old))
	if string(b) != `{"changes":[],"unchanged":8}` {
		t.Errorf("empty plan: %s", b)
	}
}

func TestLongestIncreasing(t *testing.T) {
	for _, tc := range []struct {
		seq  []int
		want int // its length
	}{
		{nil, 0}, {[]int{0}, 1}, {[]int{0, 1, 2}, 3}, {[]int{2, 1, 0}, 1},
		{[]int{1, 0, 2, 3}, 3}, {[]int{3, 0, 1, 2}, 3}, {[]int{0, 4, 1, 2, 3}, 4}, {[]int{4, 0, 5, 1, 2, 6, 3}, 4}, {[]int{0, 8, 1, 9, 2, 3, 4}, 5},
	} {
		stay := longestIncreasing(tc.seq)
		var kept []int
		for i, s := range stay {
			if s {
				kept = append(kept, tc.seq[i])
			}
		}
		if len(kept) != tc.want || !slices.IsSorted(kept) {
			t.Errorf("longestIncreasing(%v) keeps %v, want an increasing run of %d", tc.seq, kept, tc.want)
		}
	}
}

func TestDurationText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		500 * time.Millisecond: "500ms", 5 * time.Second: "5s", time.Minute: "1m", 90 * time.Second: "1m30s",
		time.Hour: "1h", 2*time.Hour + 30*time.Minute: "2h30m", time.Hour + time.Second: "1h0m1s",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// bigTrees returns two trees of sups supervisors of leaves workers each,
// equal but for one leaf's args in the middle.
func bigTrees(sups, leaves int) (*Tree, *Tree) {
	build := func(changed bool) *Tree {
		cs := make([]*Node, sups)
		for i := range cs {
			ws := make([]*Node, leaves)
			for j := range ws {
				args := `{"initial":0}`
				if changed && i == sups/2 && j == leaves/2 {
					args = `{"initial":1}`
				}
				ws[j] = wk(fmt.Sprintf("w%d", j), "counter", args)
			}
			cs[i] = sv(fmt.Sprintf("s%d", i), nil, ws...)
		}
		return tree("big", nil, cs...)
	}
	return build(false), build(true)
}

func TestDiffBigTree(t *testing.T) {
	old, new := bigTrees(20, 50)
	p := Diff(old, new)
	if got, want := p.String(), "~ big/s10/w25 (args changed (initial): restart)\n1020 unchanged\n"; got != want {
		t.Errorf("plan:\n%s", got)
	}
	checkPlan(t, old, new, p)
}

// BenchmarkDiff is the diff on the reload path of a 100,000-worker tree
// (100 supervisors × 1,000 workers) with one leaf's args changed.
func BenchmarkDiff(b *testing.B) {
	old, new := bigTrees(100, 1000)
	b.ReportAllocs()
	for b.Loop() {
		p := Diff(old, new)
		if len(p.Changes) != 1 || p.Unchanged != 100_100 {
			b.Fatalf("plan: %d changes, %d unchanged", len(p.Changes), p.Unchanged)
		}
	}
}

// BenchmarkDiffReordered is the same with every supervisor's children
// reversed: the slow path, which matches names with a map.
func BenchmarkDiffReordered(b *testing.B) {
	old, new := bigTrees(100, 1000)
	for _, s := range new.Root.Supervisor.Children {
		slices.Reverse(s.Supervisor.Children)
	}
	b.ReportAllocs()
	for b.Loop() {
		p := Diff(old, new)
		if len(p.Changes) != 101 {
			b.Fatalf("plan: %d changes", len(p.Changes))
		}
	}
}
