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
	tr.Kill("shop/workers", "killed") // at once: its workers die through their links
	tr.AssertTrace(m, append([]string{"exited shop/workers reason=killed"}, restarted...)...)
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
