package loader_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otpctl/otpctl/loader"
	"github.com/otpctl/otpctl/otptest"
	"github.com/otpctl/otpctl/runtime"
)

// shop is the scenarios' tree, with max_frequency to fill in.
const shop = `
version: 1
name: shop
supervisor:
  max_frequency: MAX
  children:
    - {name: db, kind: echo}
    - name: workers
      supervisor:
        strategy: rest_for_one
        children: [{name: w1, kind: echo}, {name: w2, kind: echo}]
    - {name: jobs, dynamic: {kind: echo, max_children: 2}}
    - {name: web, kind: echo}
`

func startShop(t *testing.T, maxFrequency string) *otptest.Tree {
	return otptest.StartYAML(t, strings.Replace(shop, "MAX", maxFrequency, 1), otptest.WithFakeClock())
}

func TestKillWorkerIsRestartedAndCounted(t *testing.T) {
	tr := startShop(t, "3")
	old := tr.Snapshot().Pid("shop/db")
	m := tr.Mark()
	tr.Kill("shop/db", "")
	tr.AssertTrace(m, "exited shop/db reason=killed", "started shop/db cause=crash trigger=shop/db")
	snap := tr.Snapshot()
	if db := snap.Node("shop/db"); db.Proc == old || db.Restarts != 1 || !db.LastRestart.Equal(tr.Clock().Now()) || snap.Budget("shop").Used != 1 {
		t.Errorf("after a kill, want a new pid, one restart now and 1 used:\n%s", snap)
	}
	tr.Advance(6 * time.Second)
	if used := tr.Snapshot().Budget("shop").Used; used != 0 {
		t.Errorf("budget used after the period = %d, want 0", used)
	}
}

func TestKillPastIntensityGivesUp(t *testing.T) {
	tr := startShop(t, "2")
	for range 2 {
		m := tr.Mark()
		tr.Kill("shop/web", "crash")
		tr.AssertTrace(m, "exited shop/web reason=crash", "started shop/web cause=crash trigger=shop/web")
		tr.Advance(time.Second)
	}
	m := tr.Mark()
	tr.Kill("shop/web", "crash")
	tr.AssertTrace(m,
		"exited shop/web reason=crash",
		"give_up shop trigger=shop/web reason=reached_max_restart_intensity",
		"terminated shop/jobs cause=escalation trigger=shop/web reason=shutdown",
		"terminated shop/workers/w2 cause=escalation trigger=shop/web reason=shutdown",
		"terminated shop/workers/w1 cause=escalation trigger=shop/web reason=shutdown",
		"terminated shop/workers cause=escalation trigger=shop/web reason=shutdown",
		"terminated shop/db cause=escalation trigger=shop/web reason=shutdown",
		"exited shop reason=shutdown")
	if r := tr.Running(); !r.GaveUp() || !errors.Is(r.Reason(), runtime.Shutdown) {
		t.Errorf("GaveUp %v, Reason %v", r.GaveUp(), r.Reason())
	}
}

func TestKillSupervisor(t *testing.T) {
	tr := startShop(t, "3")
	if err := tr.Running().Kill("shop/workers", "normal"); !errors.Is(err, loader.ErrRefused) {
		t.Errorf("kill a supervisor with normal: %v, want refused", err)
	}
	m := tr.Mark()
	tr.Kill("shop/workers", "shutdown") // in order
	restarted := []string{
		"started shop/workers/w1 cause=escalation trigger=shop/workers",
		"started shop/workers/w2 cause=escalation trigger=shop/workers",
		"started shop/workers cause=crash trigger=shop/workers",
	}
	m = tr.AssertTrace(m, append([]string{
		"terminated shop/workers/w2 cause=shutdown reason=shutdown",
		"terminated shop/workers/w1 cause=shutdown reason=shutdown",
		"exited shop/workers reason=shutdown"}, restarted...)...)
	// At once: its workers die through their links, and are reported
	// (last started first) before the supervisor's own exit.
	tr.Kill("shop/workers", "killed")
	tr.AssertTrace(m, append([]string{
		"exited shop/workers reason=killed",
		"terminated shop/workers/w2 cause=escalation trigger=shop/workers reason=killed",
		"terminated shop/workers/w1 cause=escalation trigger=shop/workers reason=killed"}, restarted...)...)
	if snap := tr.Snapshot(); snap.Restarts("shop/workers") != 2 || snap.Children("shop/workers") != "w1:running w2:running" {
		t.Errorf("workers after two kills:\n%s", snap)
	}
}

// OTP's do_restart and do_auto_shutdown by exit reason, for a transient
// significant child killed by an operator: normal, shutdown and
// shutdown:TEXT (OTP's {shutdown, Term}) shut its supervisor down; any other
// reason restarts it.
func TestKillSignificantChild(t *testing.T) {
	cases := []struct {
		reason string
		down   bool
	}{
		{"normal", true},
		{"shutdown", true},
		{"shutdown:done", true},
		{"boom", false},
	}
	for _, c := range cases {
		t.Run(c.reason, func(t *testing.T) {
			tr := otptest.StartYAML(t, `
version: 1
name: app
supervisor:
  auto_shutdown: any_significant
  children:
    - {name: a, kind: echo}
    - {name: job, kind: echo, restart: transient, significant: true}
`, otptest.WithFakeClock())
			m := tr.Mark()
			tr.Kill("app/job", c.reason)
			if !c.down {
				tr.AssertTrace(m, "exited app/job reason="+c.reason, "started app/job cause=crash trigger=app/job")
				return
			}
			tr.AssertTrace(m,
				"exited app/job reason="+c.reason,
				"terminated app/a cause=shutdown trigger=app/job reason=shutdown",
				"exited app reason=shutdown")
			if r := tr.Running(); r.GaveUp() || !errors.Is(r.Reason(), runtime.Shutdown) {
				t.Errorf("GaveUp %v, Reason %v; want an auto_shutdown", r.GaveUp(), r.Reason())
			}
		})
	}
}

// An exec child never outlives its supervisor. An OTP worker still in its
// terminate may outlive a supervisor that is killed, or that its parent
// kills when the supervisor's shutdown time passes; otpctl kills the OS
// process as soon as the supervisor is gone. The program here survives
// SIGTERM (its trap, set before it is ready, notes it in a file) and has
// shutdown infinity: nothing else would ever stop it.
func TestSupervisorGoneLeavesNoOSProcess(t *testing.T) {
	cases := []struct {
		name string
		act  func(t *testing.T, tr *otptest.Tree, termed string)
	}{
		{"the supervisor killed", func(t *testing.T, tr *otptest.Tree, _ string) { tr.Kill("app/s", "killed") }},
		// s stops its children, in order: x gets SIGTERM and stays; then
		// s is killed.
		{"the supervisor killed while the child stops", func(t *testing.T, tr *otptest.Tree, termed string) {
			tr.Kill("app/s", "shutdown")
			awaitFile(t, termed)
			tr.Kill("app/s", "killed")
		}},
		// The parent stops s, s asks x to stop and waits for ever, and
		// after s's shutdown (1s) the parent kills s.
		{"the supervisor killed by its parent past its shutdown", func(t *testing.T, tr *otptest.Tree, _ string) { tr.Stop("app/s") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			termed := filepath.Join(t.TempDir(), "termed")
			tr := otptest.StartYAML(t, fmt.Sprintf(`
version: 1
name: app
supervisor:
  children:
    - name: s
      shutdown: 1s
      supervisor:
        children:
          - name: x
            kind: exec
            shutdown: infinity
            args:
              command: [sh, -c, "trap 'touch %s' TERM; echo ready; while :; do sleep 0.1; done"]
              ready: {log: "^ready$"}
`, termed))
			pid := tr.Snapshot().Node("app/s/x").OSPid
			born := procStart(pid)
			if pid == 0 || born == "" {
				t.Fatalf("x's OS process %d is not running", pid)
			}
			c.act(t, tr, termed)
			deadline := time.Now().Add(20 * time.Second)
			for procStart(pid) == born {
				if time.Now().After(deadline) {
					t.Fatalf("x's OS process %d still runs 20s after its supervisor is gone", pid)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// awaitFile waits (up to 20s) until file exists.
func awaitFile(t *testing.T, file string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(file); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 20s", file)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// procStart is the start time of process pid, from /proc/PID/stat: "" when
// no process has that pid or it has exited (a zombie). It tells the process
// from a later one that reuses its pid.
func procStart(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 20 || f[0] == "Z" {
		return ""
	}
	return f[19] // field 22, starttime
}

// A supervisor's started comes after its children's (each child's start
// complete before the next, then the supervisor's own), at boot, on a
// restart and in a reload; OTP reports a supervisor started when its init
// begins, before its children. The root's comes last of all.
func TestSupervisorStartedAfterItsChildren(t *testing.T) {
	const app = `
version: 1
name: app
supervisor:
  children:
    - {name: a, kind: echo}
    - name: s
      supervisor:
        children: [{name: x, kind: echo}, {name: y, kind: echo}]
`
	tr := otptest.StartYAML(t, app, otptest.WithFakeClock())
	tr.AssertTrace(otptest.Mark(0),
		"started app/a cause=boot",
		"started app/s/x cause=boot",
		"started app/s/y cause=boot",
		"started app/s cause=boot",
		"started app cause=boot")
	m := tr.Mark()
	tr.Kill("app/s", "shutdown")
	tr.AssertTrace(m,
		"terminated app/s/y cause=shutdown reason=shutdown",
		"terminated app/s/x cause=shutdown reason=shutdown",
		"exited app/s reason=shutdown",
		"started app/s/x cause=escalation trigger=app/s",
		"started app/s/y cause=escalation trigger=app/s",
		"started app/s cause=crash trigger=app/s")
	m = tr.Mark()
	tr.Reload(app + "    - name: t\n      supervisor:\n        children: [{name: z, kind: echo}]\n")
	tr.AssertTrace(m, "started app/t/z cause=reload", "started app/t cause=reload", "reload app added=app/t")
}

// Regression (issue 14, 4): `otpctl kill shop/pool` killed the pool's
// workers through their links and no event said so. As in OTP, the pool's
// exit is reported first, then each worker terminated (killed, cause
// escalation, the pool as trigger), last started first, then the pool's
// restart; a nested supervisor stops
// its own children in order and reports itself, on its own goroutine.
func TestKilledSupervisorReportsEachChild(t *testing.T) {
	tr := otptest.StartYAML(t, `
version: 1
name: shop
supervisor:
  max_frequency: 5
  children:
    - {name: db, kind: echo}
    - name: pool
      supervisor:
        children:
          - {name: w1, kind: echo}
          - {name: w2, kind: counter}
          - {name: w3, kind: echo}
    - name: jobs
      supervisor:
        children:
          - {name: j1, kind: echo}
          - name: batch
            supervisor:
              children: [{name: b1, kind: echo}, {name: b2, kind: echo}]
          - {name: j2, kind: echo}
`, otptest.WithFakeClock())
	m := tr.Mark()
	tr.Kill("shop/pool", "killed")
	m = tr.AssertTrace(m,
		"exited shop/pool reason=killed",
		"terminated shop/pool/w3 cause=escalation trigger=shop/pool reason=killed",
		"terminated shop/pool/w2 cause=escalation trigger=shop/pool reason=killed",
		"terminated shop/pool/w1 cause=escalation trigger=shop/pool reason=killed",
		"started shop/pool/w1 cause=escalation trigger=shop/pool",
		"started shop/pool/w2 cause=escalation trigger=shop/pool",
		"started shop/pool/w3 cause=escalation trigger=shop/pool",
		"started shop/pool cause=crash trigger=shop/pool")

	tr.Kill("shop/jobs", "killed")
	tr.AssertEvents(m,
		"terminated shop/jobs/j2 cause=escalation trigger=shop/jobs reason=killed",
		"terminated shop/jobs/j1 cause=escalation trigger=shop/jobs reason=killed",
		"exited shop/jobs reason=killed",
		// The orphan stops its children in order, then says so.
		"terminated shop/jobs/batch/b2 cause=escalation trigger=shop/jobs reason=shutdown",
		"terminated shop/jobs/batch/b1 cause=escalation trigger=shop/jobs reason=shutdown",
		"terminated shop/jobs/batch cause=escalation trigger=shop/jobs reason=killed",
		"started shop/jobs/j1 cause=escalation trigger=shop/jobs",
		"started shop/jobs/batch/b1 cause=escalation trigger=shop/jobs",
		"started shop/jobs/batch/b2 cause=escalation trigger=shop/jobs",
		"started shop/jobs/batch cause=escalation trigger=shop/jobs",
		"started shop/jobs/j2 cause=escalation trigger=shop/jobs",
		"started shop/jobs cause=crash trigger=shop/jobs")
	if snap := tr.Snapshot(); snap.Children("shop/jobs") != "j1:running batch:running j2:running" {
		t.Errorf("after the kills:\n%s", snap)
	}
}
