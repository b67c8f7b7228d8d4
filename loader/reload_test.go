package loader

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/spec"
)

// shopWith is shop() changed by edit, with its paths set again.
func shopWith(edit func(root *spec.Node)) *spec.Tree {
	t := shop()
	if edit != nil {
		edit(t.Root)
	}
	return tree(t.Root)
}

// child returns the child of supervisor n named name.
func child(n *spec.Node, name string) *spec.Node {
	for _, c := range n.Supervisor.Children {
		if c.Name == name {
			return c
		}
	}
	panic("no child " + name)
}

func without(n *spec.Node, name string) {
	n.Supervisor.Children = slices.DeleteFunc(n.Supervisor.Children, func(c *spec.Node) bool { return c.Name == name })
}

// pids returns every live node's pid by path (dynamic children included).
func pids(t *testing.T, r *Running) map[string]runtime.Pid {
	t.Helper()
	snap, err := r.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]runtime.Pid{}
	snap.Walk(func(n *live.Node) { out[n.Path] = n.Proc })
	return out
}

// checkShape fails unless the live tree has exactly the nodes of the
// running spec, in its order, each running with its kind (a dynamic
// supervisor's children, which the spec does not list, aside).
func checkShape(t *testing.T, r *Running) {
	t.Helper()
	snap, err := r.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	var walk func(n *live.Node)
	walk = func(n *live.Node) {
		got = append(got, n.Path+" "+kindCell(n)+" "+string(n.State))
		if !n.Dynamic {
			for _, c := range n.Children {
				walk(c)
			}
		}
	}
	walk(snap)
	r.Spec().Root.Walk(func(n *spec.Node) { want = append(want, n.Path+" "+kindOf(n)+" running") })
	if !slices.Equal(got, want) {
		t.Fatalf("live tree:\n%s\nwant (the running spec):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// under reports whether path is one of paths or below one.
func under(path string, paths []string) bool {
	return slices.ContainsFunc(paths, func(p string) bool { return path == p || strings.HasPrefix(path, p+"/") })
}

func TestReloadAppliesOnlyTheDifference(t *testing.T) {
	args := func(s string) json.RawMessage { return json.RawMessage(s) }
	cases := []struct {
		name                             string
		edit                             func(root *spec.Node)
		added, removed, changed, updated []string
		check                            func(t *testing.T, snap *live.Node)
	}{
		{name: "a worker's args", edit: func(root *spec.Node) { child(root, "db").Worker.Args = args(`{"tag":"x"}`) },
			changed: []string{"shop/db"},
			check: func(t *testing.T, snap *live.Node) {
				if n := snap.Find("shop/db"); n.Restarts != 1 {
					t.Errorf("db restarts %d, want 1", n.Restarts)
				}
			}},
		{name: "a nested worker's args under rest_for_one", edit: func(root *spec.Node) {
			child(child(root, "workers"), "w1").Worker.Args = args(`{"n":2}`)
		}, changed: []string{"shop/workers/w1"}},
		{name: "a worker's kind", edit: func(root *spec.Node) {
			web := child(root, "web").Worker
			web.Kind, web.Base = "osproc", "osproc"
		}, changed: []string{"shop/web"},
			check: func(t *testing.T, snap *live.Node) {
				if n := snap.Find("shop/web"); n.Kind != "osproc" || n.OSPid != 4242 {
					t.Errorf("web: kind %s os pid %d", n.Kind, n.OSPid)
				}
			}},
		{name: "a worker added at its position", edit: func(root *spec.Node) {
			root.Supervisor.Children = slices.Insert(root.Supervisor.Children, 1, w("cache", "echo"))
		}, added: []string{"shop/cache"}},
		{name: "a nested worker added first", edit: func(root *spec.Node) {
			ws := child(root, "workers").Supervisor
			ws.Children = slices.Insert(ws.Children, 0, w("w0", "counter"))
		}, added: []string{"shop/workers/w0"}},
		{name: "a worker removed", edit: func(root *spec.Node) { without(root, "web") }, removed: []string{"shop/web"}},
		{name: "a supervisor removed", edit: func(root *spec.Node) { without(root, "workers") }, removed: []string{"shop/workers"}},
		{name: "restart and shutdown in place", edit: func(root *spec.Node) {
			db := child(root, "db")
			db.Restart, db.Shutdown = spec.Transient, spec.Shutdown(10*time.Second)
		}, updated: []string{"shop/db"},
			check: func(t *testing.T, snap *live.Node) {
				if n := snap.Find("shop/db"); n.Restart != "transient" || n.Shutdown != "10s" || n.Restarts != 0 {
					t.Errorf("db: %v %v restarts %d", n.Restart, n.Shutdown, n.Restarts)
				}
			}},
		{name: "a supervisor's flags", edit: func(root *spec.Node) {
			root.Supervisor.Strategy, root.Supervisor.MaxFrequency = spec.OneForAll, 7
			child(root, "workers").Supervisor.Period = time.Minute
		}, updated: []string{"shop", "shop/workers"},
			check: func(t *testing.T, snap *live.Node) {
				if snap.Strategy != "one_for_all" || snap.Budget.Max != 7 {
					t.Errorf("root: %s %+v", snap.Strategy, snap.Budget)
				}
				if n := snap.Find("shop/workers"); n.Budget.Period != "1m" {
					t.Errorf("workers: %+v", n.Budget)
				}
			}},
		{name: "the children's order", edit: func(root *spec.Node) {
			c := root.Supervisor.Children
			c[0], c[3] = c[3], c[0]
		}, updated: []string{"shop"},
			check: func(t *testing.T, snap *live.Node) {
				if snap.Children[0].Name != "web" || snap.Children[3].Name != "db" {
					t.Errorf("order: %s … %s", snap.Children[0].Name, snap.Children[3].Name)
				}
			}},
		{name: "a dynamic template", edit: func(root *spec.Node) {
			d := child(root, "jobs").Supervisor.Dynamic
			d.MaxChildren, d.Args = 5, args(`{"tag":"new"}`)
		}, updated: []string{"shop/jobs"},
			check: func(t *testing.T, snap *live.Node) {
				if n := snap.Find("shop/jobs"); n.MaxChildren != 5 || len(n.Children) != 1 {
					t.Errorf("jobs: max_children %d, %d children", n.MaxChildren, len(n.Children))
				}
			}},
		{name: "a worker turned supervisor", edit: func(root *spec.Node) {
			web := sup("web", spec.OneForOne, w("a", "echo"), w("b", "echo"))
			root.Supervisor.Children[3] = web
		}, changed: []string{"shop/web"}},
		{name: "a static supervisor turned dynamic", edit: func(root *spec.Node) {
			root.Supervisor.Children[1] = dyn("workers", "echo", `{}`, 0)
		}, changed: []string{"shop/workers"}},
		{name: "all at once", edit: func(root *spec.Node) {
			without(root, "web")
			child(root, "db").Shutdown = spec.BrutalKill
			ws := child(root, "workers")
			ws.Supervisor.Strategy = spec.OneForAll
			ws.Supervisor.Children = []*spec.Node{w("w3", "echo"), ws.Supervisor.Children[1], ws.Supervisor.Children[0]}
			child(ws, "w2").Worker.Args = args(`{"tag":"w2"}`)
			root.Supervisor.Children = append(root.Supervisor.Children, w("tail", "counter"))
		}, removed: []string{"shop/web"}, added: []string{"shop/workers/w3", "shop/tail"},
			changed: []string{"shop/workers/w2"}, updated: []string{"shop/db", "shop/workers"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, rec := start(t, shop(), nil)
			if _, _, err := r.Start("shop/jobs", "", nil); err != nil {
				t.Fatal(err)
			}
			before := pids(t, r)
			mark := rec.Len()
			res, err := r.Reload(shopWith(tc.edit))
			if err != nil {
				t.Fatalf("Reload: %v", err)
			}
			if len(res.Failed) > 0 {
				t.Fatalf("failed: %v", res.Failed)
			}
			for _, l := range []struct {
				op   spec.Op
				want []string
			}{{spec.Added, tc.added}, {spec.Removed, tc.removed}, {spec.Changed, tc.changed}, {spec.Updated, tc.updated}} {
				if got := res.Plan.Paths(l.op); !slices.Equal(got, l.want) {
					t.Errorf("%s %q, want %q", l.op, got, l.want)
				}
			}
			// One reload event, the last, listing the plan; every stop and
			// start before it is the reload's.
			i := rec.wait(t, mark, "reload shop")
			ev, between := rec.At(i), rec.Since(mark)[:i-mark]
			if !slices.Equal(ev.Added, tc.added) || !slices.Equal(ev.Removed, tc.removed) ||
				!slices.Equal(ev.Changed, tc.changed) || !slices.Equal(ev.Updated, tc.updated) || len(ev.Failed)+len(ev.Errors) > 0 {
				t.Errorf("reload event %+v", ev)
			}
			for _, e := range between {
				if e.Cause != runtime.CauseReload || e.Trigger != "" {
					t.Errorf("event %q: want cause reload, no trigger", line(e))
				}
			}
			checkShape(t, r)
			// Only what was added or changed has a new pid; the rest
			// (the dynamic child included) keeps its own.
			after := pids(t, r)
			moved := slices.Concat(tc.added, tc.changed)
			for path, pid := range after {
				old, was := before[path]
				switch {
				case under(path, moved):
					if was && old == pid {
						t.Errorf("%s kept pid %v, want a new one", path, pid)
					}
				case !was:
					t.Errorf("%s is new", path)
				case old != pid:
					t.Errorf("%s changed pid %v → %v", path, old, pid)
				}
			}
			for path := range before {
				if _, ok := after[path]; !ok && !under(path, tc.removed) && !under(path, tc.changed) {
					t.Errorf("%s is gone", path)
				}
			}
			snap, _ := r.Snapshot()
			if snap.Budget.Used != 0 {
				t.Errorf("root budget %+v: a reload counts against nothing", snap.Budget)
			}
			if tc.check != nil {
				tc.check(t, snap)
			}
			if !spec.Equal(r.Spec(), shopWith(tc.edit)) {
				t.Errorf("Spec is not the new tree")
			}
		})
	}
}

func TestReloadEmptyPlanChangesNothing(t *testing.T) {
	r, rec := start(t, shop(), nil)
	before := pids(t, r)
	mark := rec.Len()
	next := shop()
	next.Files = []string{"shop.yaml", "other.yaml"}
	res, err := r.Reload(next)
	if err != nil || !res.Plan.Empty() || len(res.Failed) > 0 {
		t.Fatalf("Reload = %+v, %v", res, err)
	}
	if got := rec.lines(mark); len(got) > 0 {
		t.Errorf("events %q, want none", got)
	}
	if r.Spec() != next {
		t.Errorf("Spec is not the new tree (its files are what the watcher watches)")
	}
	if after := pids(t, r); !mapsEqual(before, after) {
		t.Errorf("pids changed")
	}
}

func mapsEqual(a, b map[string]runtime.Pid) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestReloadRefusesWhatCannotApplyInPlace(t *testing.T) {
	cases := []struct {
		name string
		next func() *spec.Tree
		want string
	}{
		{"renamed root", func() *spec.Tree {
			t := shop()
			t.Root.Name = "store"
			t = tree(t.Root)
			return t
		}, `reload shop: store.yaml: the tree's name changed from "shop" to "store"`},
		{"unknown kind", func() *spec.Tree {
			return shopWith(func(root *spec.Node) { child(root, "db").Worker.Base = "nope" })
		}, `reload shop: shop.yaml: shop/db: unknown kind "nope"`},
		{"root made dynamic", func() *spec.Tree { return tree(dyn("shop", "echo", `{}`, 0)) },
			"reload shop: shop.yaml: the root supervisor cannot change its type in place"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, rec := start(t, shop(), nil)
			before, spec0 := pids(t, r), r.Spec()
			mark := rec.Len()
			_, err := r.Reload(tc.next())
			if !errors.Is(err, ErrRefused) || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrRefused %q…", err, tc.want)
			}
			i := rec.wait(t, mark, "reload_failed shop")
			ev := rec.At(i)
			if len(ev.Errors) != 1 || ev.Errors[0] != err.Error() {
				t.Errorf("reload_failed errors %q", ev.Errors)
			}
			if r.Spec() != spec0 || !mapsEqual(before, pids(t, r)) {
				t.Errorf("the refused reload changed something")
			}
		})
	}
}

func TestReloadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root := `version: 1
supervisor:
  children:
    - {name: a, kind: echo}
    - {name: sub, include: sub.yaml}
`
	write("app.yaml", root)
	write("sub.yaml", "version: 1\nsupervisor:\n  children:\n    - {name: x, kind: echo}\n    - {name: y, kind: echo}\n")
	r, rec := startFile(t, filepath.Join(dir, "app.yaml"))
	before := pids(t, r)

	// An include edited.
	write("sub.yaml", "version: 1\nsupervisor:\n  children:\n    - {name: x, kind: echo}\n    - {name: y, kind: echo, args: {tag: new}}\n")
	res, err := r.ReloadFile()
	if err != nil || !slices.Equal(res.Plan.Paths(spec.Changed), []string{"app/sub/y"}) || len(res.Plan.Changes) != 1 {
		t.Fatalf("include edited: %v, %v", res.Plan, err)
	}
	after := pids(t, r)
	for path, pid := range before {
		if (after[path] == pid) == (path == "app/sub/y") {
			t.Errorf("%s: pid %v → %v", path, pid, after[path])
		}
	}

	// A broken edit changes nothing and says where.
	write("sub.yaml", "version: 1\nsupervisor:\n  children:\n    - {name: x, kind: ecoh}\n    - {name: y, kind: echo, args: {tag: 3}}\n")
	mark := rec.Len()
	_, err = r.ReloadFile()
	var ds spec.Diagnostics
	if !errors.As(err, &ds) || len(ds) != 2 {
		t.Fatalf("broken edit: %v", err)
	}
	i := rec.wait(t, mark, "reload_failed app")
	errs := rec.At(i).Errors
	sub := filepath.Join(dir, "sub.yaml")
	if len(errs) != 2 || !strings.HasPrefix(errs[0], sub+":4:23: kind: unknown kind \"ecoh\"") || !strings.HasPrefix(errs[1], sub+":5:41: args.tag:") {
		t.Errorf("reload_failed errors:\n%s", strings.Join(errs, "\n"))
	}
	if !mapsEqual(after, pids(t, r)) {
		t.Errorf("a broken edit changed pids")
	}

	// An include added by the reload is read, and is among the files.
	write("more.yaml", "version: 1\nsupervisor:\n  strategy: one_for_all\n  children:\n    - {name: m, kind: counter}\n")
	write("sub.yaml", "version: 1\nsupervisor:\n  children:\n    - {name: x, kind: echo}\n    - {name: y, kind: echo, args: {tag: new}}\n")
	write("app.yaml", root+"    - {name: more, include: more.yaml}\n")
	res, err = r.ReloadFile()
	if err != nil || !slices.Equal(res.Plan.Paths(spec.Added), []string{"app/more"}) {
		t.Fatalf("include added: %v, %v", res.Plan, err)
	}
	if files := r.Spec().Files; !slices.Contains(files, filepath.Join(dir, "more.yaml")) {
		t.Errorf("files %q", files)
	}
	checkShape(t, r)
}

// TestReloadDuringARestartStorm reloads back and forth between two trees
// while workers and supervisors are killed and an operator restarts
// children: whatever interleaves, the tree ends as the last spec says.
func TestReloadDuringARestartStorm(t *testing.T) {
	variant := func(i int) *spec.Tree {
		var kids []*spec.Node
		for s := range 3 {
			strategy := []string{spec.OneForAll, spec.RestForOne, spec.OneForOne}[(s+i)%3]
			var ws []*spec.Node
			for k := range 4 + i%2 {
				c := w(fmt.Sprintf("w%d", k), "echo")
				c.Shutdown = spec.BrutalKill
				if (k+i)%3 == 0 {
					c.Worker.Args = json.RawMessage(fmt.Sprintf(`{"n":%d}`, i%4))
				}
				ws = append(ws, c)
			}
			if i%2 == 1 {
				ws[0], ws[1] = ws[1], ws[0]
			}
			n := sup(fmt.Sprintf("s%d", s), strategy, ws...)
			n.Supervisor.MaxFrequency, n.Supervisor.Period = 1_000_000, time.Second
			kids = append(kids, n)
		}
		if i%3 == 0 {
			kids = append(kids, w("extra", "counter"))
		}
		root := sup("storm", spec.OneForOne, kids...)
		root.Supervisor.MaxFrequency, root.Supervisor.Period = 1_000_000, time.Second
		return tree(root)
	}
	r, rec := start(t, variant(0), nil)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	storm := func(seed uint64, f func(rng *rand.Rand)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, seed))
			for {
				select {
				case <-stop:
					return
				default:
				}
				f(rng)
			}
		}()
	}
	randomPath := func(rng *rand.Rand) string {
		return fmt.Sprintf("storm/s%d/w%d", rng.IntN(3), rng.IntN(5))
	}
	storm(1, func(rng *rand.Rand) { r.Kill(randomPath(rng), "boom") })
	storm(2, func(rng *rand.Rand) {
		r.Kill(fmt.Sprintf("storm/s%d", rng.IntN(3)), "killed")
		time.Sleep(time.Millisecond)
	})
	storm(3, func(rng *rand.Rand) { r.Restart(randomPath(rng)) })

	for i := 1; i <= 30; i++ {
		res, err := r.Reload(variant(i))
		if err != nil {
			t.Fatalf("reload %d: %v", i, err)
		}
		if len(res.Failed) > 0 {
			var fails []string
			for _, l := range rec.lines(0) {
				if strings.HasPrefix(l, "start_failed") {
					fails = append(fails, l)
				}
			}
			t.Fatalf("reload %d failed %q:\n%s", i, res.Failed, strings.Join(fails, "\n"))
		}
	}
	close(stop)
	wg.Wait()
	// Let the last restarts finish, then the tree must be the last spec:
	// its shape, and each worker's args.
	deadline := time.Now().Add(10 * time.Second)
	for {
		snap, err := r.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		settled := true
		snap.Walk(func(n *live.Node) { settled = settled && n.State == runtime.StateRunning })
		if settled || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if r.GaveUp() {
		t.Fatal("the root gave up")
	}
	// The storm did blow while the reloads ran.
	lines := rec.lines(0)
	first := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "reload storm") })
	crashes := 0
	for _, l := range lines[first:] {
		if strings.HasPrefix(l, "exited") {
			crashes++
		}
	}
	if crashes == 0 {
		t.Errorf("no crash while the reloads ran")
	}
	checkShape(t, r)
	r.Spec().Root.Walk(func(n *spec.Node) {
		if n.Worker == nil || n.Worker.Base != "echo" {
			return
		}
		got, err := r.Call(n.Path, json.RawMessage(`"args"`), 0)
		if err != nil || string(got) != string(n.Worker.Args) {
			t.Errorf("%s runs with args %s (%v), want %s", n.Path, got, err, n.Worker.Args)
		}
	})
}

func TestReloadAfterTheTreeStopped(t *testing.T) {
	r, err := Start(t.Context(), shop(), Options{Registry: testKinds(), Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	shutdown(t, r)
	if _, err := r.Reload(shop()); !errors.Is(err, ErrStopped) {
		t.Fatalf("Reload = %v", err)
	}
	if _, err := r.ReloadFile(); !errors.Is(err, ErrStopped) {
		t.Fatalf("ReloadFile = %v", err)
	}
}

// TestReloadingHook: Options.Reloading frames every reload, applied or
// refused, whoever asks for it; none is framed once the tree has stopped.
func TestReloadingHook(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "app.yaml")
	writeFile(t, file, "version: 1\nsupervisor:\n  children:\n    - {name: a, kind: echo}\n")
	st, err := spec.Load(file, testKinds())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var calls []string
	note := func(s string) { mu.Lock(); calls = append(calls, s); mu.Unlock() }
	r, err := Start(context.Background(), st, Options{Registry: testKinds(), Log: quiet,
		Reloading: func() func() { note("begin"); return func() { note("end") } }})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, file, "version: 1\nsupervisor:\n  children:\n    - {name: a, kind: echo, args: {n: 1}}\n")
	if _, err := r.ReloadFile(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, file, "version: 1\nsupervisor:\n  children:\n    - {name: a, kind: nope}\n")
	if _, err := r.ReloadFile(); err == nil {
		t.Fatal("a bad file reloaded")
	}
	if _, err := r.Reload(st); err != nil {
		t.Fatal(err)
	}
	shutdown(t, r)
	if _, err := r.ReloadFile(); err == nil {
		t.Fatal("a stopped tree reloaded")
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(calls, " "); got != "begin end begin end begin end" {
		t.Fatalf("calls: %s", got)
	}
}
