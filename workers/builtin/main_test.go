package builtin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/otpctl/otpctl/internal/testrec"
	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/workers"
	"github.com/otpctl/otpctl/workers/builtin"
)

// helperEnv makes the test binary act as a parent process that runs an exec
// worker (see TestExecParentKilled).
const helperEnv = "OTPCTL_BUILTIN_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "parent" {
		helperParent()
		return
	}
	if args := os.Getenv(checkEnv); args != "" {
		checkAs(args)
		return
	}
	// Orphaned grandchildren of exec workers are reparented to the test
	// process instead of PID 1 (which may not reap them), so that the
	// tests can check that none is left alive and reap the dead ones.
	if err := builtin.SetSubreaper(); err != nil {
		fmt.Fprintln(os.Stderr, "PR_SET_CHILD_SUBREAPER:", err)
		os.Exit(1)
	}
	// lumberjack keeps a goroutine per log file (log.file) that removes
	// old rotated files; exec keeps the file open for the process's life.
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("gopkg.in/natefinch/lumberjack%2ev2.(*Logger).millRun"))
}

// helperParent runs `sleep` as an exec worker under a supervisor, prints
// its OS pid and waits to be killed.
func helperParent() {
	var inst workers.Instance
	sup, err := runtime.StartSupervisor(nil, runtime.SupervisorSpec{
		Flags: runtime.DefaultFlags(),
		Path:  "helper",
		Children: []runtime.ChildSpec{{ID: "sleep", Start: func(p *runtime.Process) (runtime.Pid, error) {
			var err error
			inst, err = builtin.Exec().Start(p, workers.Worker{Path: "helper/sleep", Args: json.RawMessage(`{"command":["sleep","1000"]}`), Log: slog.New(slog.DiscardHandler)})
			return inst.Pid, err
		}}},
	})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println(inst.OSPid)
	<-sup.Done()
	os.Exit(2)
}

// ---- log capture ----

// record is one captured log record.
type record struct {
	Msg   string
	Attrs map[string]string
}

// logSink captures the records of a slog.Logger.
type logSink struct{ testrec.Log[record] }

func newLogSink() *logSink { return &logSink{} }

func (s *logSink) logger(path string) *slog.Logger {
	return slog.New(&sinkHandler{s: s}).With("path", path)
}

// await waits (up to 10s) for a record that ok accepts and returns it.
func (s *logSink) await(t *testing.T, what string, ok func(record) bool) record {
	t.Helper()
	i, err := s.Wait(0, 10*time.Second, ok)
	if err != nil {
		t.Fatalf("no log record %s; have %v", what, s.All())
	}
	return s.At(i)
}

// line waits for an output line that matches pred.
func (s *logSink) line(t *testing.T, stream string, pred func(string) bool) string {
	t.Helper()
	return s.await(t, "on "+stream, func(r record) bool {
		return r.Msg == "output" && r.Attrs["stream"] == stream && pred(r.Attrs["line"])
	}).Attrs["line"]
}

type sinkHandler struct {
	s     *logSink
	attrs []slog.Attr
}

func (h *sinkHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *sinkHandler) Handle(_ context.Context, r slog.Record) error {
	rec := record{Msg: r.Message, Attrs: map[string]string{}}
	for _, a := range h.attrs {
		rec.Attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		rec.Attrs[a.Key] = a.Value.String()
		return true
	})
	h.s.Add(rec)
	return nil
}
func (h *sinkHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &sinkHandler{s: h.s, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}
func (h *sinkHandler) WithGroup(string) slog.Handler { return h }

// ---- a supervisor with one worker ----

// tree is a root supervisor running one child of a kind.
type tree struct {
	t      *testing.T
	sup    *runtime.Supervisor
	logs   *logSink
	events chan runtime.Event

	mu   sync.Mutex
	inst workers.Instance
}

type treeOpt struct {
	restart  runtime.RestartType
	shutdown runtime.ShutdownPolicy
	clock    runtime.Clock
}

// startTree starts kind with args as child "w" of root "t"; a failed start
// is returned.
func startTree(t *testing.T, kind workers.Kind, args string, o treeOpt) (*tree, error) {
	t.Helper()
	tr := &tree{t: t, logs: newLogSink(), events: make(chan runtime.Event, 1000)}
	var opts []runtime.Option
	if o.clock != nil {
		opts = append(opts, runtime.WithClock(o.clock))
	}
	sup, err := runtime.StartSupervisor(nil, runtime.SupervisorSpec{
		Flags: runtime.Flags{MaxFrequency: 0, Period: 5 * time.Second},
		Path:  "t",
		Children: []runtime.ChildSpec{{
			ID: "w", Kind: kind.Name, Restart: o.restart, Shutdown: o.shutdown,
			Start: func(p *runtime.Process) (runtime.Pid, error) {
				inst, err := kind.Start(p, workers.Worker{Path: "t/w", Args: json.RawMessage(args), Log: tr.logs.logger("t/w")})
				tr.mu.Lock()
				tr.inst = inst
				tr.mu.Unlock()
				return inst.Pid, err
			},
		}},
		Events: func(e runtime.Event) {
			select {
			case tr.events <- e:
			default:
			}
		},
	}, opts...)
	if err != nil {
		return tr, err
	}
	tr.sup = sup
	t.Cleanup(func() { tr.stop() })
	return tr, nil
}

func mustStartTree(t *testing.T, kind workers.Kind, args string, o treeOpt) *tree {
	t.Helper()
	tr, err := startTree(t, kind, args, o)
	if err != nil {
		t.Fatalf("start %s %s: %v", kind.Name, args, err)
	}
	return tr
}

func (tr *tree) instance() workers.Instance {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.inst
}

// event waits (up to 20s) for the next event of type typ, skipping others.
func (tr *tree) event(typ runtime.EventType) runtime.Event {
	tr.t.Helper()
	limit := time.NewTimer(20 * time.Second)
	defer limit.Stop()
	for {
		select {
		case e := <-tr.events:
			if e.Type == typ {
				return e
			}
		case <-limit.C:
			tr.t.Fatalf("no %s event", typ)
		}
	}
}

func (tr *tree) stop() {
	if tr.sup == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if tr.sup.Shutdown(ctx) != nil {
		tr.t.Errorf("supervisor did not stop")
	}
}

// call sends a request to the worker and returns the reply (or the error
// text, prefixed "error: ").
func (tr *tree) call(body string) string {
	tr.t.Helper()
	p, detach := runtime.Attach()
	defer detach()
	out, err := workers.Call(p, tr.instance(), json.RawMessage(body), 5*time.Second)
	if err != nil {
		return "error: " + err.Error()
	}
	return string(out)
}

// ---- OS processes ----

// procState returns the state letter of pid from /proc ("" when it does not
// exist), its parent and its process group.
func procState(pid int) (state string, ppid, pgid int) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", 0, 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ppid, _ = strconv.Atoi(f[1])
	pgid, _ = strconv.Atoi(f[2])
	return f[0], ppid, pgid
}

// reapOrphan reaps pid if it is a dead orphan that came to the test process.
// An exec worker's own child (the leader of its process group) is left to
// os/exec, which reaps it.
func reapOrphan(pid int) {
	if st, ppid, pgid := procState(pid); st == "Z" && ppid == os.Getpid() && pgid != pid {
		var ws syscall.WaitStatus
		syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
	}
}

// awaitGone waits (up to 10s) until pid no longer runs, reaping it if it is
// an orphan that came to the test process, and fails if it still runs.
func awaitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		reapOrphan(pid)
		st, ppid, _ := procState(pid)
		switch {
		case st == "":
			return
		case st == "Z" && ppid != os.Getpid():
			return // dead; its parent is outside this test
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still there (state %s, parent %d)", pid, st, ppid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// children returns the pids of the test process's children.
func children() []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", os.Getpid()))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(s); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// noOrphans checks, once a test is over, that the test process has no
// child left: no exec worker still running, no grandchild left behind (they
// come to the test process as it is a subreaper), no zombie.
func noOrphans(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := children()
		for _, pid := range left {
			reapOrphan(pid)
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			var desc []string
			for _, pid := range left {
				st, _, _ := procState(pid)
				cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
				desc = append(desc, fmt.Sprintf("%d %s %q", pid, st, bytes.ReplaceAll(cmd, []byte{0}, []byte{' '})))
				syscall.Kill(pid, syscall.SIGKILL)
			}
			t.Fatalf("processes left behind: %v", desc)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
