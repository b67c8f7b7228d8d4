package builtin

import (
	"context"
	"sync"
	"time"

	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/workers"
)

// The health check's defaults, as Docker's HEALTHCHECK has them (but for
// the timeout, 30s there).
const (
	DefaultHealthInterval = 10 * time.Second
	DefaultHealthTimeout  = 2 * time.Second
	DefaultHealthFailures = 3
)

// unhealthyGrace is how long an unhealthy child has, after its
// stop_signal, to exit before its group is SIGKILLed.
const unhealthyGrace = 5 * time.Second

// The health states of workers.Health.Status.
const (
	healthStarting  = "starting"
	healthHealthy   = "healthy"
	healthUnhealthy = "unhealthy"
)

type healthArgs struct {
	TCP         string            `json:"tcp"`
	HTTP        string            `json:"http"`
	Exec        []string          `json:"exec"`
	Interval    *workers.Duration `json:"interval"`
	Timeout     *workers.Duration `json:"timeout"`
	Failures    *int              `json:"failures"`
	StartPeriod *workers.Duration `json:"start_period"`
}

// healthCheck is an exec worker's check of its health once it is ready.
type healthCheck struct {
	probe
	interval    time.Duration
	timeout     time.Duration
	failures    int
	startPeriod time.Duration
}

func (a *healthArgs) parse() (*healthCheck, error) {
	pr, n, err := parseProbe("/health", a.TCP, a.HTTP, a.Exec)
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, &workers.ArgError{Pointer: "/health", Message: "needs exactly one of tcp, http, exec"}
	}
	h := &healthCheck{probe: pr, interval: DefaultHealthInterval, timeout: DefaultHealthTimeout, failures: DefaultHealthFailures}
	for _, d := range []struct {
		name string
		v    *workers.Duration
		to   *time.Duration
	}{{"interval", a.Interval, &h.interval}, {"timeout", a.Timeout, &h.timeout}} {
		if d.v == nil {
			continue
		}
		if err := positiveArg("/health/"+d.name, *d.v); err != nil {
			return nil, err
		}
		*d.to = time.Duration(*d.v)
	}
	if a.StartPeriod != nil {
		h.startPeriod = time.Duration(*a.StartPeriod)
	}
	if a.Failures != nil {
		if *a.Failures < 1 {
			return nil, &workers.ArgError{Pointer: "/health/failures", Message: "must be at least 1"}
		}
		h.failures = *a.Failures
	}
	return h, nil
}

// UnhealthyError is the exit reason of an exec worker stopped because its
// health check failed `failures` times in a row. Its supervisor treats it
// as a crash.
type UnhealthyError struct {
	// Last is why the last probe failed.
	Last error
}

// Error reads "unhealthy: " and the last probe's error.
func (e *UnhealthyError) Error() string { return "unhealthy: " + e.Last.Error() }

// Unwrap returns the last probe's error.
func (e *UnhealthyError) Unwrap() error { return e.Last }

// healthTracker counts a health check's results, as Docker does: failures
// during the start period (from the child's readiness) do not count until
// a probe has passed; then failures in a row count, and the child is
// unhealthy at the check's `failures`. It is safe for concurrent use (the
// tree's snapshot reads it).
type healthTracker struct {
	check *healthCheck
	since time.Time

	mu       sync.Mutex
	passed   bool // a probe has passed: the start period is over
	status   string
	last     string
	at       time.Time
	failures int
}

func newHealthTracker(check *healthCheck, since time.Time) *healthTracker {
	return &healthTracker{check: check, since: since, status: healthStarting}
}

// observe records the result of a probe that ended at now, and reports
// whether the child has just become unhealthy.
func (h *healthTracker) observe(now time.Time, err error) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.at = now
	if err == nil {
		h.passed, h.status, h.last, h.failures = true, healthHealthy, "ok", 0
		return false
	}
	h.last = err.Error()
	if !h.passed && now.Sub(h.since) < h.check.startPeriod {
		return false
	}
	h.failures++
	if h.failures >= h.check.failures && h.status != healthUnhealthy {
		h.status = healthUnhealthy
		return true
	}
	return false
}

// state is the health as the tree shows it.
func (h *healthTracker) state() workers.Health {
	h.mu.Lock()
	defer h.mu.Unlock()
	return workers.Health{Status: h.status, Last: h.last, At: h.at, Failures: h.failures}
}

// healthProber runs an exec worker's health check: a timer on the
// runtime's clock tells the worker when to probe, each probe runs in a
// goroutine of its own (bounded by the check's timeout) and sends its
// result to the worker, so the worker goes on answering its supervisor
// while a probe runs. One probe at a time.
type healthProber struct {
	*healthTracker
	clock  runtime.Clock
	self   runtime.Subject[execMsg]
	ctx    context.Context
	cancel context.CancelFunc

	mu    sync.Mutex
	timer runtime.Timer
	done  bool
}

// newHealthProber returns the prober of check, or nil for no check.
func newHealthProber(check *healthCheck, clock runtime.Clock, self runtime.Subject[execMsg]) *healthProber {
	if check == nil {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &healthProber{healthTracker: newHealthTracker(check, clock.Now()), clock: clock, self: self, ctx: ctx, cancel: cancel}
}

// start begins the probing: the first probe comes one interval after the
// child was ready.
func (h *healthProber) start() {
	if h == nil {
		return
	}
	h.healthTracker.mu.Lock()
	h.since = h.clock.Now()
	h.healthTracker.mu.Unlock()
	h.schedule()
}

// schedule sets the timer for the next probe.
func (h *healthProber) schedule() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done {
		return
	}
	h.timer = h.clock.AfterFunc(h.check.interval, func() { h.self.Send(execMsg{probe: true}) })
}

// run probes once, in a goroutine, and sends the worker its result.
func (h *healthProber) run() {
	go func() {
		err := h.check.run(h.ctx, h.check.timeout)
		if h.ctx.Err() == nil {
			h.self.Send(execMsg{probed: &probeResult{err: err}})
		}
	}()
}

// stop ends the probing: no timer is left, a running probe is cancelled.
// It runs when the worker exits.
func (h *healthProber) stop() {
	if h == nil {
		return
	}
	h.mu.Lock()
	h.done = true
	if h.timer != nil {
		h.timer.Stop()
	}
	h.mu.Unlock()
	h.cancel()
}

// health returns the function a workers.Instance reads the health with,
// nil without a check.
func (h *healthProber) health() func() workers.Health {
	if h == nil {
		return nil
	}
	return h.state
}

// probeResult is the result of one health probe.
type probeResult struct{ err error }

// onProbe handles the worker's health messages in its loop: time to probe,
// or a probe's result. An unhealthy child is sent its stop_signal and
// given unhealthyGrace to exit.
func (st *execState) onProbe(msg execMsg) {
	h := st.health
	switch {
	case h == nil || st.stopping != nil:
	case msg.probe:
		h.run()
	case msg.probed != nil:
		if !h.observe(h.clock.Now(), msg.probed.err) {
			h.schedule()
			return
		}
		st.stopping = &UnhealthyError{Last: msg.probed.err}
		st.os.signal(st.stop)
		self := h.self
		st.grace = time.AfterFunc(unhealthyGrace, func() { self.Send(execMsg{graceOver: true}) })
	}
}

// The schemas of a check's tcp and http members, and of a command probe;
// the ready and health checks share them.
const (
	tcpSchema  = `{"type": "string", "pattern": "^(\\[[0-9A-Fa-f:.]+\\]|[^\\s:\\[\\]]*):[0-9A-Za-z-]+$", "x-message": "must be host:port, such as 127.0.0.1:5432 or :8080", "description": "host:port that accepts a connection"}`
	httpSchema = `{"type": "string", "pattern": "^https?://[^\\s]+$", "x-message": "must be an http:// or https:// URL, such as http://127.0.0.1:8080/health", "description": "a URL that answers GET with 2xx or 3xx"}`
)

func probeCommandSchema(desc string) string {
	return `{"type": "array", "items": {"type": "string"}, "minItems": 1, "prefixItems": [{"minLength": 1}], "x-message": "must name a program: [prog, arg, ...]", "description": "` + desc + `"}`
}

var healthSchema = `{
      "type": "object",
      "additionalProperties": false,
      "description": "probes the process once it is ready; after failures probes in a row fail, it is stopped with reason unhealthy: … (a crash to its supervisor); exactly one of tcp, http, exec",
      "properties": {
        "tcp": ` + tcpSchema + `,
        "http": ` + httpSchema + `,
        "exec": ` + probeCommandSchema("a command run in the child's environment and folder that exits 0 when it is healthy") + `,
        "interval": ` + positiveDurationSchema(`"10s"`, "time between the end of a probe and the next (the first comes this long after the process is ready)") + `,
        "timeout": ` + positiveDurationSchema(`"2s"`, "how long a probe may take before it counts as failed (a command probe's process group is killed)") + `,
        "failures": {"type": "integer", "minimum": 1, "default": 3, "x-message": "must be a whole number, at least 1", "description": "failed probes in a row that make the process unhealthy"},
        "start_period": ` + durationSchema(`"0s"`, "after readiness, failures do not count for this long, until a probe passes (Docker's start period)") + `
      },
      "oneOf": [
        {"required": ["tcp"]},
        {"required": ["http"]},
        {"required": ["exec"]}
      ]
    }`
