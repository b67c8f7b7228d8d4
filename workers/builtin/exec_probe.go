package builtin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/workers"
)

// probe is one check of an exec child: a tcp connect, an http GET or a
// command. The ready and health checks share it.
type probe struct {
	tcp  string
	http string
	cmd  []string
	// env and dir are the child's: a command probe runs where the child
	// runs.
	env []string
	dir string
}

// parseProbe checks the tcp, http and exec members of a check object at
// pointer ("/ready", "/health"); n counts those set.
func parseProbe(pointer, tcp, httpURL string, cmd []string) (p probe, n int, err error) {
	p = probe{tcp: tcp, http: httpURL, cmd: cmd}
	if tcp != "" {
		n++
		if _, _, err := net.SplitHostPort(tcp); err != nil {
			return p, n, &workers.ArgError{Pointer: pointer + "/tcp", Message: err.Error()}
		}
	}
	if httpURL != "" {
		n++
		u, err := url.Parse(httpURL)
		if err != nil {
			return p, n, &workers.ArgError{Pointer: pointer + "/http", Message: err.Error()}
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return p, n, &workers.ArgError{Pointer: pointer + "/http", Message: fmt.Sprintf("%q is not an http:// or https:// URL", httpURL)}
		}
	}
	if cmd != nil {
		n++
		if len(cmd) == 0 || cmd[0] == "" {
			return p, n, &workers.ArgError{Pointer: pointer + "/exec", Message: `must name a program: ["prog", "arg", ...]`}
		}
		var nuls []error
		for i, arg := range cmd {
			nuls = noNUL(nuls, arg, strings.TrimPrefix(pointer, "/"), "exec", i)
		}
		if len(nuls) > 0 {
			return p, n, errors.Join(nuls...)
		}
	}
	return p, n, nil
}

// set reports whether the probe checks anything.
func (p *probe) set() bool { return p.tcp != "" || p.http != "" || p.cmd != nil }

// String says what is checked, for errors.
func (p *probe) String() string {
	switch {
	case p.tcp != "":
		return "tcp " + p.tcp
	case p.http != "":
		return "http " + p.http
	}
	return "exec " + strings.Join(p.cmd, " ")
}

// run tries the check once, for at most timeout (or until ctx ends): nil
// when it passed, else why not.
func (p *probe) run(ctx context.Context, timeout time.Duration) error {
	switch {
	case p.tcp != "":
		d := net.Dialer{Timeout: timeout}
		c, err := d.DialContext(ctx, "tcp", p.tcp)
		if err != nil {
			return err
		}
		return c.Close()
	case p.http != "":
		client := &http.Client{
			Timeout:       timeout,
			Transport:     &http.Transport{DisableKeepAlives: true, Proxy: nil},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.http, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode >= 400 {
			return fmt.Errorf("GET %s: %s", p.http, resp.Status)
		}
		return nil
	}
	return p.runCommand(ctx, timeout)
}

// probeOutput is how much of a command probe's output its error keeps.
const probeOutput = 200

// runCommand runs the command probe, in the child's environment and
// folder, as an exec child runs (through the keeper on Linux, in a process
// group of its own): when the timeout passes, its whole group is killed.
// Exit status 0 passes; another fails with the status and the end of what
// it wrote. When ctx ends first, the group is killed too.
func (p *probe) runCommand(ctx context.Context, timeout time.Duration) error {
	cmd := exec.Command(p.cmd[0], p.cmd[1:]...)
	cmd.Env, cmd.Dir = p.env, p.dir
	out := &tailBuffer{max: probeOutput}
	cmd.Stdout, cmd.Stderr = out, out
	o := &osProc{reaped: make(chan struct{})}
	done := make(chan error, 1)
	if _, err := o.forkAndWait(cmd, func(reason error, _ int) { done <- reason }); err != nil {
		return err
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	var err error
	select {
	case err = <-done:
	case <-t.C:
		killProbe(o, done)
		return fmt.Errorf("%s: no answer within %v", p, timeout)
	case <-ctx.Done():
		killProbe(o, done)
		return ctx.Err()
	}
	if err == nil || errors.Is(err, runtime.Normal) {
		return nil
	}
	if s := strings.TrimSpace(out.String()); s != "" {
		return fmt.Errorf("%s: %w: %s", p, err, s)
	}
	return fmt.Errorf("%s: %w", p, err)
}

// killProbe kills a command probe's group and waits, up to reapWait, for
// its end.
func killProbe(o *osProc, done <-chan error) {
	o.kill()
	t := time.NewTimer(reapWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

// answersAlready reports, as an error, that the tcp or http address of a
// ready check answers before the child has started: whatever answers is
// not the child (a stale process holds the port), and a check it passed
// would lie. Nil when nothing answers, or for another check.
func (p *probe) answersAlready() error {
	addr := p.tcp
	if p.http != "" {
		u, err := url.Parse(p.http)
		if err != nil {
			return nil
		}
		addr = u.Host
		if u.Port() == "" {
			port := "80"
			if u.Scheme == "https" {
				port = "443"
			}
			addr = net.JoinHostPort(u.Hostname(), port)
		}
	}
	if addr == "" {
		return nil
	}
	c, err := net.DialTimeout("tcp", addr, staleDialTimeout)
	if err != nil {
		return nil
	}
	c.Close()
	return &PortTakenError{Addr: addr}
}

// staleDialTimeout bounds the look for a stale process on a ready address.
const staleDialTimeout = 500 * time.Millisecond

// PortTakenError is the start error of an exec child whose tcp or http
// ready address already answered before its program started.
type PortTakenError struct{ Addr string }

// Error reads "127.0.0.1:18080 already answers before the child started: a
// stale process holds it".
func (e *PortTakenError) Error() string {
	return e.Addr + " already answers before the child started: a stale process holds it"
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.ToValidUTF8(t.b, nil))
}
