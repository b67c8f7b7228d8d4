package builtin

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/workers"
)

type readyArgs struct {
	TCP     string            `json:"tcp"`
	HTTP    string            `json:"http"`
	Exec    []string          `json:"exec"`
	Log     string            `json:"log"`
	Delay   *workers.Duration `json:"delay"`
	Timeout *workers.Duration `json:"timeout"`
}

// readiness is an exec worker's check of when it has started. A nil
// *readiness is ready as soon as the process runs.
type readiness struct {
	probe   // tcp, http or exec
	log     *regexp.Regexp
	delay   time.Duration
	timeout time.Duration
}

// pollInterval is the time between two tcp, http or exec probes.
const pollInterval = 100 * time.Millisecond

func (a *readyArgs) parse() (*readiness, error) {
	pr, n, err := parseProbe("/ready", a.TCP, a.HTTP, a.Exec)
	if err != nil {
		return nil, err
	}
	r := &readiness{probe: pr, timeout: DefaultReadyTimeout}
	if a.Log != "" {
		n++
		re, err := regexp.Compile(a.Log)
		if err != nil {
			return nil, &workers.ArgError{Pointer: "/ready/log", Message: err.Error()}
		}
		r.log = re
	}
	if a.Delay != nil {
		n++
		r.delay = time.Duration(*a.Delay)
	}
	if n != 1 {
		return nil, &workers.ArgError{Pointer: "/ready", Message: "needs exactly one of tcp, http, exec, log, delay"}
	}
	if a.Timeout != nil {
		r.timeout = time.Duration(*a.Timeout)
	}
	return r, nil
}

// bound is the longest the check can take.
func (r *readiness) bound() time.Duration {
	switch {
	case r == nil:
		return 0
	case !r.probe.set() && r.log == nil:
		return r.delay
	}
	return r.timeout
}

func (r *readiness) logRegexp() *regexp.Regexp {
	if r == nil {
		return nil
	}
	return r.log
}

// String says what is checked, for errors.
func (r *readiness) String() string {
	switch {
	case r.probe.set():
		return r.probe.String()
	case r.log != nil:
		return fmt.Sprintf("log %q", r.log)
	}
	return "delay " + r.delay.String()
}

// wait returns when the worker is ready, or why it never will be: the
// process exited, an exit signal came, or the timeout passed. It runs in the
// worker's Init; sel gives the worker's messages (self's among them).
//
// It keeps real time, not the worker's runtime clock: an OS process starts
// in real time even under a supervisor that tests drive with a FakeClock.
func (r *readiness) wait(p *runtime.Process, self runtime.Subject[execMsg], sel *runtime.Selector[execMsg]) error {
	if r == nil {
		return nil
	}
	deadline := time.Now().Add(r.bound())
	isDelay := !r.probe.set() && r.log == nil
	var lastErr error
	for {
		if r.probe.set() {
			if lastErr = r.try(time.Until(deadline)); lastErr == nil {
				return nil
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			if isDelay {
				return nil
			}
			return r.notReady(lastErr)
		}
		wait := left
		if r.probe.set() {
			wait = min(wait, pollInterval)
		}
		t := time.AfterFunc(wait, func() { self.Send(execMsg{poll: true}) })
		msg, err := sel.Select(p, runtime.Forever)
		t.Stop()
		switch {
		case err != nil:
			return err
		case msg.poll:
			continue
		case msg.exited != nil:
			return fmt.Errorf("exited before it was ready (%v): %w", r, daemonized(msg))
		case msg.trap != nil:
			return msg.trap.Reason
		case msg.ready:
			return nil
		}
	}
}

func (r *readiness) notReady(last error) error {
	if last != nil {
		return fmt.Errorf("not ready within %v (%v): %w", r.timeout, r, last)
	}
	return fmt.Errorf("not ready within %v (%v)", r.timeout, r)
}

// try tries the tcp, http or exec check once, for at most left (and
// 2s).
func (r *readiness) try(left time.Duration) error {
	return r.probe.run(context.Background(), min(max(left, 10*time.Millisecond), 2*time.Second))
}
