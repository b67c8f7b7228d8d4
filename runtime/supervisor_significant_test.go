package runtime_test

import (
	"errors"
	"testing"

	"github.com/otpctl/otpctl/runtime"
)

// OTP's do_auto_shutdown: only a significant child that exits by itself and
// is not restarted can shut its supervisor down.
func TestSupervisorAutoShutdown(t *testing.T) {
	anyS := runtime.Flags{MaxFrequency: 3, AutoShutdown: runtime.AnySignificant}
	allS := runtime.Flags{MaxFrequency: 3, AutoShutdown: runtime.AllSignificant}
	cases := []struct {
		name  string
		flags runtime.Flags
		kids  func(tt *tree) []node
		act   func(t *testing.T, tt *tree)
		trace []string
		down  bool // the supervisor shut itself down
	}{
		{"any: transient significant exits normally", anyS,
			func(tt *tree) []node {
				return []node{tt.worker("a"), tt.worker("t", restart(runtime.Transient), significant()), tt.worker("c")}
			},
			func(t *testing.T, tt *tree) { tt.exit("r/t", runtime.Normal) },
			[]string{"exited r/t (normal)",
				"terminated r/c shutdown <-r/t (shutdown)",
				"terminated r/a shutdown <-r/t (shutdown)"},
			true},
		{"any: transient significant exits with shutdown", anyS,
			func(tt *tree) []node {
				return []node{tt.worker("a"), tt.worker("t", restart(runtime.Transient), significant())}
			},
			func(t *testing.T, tt *tree) { tt.exit("r/t", runtime.Shutdown) },
			[]string{"exited r/t (shutdown)", "terminated r/a shutdown <-r/t (shutdown)"},
			true},
		{"any: transient significant exits with {shutdown, Term}", anyS,
			func(tt *tree) []node {
				return []node{tt.worker("a"), tt.worker("t", restart(runtime.Transient), significant())}
			},
			func(t *testing.T, tt *tree) { tt.exit("r/t", &runtime.ShutdownError{Term: "done"}) },
			[]string{"exited r/t (shutdown:done)", "terminated r/a shutdown <-r/t (shutdown)"},
			true},
		{"any: transient significant crashes: restarted", anyS,
			func(tt *tree) []node {
				return []node{tt.worker("a"), tt.worker("t", restart(runtime.Transient), significant())}
			},
			func(t *testing.T, tt *tree) { tt.exit("r/t", boom) },
			[]string{"exited r/t (boom)", "started r/t crash <-r/t"},
			false},
		{"any: temporary significant crashes", anyS,
			func(tt *tree) []node {
				return []node{tt.worker("a"), tt.worker("t", restart(runtime.Temporary), significant())}
			},
			func(t *testing.T, tt *tree) { tt.exit("r/t", boom) },
			[]string{"exited r/t (boom)", "terminated r/a shutdown <-r/t (shutdown)"},
			true},
		{"any: a non-significant child exits", anyS,
			func(tt *tree) []node {
				return []node{tt.worker("a", restart(runtime.Transient)), tt.worker("t", restart(runtime.Transient), significant())}
			},
			func(t *testing.T, tt *tree) { tt.exit("r/a", runtime.Normal) },
			[]string{"exited r/a (normal)"},
			false},
		{"any: terminate_child of a significant child", anyS,
			func(tt *tree) []node {
				return []node{tt.worker("a"), tt.worker("t", restart(runtime.Transient), significant())}
			},
			func(t *testing.T, tt *tree) { mustf(t, tt.root.TerminateChild("t"), "terminate") },
			[]string{"terminated r/t operator (shutdown)"},
			false},
		{"any: significant killed by a sibling's restart", runtime.Flags{Strategy: runtime.OneForAll, MaxFrequency: 3, AutoShutdown: runtime.AnySignificant},
			func(tt *tree) []node {
				return []node{tt.worker("a"), tt.worker("t", restart(runtime.Temporary), significant())}
			},
			func(t *testing.T, tt *tree) { tt.exit("r/a", boom) },
			[]string{"exited r/a (boom)", "terminated r/t sibling <-r/a (shutdown)", "started r/a crash <-r/a"},
			false},
		{"all: one of two significant exits", allS,
			func(tt *tree) []node {
				return []node{tt.worker("a"), tt.worker("t1", restart(runtime.Transient), significant()), tt.worker("t2", restart(runtime.Temporary), significant())}
			},
			func(t *testing.T, tt *tree) { tt.exit("r/t1", runtime.Normal) },
			[]string{"exited r/t1 (normal)"},
			false},
		{"all: both significant exit", allS,
			func(tt *tree) []node {
				return []node{tt.worker("a"), tt.worker("t1", restart(runtime.Transient), significant()), tt.worker("t2", restart(runtime.Temporary), significant())}
			},
			func(t *testing.T, tt *tree) {
				tt.exit("r/t1", runtime.Normal)
				tt.rec.expect(t, "exited r/t1 (normal)")
				tt.exit("r/t2", boom)
			},
			[]string{"exited r/t2 (boom)", "terminated r/a shutdown <-r/t2 (shutdown)"},
			true},
		{"all: the other significant was stopped by an operator", allS,
			func(tt *tree) []node {
				return []node{tt.worker("a"), tt.worker("t1", restart(runtime.Transient), significant()), tt.worker("t2", restart(runtime.Transient), significant())}
			},
			func(t *testing.T, tt *tree) {
				mustf(t, tt.root.TerminateChild("t1"), "terminate")
				tt.rec.expect(t, "terminated r/t1 operator (shutdown)")
				tt.exit("r/t2", runtime.Normal)
			},
			[]string{"exited r/t2 (normal)", "terminated r/a shutdown <-r/t2 (shutdown)"},
			true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tt := newTree(t)
			root := tt.start(c.flags, c.kids(tt)...)
			tt.rec.cursor = tt.rec.len()
			c.act(t, tt)
			tt.rec.expect(t, c.trace...)
			if c.down {
				<-root.Done()
				if !errors.Is(root.Reason(), runtime.Shutdown) {
					t.Fatalf("exited with %v, want shutdown", root.Reason())
				}
				return
			}
			tt.quiet()
			if root.Reason() != nil {
				t.Fatalf("exited: %v", root.Reason())
			}
		})
	}
}

// all_significant counts a significant child whose restart is pending as
// having a process (OTP's children_any matches pid =/= undefined, and
// {restarting, _} is not undefined).
func TestSupervisorAllSignificantCountsRestartingChild(t *testing.T) {
	tt := newTree(t)
	starts := 0
	root := tt.start(runtime.Flags{MaxFrequency: 5, AutoShutdown: runtime.AllSignificant},
		tt.worker("a"),
		func(parent string) runtime.ChildSpec {
			return runtime.ChildSpec{ID: "t1", Restart: runtime.Transient, Significant: true,
				Start: func(p *runtime.Process) (runtime.Pid, error) {
					starts++
					if starts == 2 {
						// t2 exits (with shutdown: not restarted) before
						// the retry of t1 is queued.
						runtime.Exit(tt.child("r/t2").pid, runtime.Shutdown)
						return runtime.Pid{}, nope
					}
					return tt.startFunc("r/t1", behaviour{})(p)
				}}
		},
		tt.worker("t2", restart(runtime.Transient), significant()))
	tt.rec.cursor = tt.rec.len()
	tt.exit("r/t1", boom)
	tt.rec.expect(t,
		"exited r/t1 (boom)",
		"start_failed r/t1 crash <-r/t1 (nope)",
		"exited r/t2 (shutdown)", // t1 is restarting: no auto shutdown
		"started r/t1 crash <-r/t1")
	tt.quiet()
	if root.Reason() != nil {
		t.Fatalf("exited: %v", root.Reason())
	}
}

// As in OTP, significant is refused on a permanent child and under
// auto_shutdown never, at start and later.
func TestSupervisorSignificantValidation(t *testing.T) {
	tt := newTree(t)
	_, err := tt.tryStart(runtime.Flags{AutoShutdown: runtime.AnySignificant}, tt.worker("a", significant()))
	if !errors.Is(err, runtime.ErrInvalidSpec) {
		t.Fatalf("significant permanent: %v", err)
	}
	_, err = tt.tryStart(runtime.Flags{}, tt.worker("a", restart(runtime.Transient), significant()))
	if !errors.Is(err, runtime.ErrInvalidSpec) {
		t.Fatalf("significant under never: %v", err)
	}
	tt.rec.noMore(t) // nothing was started
	root := tt.start(runtime.Flags{}, tt.worker("a", restart(runtime.Transient)))
	if _, err := root.StartChild(tt.worker("b", restart(runtime.Transient), significant())("r")); !errors.Is(err, runtime.ErrInvalidSpec) {
		t.Fatalf("start_child significant under never: %v", err)
	}
	if err := change(root, runtime.UpdateChild{ID: "a", Restart: runtime.Transient, Significant: true}); !errors.Is(err, runtime.ErrInvalidSpec) {
		t.Fatalf("update to significant under never: %v", err)
	}
	mustf(t, change(root, runtime.SetFlags{Flags: runtime.Flags{AutoShutdown: runtime.AnySignificant}}), "set flags")
	mustf(t, change(root, runtime.UpdateChild{ID: "a", Restart: runtime.Transient, Significant: true}), "update to significant")
	if err := change(root, runtime.UpdateChild{ID: "a", Restart: runtime.Permanent, Significant: true}); !errors.Is(err, runtime.ErrInvalidSpec) {
		t.Fatalf("update to significant permanent: %v", err)
	}
	if err := change(root, runtime.SetFlags{Flags: runtime.Flags{}}); !errors.Is(err, runtime.ErrInvalidSpec) {
		t.Fatalf("set never with a significant child: %v", err)
	}
	// And it works: a exits normally, the supervisor shuts down.
	tt.rec.cursor = tt.rec.len()
	tt.exit("r/a", runtime.Normal)
	tt.rec.expect(t, "exited r/a (normal)")
	<-root.Done()
}
