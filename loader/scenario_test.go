package loader_test

import (
	"errors"
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
	if db := snap.Node("shop/db"); db.Pid == old || db.Restarts != 1 || !db.LastRestart.Equal(tr.Clock().Now()) || snap.Budget("shop").Used != 1 {
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
		"terminated shop/workers/w2 cause=escalation trigger=shop/workers reason=killed",
		"terminated shop/workers/w1 cause=escalation trigger=shop/workers reason=killed",
		"exited shop/workers reason=killed"}, restarted...)...)
	if snap := tr.Snapshot(); snap.Restarts("shop/workers") != 2 || snap.Children("shop/workers") != "w1:running w2:running" {
		t.Errorf("workers after two kills:\n%s", snap)
	}
}

// Regression (issue 14, 4): `otpctl kill shop/pool` killed the pool's
// workers through their links and no event said so. Each is reported
// terminated (killed, cause escalation, the pool as trigger), last started
// first, then the pool's exit, then its restart; a nested supervisor stops
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
		"terminated shop/pool/w3 cause=escalation trigger=shop/pool reason=killed",
		"terminated shop/pool/w2 cause=escalation trigger=shop/pool reason=killed",
		"terminated shop/pool/w1 cause=escalation trigger=shop/pool reason=killed",
		"exited shop/pool reason=killed",
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
