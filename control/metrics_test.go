package control

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/otpctl/otpctl/internal/promtest"
	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/runtime"
)

// jobsBackend is a tree with an exec worker (this test process stands for
// its OS process) and a dynamic supervisor of 50 running children.
type jobsBackend struct{ *fakeBackend }

func (b jobsBackend) Tree() (*live.Node, error) {
	jobs := &live.Node{Path: "shop/jobs", Type: "supervisor", State: runtime.StateRunning, Dynamic: true,
		Budget: &live.Budget{Used: 2, Max: 10, Period: "5s"}}
	for i := 1; i <= 50; i++ {
		jobs.Children = append(jobs.Children, &live.Node{Path: fmt.Sprintf("shop/jobs/j%d", i), Type: "worker",
			Kind: "exec", State: runtime.StateRunning, OSPid: os.Getpid(), Health: &live.Health{Status: "healthy"}})
	}
	jobs.Children[0].Health.Status = "starting"
	return &live.Node{Path: "shop", Type: "supervisor", State: runtime.StateRunning,
		Budget: &live.Budget{Used: 1, Max: 3, Period: "5s"},
		Children: []*live.Node{
			{Path: "shop/web", Type: "worker", Kind: "exec", State: runtime.StateRunning, OSPid: os.Getpid(),
				Health: &live.Health{Status: "unhealthy", Last: "connection refused", Failures: 3}},
			{Path: "shop/db", Type: "worker", Kind: "echo", State: runtime.StateStopped},
			jobs,
		}}, nil
}

func TestMetricsOfATree(t *testing.T) {
	b := jobsBackend{newFake()}
	log := b.log
	t0 := time.Unix(1700000000, 0)
	log.Append(live.Event{Type: runtime.EventStarted, Path: "shop/jobs", Kind: kindDynamic, StartedIn: time.Millisecond})
	for i := 1; i <= 50; i++ {
		log.Append(live.Event{Type: runtime.EventStarted, Path: fmt.Sprintf("shop/jobs/j%d", i), Cause: runtime.CauseOperator})
	}
	log.Append(live.Event{Type: runtime.EventExited, Time: t0, Path: "shop/jobs/j7"})
	log.Append(live.Event{Type: runtime.EventStarted, Path: "shop/jobs/j7", Cause: runtime.CauseCrash, Restart: true, StartedIn: 3 * time.Second})
	log.Append(live.Event{Type: runtime.EventExited, Time: t0.Add(time.Second), Path: "shop/db"})
	log.Append(live.Event{Type: runtime.EventStarted, Path: "shop/db", Cause: runtime.CauseCrash, Restart: true, StartedIn: 2 * time.Second})
	log.Append(live.Event{Type: runtime.EventStarted, Path: "shop/db", Cause: runtime.CauseOperator, Restart: true})
	log.Append(live.Event{Type: runtime.EventGiveUp, Path: "shop/pool"})
	log.Append(live.Event{Type: "reload", Path: "shop"})
	log.Append(live.Event{Type: "reload_failed", Path: "shop"})
	log.Append(live.Event{Type: "reload_failed", Path: "shop"})

	client, _ := serve(t, b)
	m, err := promtest.Scrape(client.http, "http://otpctl/metrics", "")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name   string
		labels []string
		value  float64
	}{
		{"otpctl_child_up", []string{"path", "shop/web"}, 1},
		{"otpctl_child_up", []string{"path", "shop/db"}, 0},
		{"otpctl_child_up", []string{"path", "shop/jobs"}, 1},
		{"otpctl_child_up", []string{"path", "shop/jobs/*"}, 50},
		{"otpctl_child_healthy", []string{"path", "shop/web"}, 0},
		{"otpctl_child_healthy", []string{"path", "shop/jobs/*"}, 49},
		{"otpctl_child_restarts_total", []string{"path", "shop/jobs/*", "cause", "crash"}, 1},
		{"otpctl_child_restarts_total", []string{"path", "shop/db", "cause", "crash"}, 1},
		{"otpctl_child_restarts_total", []string{"path", "shop/db", "cause", "operator"}, 1},
		{"otpctl_child_start_seconds", []string{"path", "shop/jobs/*"}, 3},
		{"otpctl_child_start_seconds", []string{"path", "shop/jobs"}, 0.001},
		{"otpctl_child_start_seconds", []string{"path", "shop/db"}, 0},
		{"otpctl_child_last_exit_timestamp_seconds", []string{"path", "shop/jobs/*"}, 1700000000},
		{"otpctl_child_last_exit_timestamp_seconds", []string{"path", "shop/db"}, 1700000001},
		{"otpctl_supervisor_restart_budget_used", []string{"path", "shop"}, 1},
		{"otpctl_supervisor_restart_budget_max", []string{"path", "shop"}, 3},
		{"otpctl_supervisor_restart_budget_used", []string{"path", "shop/jobs"}, 2},
		{"otpctl_supervisor_give_ups_total", []string{"path", "shop"}, 0},
		{"otpctl_supervisor_give_ups_total", []string{"path", "shop/jobs"}, 0},
		{"otpctl_supervisor_give_ups_total", []string{"path", "shop/pool"}, 1},
		{"otpctl_reloads_total", []string{"result", "ok"}, 1},
		{"otpctl_reloads_total", []string{"result", "failed"}, 2},
		{"otpctl_events_dropped_total", nil, 0},
		{"otpctl_event_streams_cut_total", []string{"why", "stalled"}, 0},
	}
	for _, w := range want {
		if got, ok := m.Value(w.name, w.labels...); !ok || got != w.value {
			t.Errorf("%s%v = %v (present %v), want %v", w.name, w.labels, got, ok, w.value)
		}
	}
	// No dynamic child has a series of its own.
	for name := range m {
		for _, p := range m.Labels(name, "path") {
			if strings.HasPrefix(p, "shop/jobs/") && p != "shop/jobs/*" {
				t.Fatalf("%s has a series for the dynamic child %s", name, p)
			}
		}
	}
	// The exec children's usage, read from /proc (this process's).
	rss, ok := m.Value("otpctl_child_resident_memory_bytes", "path", "shop/web")
	if !ok || rss <= 0 {
		t.Errorf("rss of shop/web = %v (present %v), want > 0", rss, ok)
	}
	all, _ := m.Value("otpctl_child_resident_memory_bytes", "path", "shop/jobs/*")
	if all < 40*rss { // 50 times this process, which may have grown or shrunk in between
		t.Errorf("rss of shop/jobs/* = %v, want about 50 × %v", all, rss)
	}
	if _, ok := m.Value("otpctl_child_cpu_seconds_total", "path", "shop/web"); !ok {
		t.Error("no cpu seconds for shop/web")
	}
	if _, ok := m.Value("otpctl_child_cpu_seconds_total", "path", "shop/db"); ok {
		t.Error("cpu seconds for shop/db, which is not an exec child")
	}
	if _, ok := m.Value("otpctl_child_healthy", "path", "shop/db"); ok {
		t.Error("otpctl_child_healthy for shop/db, which has no health check")
	}
	// Go's and the process's own metrics.
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := m.Value(name); !ok {
			t.Errorf("no %s", name)
		}
	}
}

// The counting on the event hook's path allocates nothing once a node has
// been seen, whether its series is its own or its dynamic supervisor's.
func TestAppendCountsWithoutAllocating(t *testing.T) {
	log := NewEventLog(16)
	log.Append(live.Event{Type: runtime.EventStarted, Path: "shop/jobs", Kind: kindDynamic})
	events := []live.Event{
		{Type: runtime.EventStarted, Path: "shop/web", Cause: runtime.CauseCrash, Restart: true, StartedIn: time.Second},
		{Type: runtime.EventExited, Path: "shop/web", Time: time.Now()},
		{Type: runtime.EventStarted, Path: "shop/jobs/j1", Cause: runtime.CauseCrash, Restart: true},
		{Type: runtime.EventTerminated, Path: "shop/jobs/j2", Time: time.Now()},
		{Type: runtime.EventGiveUp, Path: "shop"},
		{Type: "reload", Path: "shop"},
	}
	for _, e := range events {
		log.Append(e)
	}
	for _, e := range events {
		if n := testing.AllocsPerRun(100, func() { log.Append(e) }); n != 0 {
			t.Errorf("Append(%s %s) allocates %v times", e.Type, e.Path, n)
		}
	}
	c := log.countsCopy()
	if len(c.nodes) != 4 { // shop/jobs, shop/web, shop/jobs/*, shop
		t.Errorf("counted under %d keys, want 4: %v", len(c.nodes), c.nodes)
	}
}

// A reload that turns a dynamic supervisor into another kind of supervisor
// gives its children their own series again.
func TestCountsFollowADynamicSupervisorThatIsNoLonger(t *testing.T) {
	var c eventCounts
	c.observe(&live.Event{Type: runtime.EventStarted, Path: "shop/jobs", Kind: kindDynamic})
	if k := c.key("shop/jobs/j1"); k.label() != "shop/jobs/*" {
		t.Errorf("key %s, want shop/jobs/*", k.label())
	}
	c.observe(&live.Event{Type: runtime.EventStarted, Path: "shop/jobs", Kind: "one_for_one"})
	if k := c.key("shop/jobs/j1"); k.label() != "shop/jobs/j1" {
		t.Errorf("key %s, want shop/jobs/j1", k.label())
	}
}
