package loader

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/spec"
)

// ReloadResult is what a reload did: the plan it applied (spec.Diff of the
// running tree and the new one, in the order it was applied), and the paths
// whose start failed while it applied it. Those are left in their
// supervisor in the failed state (as `otpctl tree` shows them); a
// start_failed event said why. Nothing else is rolled back.
type ReloadResult struct {
	Plan   *spec.Plan
	Failed []string
}

// ReloadFile reads the running tree's file again (Spec().File, with its
// includes) against the registry the tree was started with, with
// Options.Files, and reloads it with Reload.
//
// A file that does not validate changes nothing: the running tree is
// untouched, a reload_failed event lists every problem as
// FILE:LINE:COL: message, and the error is the spec.Diagnostics. A tree
// that Reload refuses gives a reload_failed event too.
//
// The file is read while the reload holds its lock, so that reloads that
// overlap read and apply the files in the order they were asked for.
func (r *Running) ReloadFile() (ReloadResult, error) { return r.reloadFile(nil) }

// reloadFile is ReloadFile, which uses pre, a load of the files made
// ahead (prepare), instead of loading them again if pre is still current:
// it was made of the running tree's file and the files it read have not
// changed since (which it checks by reading them, under the reload's
// lock as ReloadFile reads them).
func (r *Running) reloadFile(pre *spec.Loaded) (ReloadResult, error) {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	if err := r.stopped(); err != nil {
		return ReloadResult{}, err
	}
	defer r.reloadBegins()()
	var t *spec.Tree
	var err error
	if file := r.Spec().File; pre != nil && pre.File == file && pre.Current() {
		t, err = pre.Tree, pre.Err
	} else {
		t, err = spec.LoadWith(file, r.reg, r.files)
	}
	if err != nil {
		var ds spec.Diagnostics
		lines := []string{err.Error()}
		if errors.As(err, &ds) {
			lines = make([]string, len(ds))
			for i, d := range ds {
				lines[i] = d.Error()
			}
		}
		r.Emit(live.Event{Type: EventReloadFailed, Path: r.rootPath, Errors: lines})
		return ReloadResult{}, err
	}
	return r.reload(t)
}

// prepare loads the running tree's files as ReloadFile would, for
// reloadFile to use if they do not change meanwhile.
func (r *Running) prepare() *spec.Loaded { return spec.LoadRead(r.Spec().File, r.reg, r.files) }

// Reload takes the running tree to t, an already validated tree, changing
// only what differs (spec.Diff of Spec and t):
//
//   - removed nodes are terminated, each with its shutdown setting, in
//     reverse start order, and deleted from their supervisor;
//   - a supervisor's changed flags (strategy, max_frequency, period,
//     auto_shutdown), a dynamic supervisor's template and max_children, and
//     a child's restart, shutdown and significant change in place: no
//     process is touched;
//   - kept children are put in their new order, then added nodes start at
//     their position and changed ones (kind, base or args, or another type
//     of node) are terminated and started again at their place, in the new
//     start order.
//
// Everything else keeps running as it is: same pid, same state, same
// mailbox. Every stop and start is cause reload: none counts against a
// restart intensity and none restarts a sibling, as OTP's terminate_child
// and restart_child. A start that fails is reported (start_failed), leaves
// that child failed, and the rest of the plan still applies; its path is in
// Failed. When the plan has been applied, one reload event lists the
// added, removed, changed and updated paths (and the failed ones).
//
// An empty plan (spec.Equal) starts and stops nothing and emits no event;
// t is still recorded (Spec returns it), since the files it was read from
// or their positions may differ.
//
// Reload records t (Spec returns it) before it applies the plan, so that a
// nested supervisor its parent restarts meanwhile (a crash during the
// reload) starts from t, and the reload then leaves it alone. A supervisor
// that is not running when the reload reaches it (it is being restarted, or
// an operator stopped it) is left alone too: it starts from t when it
// starts again.
//
// What cannot be applied in place is refused, and nothing changes: a root
// renamed (`name:`, the instance's name and every path), a root of another
// type, a kind the registry does not know. The error is a *PathError
// wrapping ErrRefused, and a reload_failed event says why. Reload fails
// with ErrStopped once the tree has stopped.
//
// Reloads are serialised: one applies at a time, and steering commands
// (Kill, Stop, Start, Restart) may run meanwhile. Like them, a reload must
// not be asked for from Options.Events, which runs on a supervisor's
// goroutine that the reload may be waiting for.
func (r *Running) Reload(t *spec.Tree) (ReloadResult, error) {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	if err := r.stopped(); err != nil {
		return ReloadResult{}, err
	}
	defer r.reloadBegins()()
	return r.reload(t)
}

// reloadBegins calls Options.Reloading and returns what to call when the
// reload is over (never nil).
func (r *Running) reloadBegins() (done func()) {
	if r.reloading != nil {
		if done := r.reloading(); done != nil {
			return done
		}
	}
	return func() {}
}

// stopped says why the tree cannot be reloaded now: it has stopped, or it
// is still starting.
func (r *Running) stopped() error {
	select {
	case <-r.done:
		return &PathError{"reload", r.rootPath, ErrStopped}
	default:
	}
	if !r.isUp() {
		return &PathError{"reload", r.rootPath, explain(ErrRefused, "the tree is still starting: reload once it is up")}
	}
	return nil
}

func (r *Running) reload(t *spec.Tree) (ReloadResult, error) {
	if t == nil || t.Root == nil || t.Root.Supervisor == nil {
		return ReloadResult{}, &PathError{"reload", r.rootPath, explain(ErrInvalid, "the tree has no root supervisor")}
	}
	plan := spec.Diff(r.Spec(), t)
	if err := r.refusal(plan, t); err != nil {
		r.Emit(live.Event{Type: EventReloadFailed, Path: r.rootPath, Errors: []string{err.Error()}})
		return ReloadResult{Plan: plan}, err
	}
	r.setSpec(t)
	if plan.Empty() {
		return ReloadResult{Plan: plan}, nil
	}
	a := &applier{r: r, gen: r.cur.Load(), sups: map[string]*runtime.Supervisor{}}
	for i := range plan.Changes {
		a.apply(&plan.Changes[i])
	}
	r.Emit(live.Event{
		Type: EventReload, Path: r.rootPath,
		Added: plan.Paths(spec.Added), Removed: plan.Paths(spec.Removed),
		Changed: plan.Paths(spec.Changed), Updated: plan.Paths(spec.Updated),
		Failed: a.failed, Errors: a.errs,
	})
	return ReloadResult{Plan: plan, Failed: a.failed}, nil
}

// refusal says why plan cannot be applied to the running tree, or nil.
func (r *Running) refusal(plan *spec.Plan, t *spec.Tree) error {
	refuse := func(format string, args ...any) error {
		what := fmt.Sprintf(format, args...)
		if t.File != "" {
			what = t.File + ": " + what
		}
		return &PathError{"reload", r.rootPath, explain(ErrRefused, "%s", what)}
	}
	for i := range plan.Changes {
		c := &plan.Changes[i]
		if c.Parent == "" && c.Op == spec.Changed { // the root itself
			if c.Has(spec.FieldName) {
				return refuse("the tree's name changed from %q to %q: a running tree cannot be renamed (stop it and run the new file)", r.rootPath, t.Name)
			}
			return refuse("the root supervisor cannot change its type in place (stop the tree and run the new file)")
		}
		var n *spec.Node
		switch {
		case c.Op == spec.Added || c.Op == spec.Changed:
			n = c.New
		case c.UpdatesTemplate():
			n = c.New
		default:
			continue
		}
		if err := r.check(n); err != nil {
			return refuse("%v", err)
		}
	}
	return nil
}

// applier applies a plan's changes one by one to the live supervisors.
type applier struct {
	r *Running
	// gen is the spec the reload recorded: a supervisor started from it
	// already runs as the plan would leave it.
	gen *current
	// sups are the live supervisors by path, looked up once; nil when the
	// reload leaves that one alone (not running, exited meanwhile, or
	// started from gen).
	sups   map[string]*runtime.Supervisor
	failed []string
	errs   []string
}

// sup returns the supervisor at path, or nil if the reload must leave it
// alone.
func (a *applier) sup(path string) *runtime.Supervisor {
	if s, ok := a.sups[path]; ok {
		return s
	}
	s, err := a.r.supervisor(path)
	if err != nil || a.r.builtFrom(s.Pid()) == a.gen {
		s = nil
	}
	a.sups[path] = s
	return s
}

// check handles the error of an operation on the supervisor at path: the
// supervisor exited meanwhile (its next start follows the new spec: leave
// it), the child is gone (a temporary child that exited), a start failed
// (left failed), or anything else (reported in the event).
func (a *applier) check(path, child string, err error) {
	var se *runtime.StartError
	switch {
	case err == nil:
	case errors.Is(err, runtime.ErrNoSupervisor):
		a.sups[path] = nil
	case errors.Is(err, runtime.ErrNotFound):
	case errors.As(err, &se):
		a.failed = append(a.failed, child)
	default:
		a.errs = append(a.errs, child+": "+err.Error())
	}
}

// change applies ch to s, the supervisor at path, and checks its error as
// about child.
func (a *applier) change(s *runtime.Supervisor, path, child string, ch runtime.Change) {
	_, err := s.Apply(ch)
	a.check(path, child, err)
}

func (a *applier) apply(c *spec.Change) {
	switch c.Op {
	case spec.Removed:
		if s := a.sup(c.Parent); s != nil {
			a.change(s, c.Parent, c.Path, runtime.RemoveChild{ID: c.Name})
			a.r.forgetDynamic(c.Path)
			a.r.logs.forget(c.Path)
		}
	case spec.Added:
		if s := a.sup(c.Parent); s != nil {
			a.start(s, c, func(cs runtime.ChildSpec) runtime.Change { return runtime.InsertChild{Pos: c.Index, Spec: cs} })
		}
	case spec.Changed:
		if s := a.sup(c.Parent); s != nil {
			a.start(s, c, func(cs runtime.ChildSpec) runtime.Change { return runtime.ReplaceChild{Spec: cs} })
			a.r.forgetDynamic(c.Path)
		}
	case spec.Updated:
		a.update(c)
	}
}

// start starts c's new node in s with the change that makes of its child
// spec (an insert or a replace).
func (a *applier) start(s *runtime.Supervisor, c *spec.Change, change func(runtime.ChildSpec) runtime.Change) {
	cs, err := a.r.childSpec(c.New)
	if err == nil {
		_, err = s.Apply(change(cs))
	}
	if err != nil && !s.Pid().Alive() {
		// The supervisor was killed while it started the child (which
		// failed for that): it starts from the new spec when its parent
		// restarts it.
		err = runtime.ErrNoSupervisor
	}
	a.check(c.Parent, c.Path, err)
}

// update changes a node in place: how its parent supervises it, then its
// own flags, template or children's order.
func (a *applier) update(c *spec.Change) {
	if c.UpdatesChild() {
		if s := a.sup(c.Parent); s != nil {
			a.change(s, c.Parent, c.Path, supervision(c.New))
		}
	}
	if c.New.Supervisor == nil {
		return
	}
	if !c.UpdatesFlags() && !c.UpdatesTemplate() && !c.UpdatesPool() && !c.Has(spec.FieldOrder) {
		return
	}
	s := a.sup(c.Path)
	if s == nil {
		return
	}
	if c.UpdatesFlags() {
		f := runtimeFlags(c.New.Supervisor)
		if f.AutoShutdown == runtime.Never && c.Old.Supervisor.AutoShutdown != spec.Never {
			// The runtime refuses auto_shutdown never while a child is
			// significant: make the kept ones not significant first
			// (each child's own change then sets the rest).
			a.unsignificant(s, c)
		}
		a.change(s, c.Path, c.Path, runtime.SetFlags{Flags: f})
	}
	if c.UpdatesTemplate() && a.sups[c.Path] != nil {
		a.change(s, c.Path, c.Path, runtime.SetTemplate{Dynamic: *dynamicSpec(c.New.Supervisor.Dynamic)})
	}
	if c.UpdatesPool() && a.sups[c.Path] != nil {
		a.check(c.Path, c.Path, a.r.resizePool(s, c.New.Supervisor.Pool))
	}
	if c.Has(spec.FieldOrder) && a.sups[c.Path] != nil {
		a.check(c.Path, c.Path, a.reorder(s, c.Order))
	}
}

// unsignificant clears significant on the children of the supervisor of c
// that kept their name and were significant, keeping their old restart and
// shutdown.
func (a *applier) unsignificant(s *runtime.Supervisor, c *spec.Change) {
	for _, o := range c.Old.Supervisor.Children {
		if !o.Significant || !slices.ContainsFunc(c.New.Supervisor.Children, func(n *spec.Node) bool { return n.Name == o.Name }) {
			continue
		}
		u := supervision(o)
		u.Significant = false
		a.change(s, c.Path, o.Path, u)
	}
}

// reorder puts the kept children in their new order. If the supervisor's
// children are not exactly those (a temporary child exited), it orders
// those it has.
func (a *applier) reorder(s *runtime.Supervisor, order []string) error {
	_, err := s.Apply(runtime.ReorderChildren{IDs: order})
	if err == nil || !errors.Is(err, runtime.ErrInvalidSpec) && !errors.Is(err, runtime.ErrNotFound) {
		return err
	}
	kids, err := s.WhichChildren()
	if err != nil {
		return err
	}
	live := make(map[string]bool, len(kids))
	for _, k := range kids {
		live[k.ID] = true
	}
	ids := make([]string, 0, len(kids))
	for _, id := range order {
		if live[id] {
			ids = append(ids, id)
			delete(live, id)
		}
	}
	for i := len(kids) - 1; i >= 0; i-- { // any other, in start order
		if live[kids[i].ID] {
			ids = append(ids, kids[i].ID)
		}
	}
	_, err = s.Apply(runtime.ReorderChildren{IDs: ids})
	return err
}

// forgetDynamic forgets the child numbers of the dynamic supervisors at
// path and below: a new one there numbers its children from 1.
func (r *Running) forgetDynamic(path string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for p := range r.dyn {
		if p == path || strings.HasPrefix(p, path+"/") {
			delete(r.dyn, p)
		}
	}
}

// builtFrom returns the spec the nested supervisor pid was started from,
// or nil (the root, or a supervisor that has exited).
func (r *Running) builtFrom(pid runtime.Pid) *current {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sups[pid]
}
