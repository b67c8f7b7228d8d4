// Package loader is where configuration meets the runtime: it builds a
// resolved tree file (a *spec.Tree) on the actor runtime, with the kinds
// of a workers.Registry at its leaves, keeps a record of what runs, and
// steers the live tree by path as OTP's supervisor API does.
//
// # Starting and stopping
//
// Start maps every spec node to the runtime: a supervisor to a
// runtime.SupervisorSpec (strategy, max_frequency, period, auto_shutdown),
// a nested supervisor to a child whose start starts it, a dynamic
// supervisor to a runtime.DynamicSpec, a pool to a runtime.Pool of workers
// of its kind ("shop/pool/1" … "shop/pool/N", each with its Index and its
// args' ${OTPCTL_INDEX} replaced), a worker to a child whose start
// calls its kind's Start with the worker's path, args and logger; each
// child keeps its restart, shutdown and significant. The root starts its
// children in order, depth first, and Start returns once all are up, or
// fails with the *runtime.StartError of the deepest node that failed,
// leaving nothing running. Shutdown stops the tree in reverse order within
// the shutdown settings; Halt kills it at once. Done, Reason and GaveUp say
// how it ended.
//
// # Events
//
// Every event of the tree comes through Options.Events as one Event type:
// the runtime's lifecycle events (started, exited, terminated,
// start_failed, give_up, with cause and trigger), the root's own start and
// end, and the reload's events (reload, reload_failed), which the reload
// emits with Running.Emit. Reasons are rendered by ReasonText.
//
// # Steering
//
// Kill, Stop, Start, Restart and Call act on the node at a path
// ("shop/workers/w1"), found by walking the live supervisors from the
// root. Stop, Start and Restart are OTP's terminate_child and
// restart_child (start_child on a dynamic supervisor): an operator's
// doing, never counted against the restart intensity. Kill is fault
// injection: the worker exits with the reason given, and its supervisor
// applies its restart rules as for a crash. Snapshot returns the live tree
// with each worker's OS pid and each supervisor's restart budget. Errors
// are *PathError values wrapping ErrNotFound, ErrNotRunning, ErrInvalid,
// ErrRefused, ErrStopped or the runtime's own. A call to a pool's path
// goes to one of its members, by its dispatch; Scale resizes a pool in
// place.
//
// # Reload
//
// The running tree remembers the spec it runs (Spec). Reload takes it to a
// new, validated spec.Tree, changing only the difference (spec.Diff):
// removed nodes stop, added ones start at their position, changed ones
// (kind or args) restart at their place, and restart, shutdown,
// significant, a supervisor's flags, a dynamic template, the children's
// order and a pool's size and dispatch change in place. Unchanged children keep their pid, state and
// mailbox. A reload's stops and starts are cause reload: they count against
// no restart intensity and restart no sibling. ReloadFile reads the tree's
// files again first and refuses, changing nothing, when they do not
// validate. Each reload ends with one reload event (or reload_failed). It
// records the new tree first (a nested supervisor that its parent restarts
// later starts from it, so a reload's changes survive a restart), then
// hands each change of the plan to the live supervisor it concerns as one
// runtime.Change (runtime.Supervisor.Apply).
package loader
