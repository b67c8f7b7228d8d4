package control

import (
	"net/http"
	"time"

	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/procfs"
)

// MaxScrapes is how many GET /metrics are served at a time; past that,
// 503.
const MaxScrapes = 4

// scrapeTimeout bounds one GET /metrics.
const scrapeTimeout = 10 * time.Second

// The metrics' descriptions. A dynamic supervisor's children are never
// labelled one by one: their series are summed under path="SUP/*" (SUP the
// supervisor's path), so the series are bounded by the tree files' nodes.
var (
	descChildUp = prometheus.NewDesc("otpctl_child_up",
		"1 if the child is running, else 0. For a dynamic supervisor's children (path=\"SUP/*\"): how many are running.",
		[]string{"path"}, nil)
	descChildHealthy = prometheus.NewDesc("otpctl_child_healthy",
		"For a running child with a health check: 1 if it is healthy, else 0 (starting or unhealthy). "+
			"For a dynamic supervisor's children (path=\"SUP/*\"): how many are healthy.",
		[]string{"path"}, nil)
	descChildRestarts = prometheus.NewDesc("otpctl_child_restarts_total",
		"Starts of the child after its first, by the started event's cause (crash, sibling, escalation, reload, operator). "+
			"For a dynamic supervisor's children (path=\"SUP/*\"): summed over them.",
		[]string{"path", "cause"}, nil)
	descChildStart = prometheus.NewDesc("otpctl_child_start_seconds",
		"How long the child's latest start took, from its start to its started event (init or readiness check included); "+
			"the root's: the whole tree's start. For a dynamic supervisor's children (path=\"SUP/*\"): the latest start of any of them.",
		[]string{"path"}, nil)
	descChildLastExit = prometheus.NewDesc("otpctl_child_last_exit_timestamp_seconds",
		"Unix time of the child's latest exit (exited or terminated event). "+
			"For a dynamic supervisor's children (path=\"SUP/*\"): the latest exit of any of them.",
		[]string{"path"}, nil)
	descChildCPU = prometheus.NewDesc("otpctl_child_cpu_seconds_total",
		"User and system CPU time of an exec child's process (not of the processes it started), from /proc/PID/stat; "+
			"it starts again from 0 when the child restarts. For a dynamic supervisor's children (path=\"SUP/*\"): summed over the running ones.",
		[]string{"path"}, nil)
	descChildRSS = prometheus.NewDesc("otpctl_child_resident_memory_bytes",
		"Resident memory of an exec child's process, from /proc/PID/stat. "+
			"For a dynamic supervisor's children (path=\"SUP/*\"): summed over the running ones.",
		[]string{"path"}, nil)
	descBudgetUsed = prometheus.NewDesc("otpctl_supervisor_restart_budget_used",
		"Restarts the running supervisor counts in its current window of period (its restart intensity).",
		[]string{"path"}, nil)
	descBudgetMax = prometheus.NewDesc("otpctl_supervisor_restart_budget_max",
		"The supervisor's max_frequency: one restart more than this within period and it gives up.",
		[]string{"path"}, nil)
	descGiveUps = prometheus.NewDesc("otpctl_supervisor_give_ups_total",
		"Times the supervisor gave up (give_up events: it passed its restart intensity).",
		[]string{"path"}, nil)
	descReloads = prometheus.NewDesc("otpctl_reloads_total",
		"Reloads of the tree files by result: ok, one that changed the tree (a reload event; one that found nothing to change is not counted), "+
			"or failed, one that was refused and changed nothing (a reload_failed event).",
		[]string{"result"}, nil)
	descDropped = prometheus.NewDesc("otpctl_events_dropped_total",
		"Lines of the run log (events, exec children's output, messages) dropped because stderr did not take them "+
			"(the log_dropped lines' counts); 0 where nothing logs through otpctl run's queue.",
		nil, nil)
	descStreamsCut = prometheus.NewDesc("otpctl_event_streams_cut_total",
		"Event streams (GET /v1/events) the server cut off, by why: stalled (a write was not read in time) or "+
			"behind (the reader fell behind the kept events). Their readers lost the events after the cut.",
		[]string{"why"}, nil)
)

// metricsHandler is GET /metrics: the server's own registry (the tree's
// metrics, and Go's and the process's) in Prometheus' formats.
func (s *Server) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		treeCollector{s},
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: MaxScrapes,
		Timeout:             scrapeTimeout,
	})
}

// treeCollector reads the live tree at scrape time for the gauges, and the
// event log's counts for the counters.
type treeCollector struct{ s *Server }

// Describe sends every description.
func (treeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descChildUp, descChildRestarts, descChildStart, descChildLastExit,
		descChildCPU, descChildRSS, descChildHealthy, descBudgetUsed, descBudgetMax, descGiveUps, descReloads, descDropped, descStreamsCut} {
		ch <- d
	}
}

// Collect sends the metrics of one scrape.
func (c treeCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	counts := s.backend.EventLog().countsCopy()
	metric := func(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, t, v, labels...)
	}
	metric(descReloads, prometheus.CounterValue, float64(counts.reloadsOK), "ok")
	metric(descReloads, prometheus.CounterValue, float64(counts.reloadsBad), "failed")
	var dropped uint64
	if f := s.DroppedLines; f != nil {
		dropped = f()
	}
	metric(descDropped, prometheus.CounterValue, float64(dropped))
	metric(descStreamsCut, prometheus.CounterValue, float64(s.stalled.Load()), "stalled")
	metric(descStreamsCut, prometheus.CounterValue, float64(s.behind.Load()), "behind")

	supervisors := map[string]bool{}
	if root, err := s.backend.Tree(); err == nil {
		collectTree(root, metric, supervisors)
	}
	for k, n := range counts.nodes {
		label := k.label()
		for i, v := range n.restarts {
			if v > 0 {
				metric(descChildRestarts, prometheus.CounterValue, float64(v), label, restartCauses[i])
			}
		}
		if n.started {
			metric(descChildStart, prometheus.GaugeValue, n.startedIn.Seconds(), label)
		}
		if !n.lastExit.IsZero() {
			metric(descChildLastExit, prometheus.GaugeValue, float64(n.lastExit.UnixNano())/1e9, label)
		}
		if !k.all && (n.giveUps > 0 || supervisors[k.path]) {
			metric(descGiveUps, prometheus.CounterValue, float64(n.giveUps), k.path)
			delete(supervisors, k.path)
		}
	}
	for path := range supervisors {
		metric(descGiveUps, prometheus.CounterValue, 0, path)
	}
}

// collectTree sends the gauges of the tree under root and adds the paths
// of its supervisors to supervisors.
func collectTree(root *live.Node, metric func(*prometheus.Desc, prometheus.ValueType, float64, ...string), supervisors map[string]bool) {
	root.Walk(func(n *live.Node) {
		if !n.IsSupervisor() {
			return
		}
		supervisors[n.Path] = true
		if b := n.Budget; b != nil {
			metric(descBudgetUsed, prometheus.GaugeValue, float64(b.Used), n.Path)
			metric(descBudgetMax, prometheus.GaugeValue, float64(b.Max), n.Path)
		}
		var all usage // a dynamic supervisor's children, together
		for _, child := range n.Children {
			u := usageOf(child)
			if n.Dynamic {
				all.add(u)
				continue
			}
			u.send(metric, child.Path)
		}
		if n.Dynamic {
			all.send(metric, n.Path+"/*")
		}
	})
}

// usage is the gauges of a child, or the sum of a dynamic supervisor's.
type usage struct {
	up       int
	exec     bool // an exec child: cpu and rss are read
	cpu, rss float64
	checked  bool // it has a health check
	healthy  int
}

func usageOf(n *live.Node) usage {
	var u usage
	if n.State == runtime.StateRunning {
		u.up = 1
	}
	if h := n.Health; h != nil {
		u.checked = true
		if h.Status == "healthy" {
			u.healthy = 1
		}
	}
	if n.OSPid > 0 {
		if st, err := readStat(n.OSPid); err == nil {
			u.exec, u.cpu, u.rss = true, st.CPUTime(), float64(st.ResidentMemory())
		}
	}
	return u
}

func (u *usage) add(v usage) {
	u.up += v.up
	u.exec = u.exec || v.exec
	u.cpu += v.cpu
	u.rss += v.rss
	u.checked = u.checked || v.checked
	u.healthy += v.healthy
}

func (u usage) send(metric func(*prometheus.Desc, prometheus.ValueType, float64, ...string), path string) {
	metric(descChildUp, prometheus.GaugeValue, float64(u.up), path)
	if u.exec {
		metric(descChildCPU, prometheus.CounterValue, u.cpu, path)
		metric(descChildRSS, prometheus.GaugeValue, u.rss, path)
	}
	if u.checked {
		metric(descChildHealthy, prometheus.GaugeValue, float64(u.healthy), path)
	}
}

// readStat reads /proc/PID/stat (Linux; an error elsewhere).
func readStat(pid int) (procfs.ProcStat, error) {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return procfs.ProcStat{}, err
	}
	return p.Stat()
}
