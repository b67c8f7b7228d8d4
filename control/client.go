package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/otpctl/otpctl/live"
)

// Client talks to a running instance's control socket.
type Client struct {
	Socket string
	http   *http.Client
}

// NewClient returns a client for the socket at path. Before each
// connection it checks the socket and its folder as CheckSocket does, and
// refuses one that another user could have put there.
func NewClient(socket string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			if err := CheckSocket(socket); err != nil {
				return nil, &untrusted{err}
			}
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
	}
	return &Client{Socket: socket, http: &http.Client{Transport: tr}}
}

// ErrNotRunning is returned when no instance answers on the socket.
var ErrNotRunning = errors.New("no otpctl instance is running")

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		if e := checkFields(body); e != nil {
			return e // refused here as the server would, without sending it
		}
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	status, data, err := c.roundTrip(ctx, method, path, rd)
	if err != nil {
		return err
	}
	if status >= 300 {
		return errorOf(status, data)
	}
	if out == nil {
		return nil
	}
	if raw, ok := out.(*json.RawMessage); ok {
		*raw = bytes.TrimSpace(data)
		return nil
	}
	return json.Unmarshal(data, out)
}

// roundTrip sends one request and returns the status and body of its
// answer.
func (c *Client) roundTrip(ctx context.Context, method, path string, body io.Reader) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://otpctl"+path, body)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, c.connError(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, data, nil
}

// errorOf is the *Error of an answer with status (300 or more) and body
// data.
func errorOf(status int, data []byte) *Error {
	e := &Error{Status: status}
	if json.Unmarshal(data, e) != nil || e.Message == "" {
		e.Code, e.Message = CodeInternal, fmt.Sprintf("%d %s: %s", status, http.StatusText(status), strings.TrimSpace(string(data)))
	}
	return e
}

// untrusted is CheckSocket's refusal, as the client's dial fails with it.
type untrusted struct{ err error }

func (u *untrusted) Error() string { return u.err.Error() }
func (u *untrusted) Unwrap() error { return u.err }

func (c *Client) connError(err error) error {
	var u *untrusted
	if errors.As(err, &u) {
		return u.err
	}
	if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("%w at %s (start one with `otpctl run FILE`, or pick it with --name or --socket)", ErrNotRunning, c.Socket)
	}
	return fmt.Errorf("control socket %s: %w", c.Socket, err)
}

// Tree returns the live tree.
func (c *Client) Tree(ctx context.Context) (*live.Node, error) {
	var n live.Node
	if err := c.do(ctx, "GET", "/v1/tree", nil, &n); err != nil {
		return nil, err
	}
	return &n, nil
}

// Kill makes the process at path exit with reason ("" means killed).
func (c *Client) Kill(ctx context.Context, path, reason string) error {
	return c.do(ctx, "POST", "/v1/kill", KillRequest{path, reason}, nil)
}

// Stop terminates the child at path.
func (c *Client) Stop(ctx context.Context, path string) error {
	return c.do(ctx, "POST", "/v1/stop", PathRequest{path}, nil)
}

// Start starts the stopped child at path, or a new child of the dynamic
// supervisor at path.
func (c *Client) Start(ctx context.Context, req StartRequest) (StartReply, error) {
	var rep StartReply
	err := c.do(ctx, "POST", "/v1/start", req, &rep)
	return rep, err
}

// Restart stops and starts the child at path.
func (c *Client) Restart(ctx context.Context, path string) (StartReply, error) {
	var rep StartReply
	err := c.do(ctx, "POST", "/v1/restart", PathRequest{path}, &rep)
	return rep, err
}

// Call sends request to the actor worker at path and returns its reply.
func (c *Client) Call(ctx context.Context, path string, request json.RawMessage, timeout time.Duration) (json.RawMessage, error) {
	var rep json.RawMessage
	req := CallRequest{Path: path, Request: request}
	if timeout > 0 {
		req.Timeout = timeout.String()
	}
	err := c.do(ctx, "POST", "/v1/call", req, &rep)
	return rep, err
}

// Reload reloads the tree files and returns the plan applied.
func (c *Client) Reload(ctx context.Context) (ReloadReply, error) {
	var rep ReloadReply
	err := c.do(ctx, "POST", "/v1/reload", nil, &rep)
	return rep, err
}

// Shutdown asks the instance to stop its tree and exit.
func (c *Client) Shutdown(ctx context.Context) error {
	return c.do(ctx, "POST", "/v1/shutdown", nil, nil)
}

// Health asks GET /healthz, or with ready GET /readyz, and returns the
// answer: Status is HealthOK when the instance is up (or every node is
// ready), else why not (HealthStopping, or HealthNotReady with the nodes
// that are not). An error means no such answer came (no instance, or
// another status).
func (c *Client) Health(ctx context.Context, ready bool) (HealthReply, error) {
	path := "/healthz"
	if ready {
		path = "/readyz"
	}
	var rep HealthReply
	status, data, err := c.roundTrip(ctx, "GET", path, nil)
	if err != nil {
		return rep, err
	}
	if status != http.StatusOK && status != http.StatusServiceUnavailable {
		return rep, errorOf(status, data)
	}
	if err := json.Unmarshal(data, &rep); err != nil || rep.Status == "" {
		return rep, errorOf(status, data)
	}
	return rep, nil
}

// Wait blocks until the node at path is in state, or timeout passes (an
// *Error with CodeTimeout). A path the tree does not have is an *Error with
// CodeNotFound at once, unless absentOK (a reload may add it).
func (c *Client) Wait(ctx context.Context, path, state string, timeout time.Duration, absentOK bool) (*live.Node, error) {
	q := url.Values{"path": {path}, "state": {state}, "timeout": {timeout.String()}}
	for _, name := range []string{"path", "state"} {
		if e := fieldError(name, q.Get(name)); e != nil {
			return nil, e
		}
	}
	if absentOK {
		q.Set("absent_ok", "1")
	}
	var n live.Node
	if err := c.do(ctx, "GET", "/v1/wait?"+q.Encode(), nil, &n); err != nil {
		return nil, err
	}
	return &n, nil
}

// Events calls f for each logged event after since and, with follow, for
// each later one until ctx ends or the instance stops. A stream the server
// cut off (the reader fell behind, or stalled) ends with an *Error of
// CodeSlowFollower; one that ends without its end (a lost connection) with
// an error too.
func (c *Client) Events(ctx context.Context, since uint64, follow bool, f func(live.Event) error) error {
	q := url.Values{"since": {fmt.Sprint(since)}}
	if follow {
		q.Set("follow", "1")
	}
	return c.stream(ctx, "/v1/events?"+q.Encode(), "event stream", func(line []byte) error {
		var e live.Event
		if err := json.Unmarshal(line, &e); err != nil {
			return fmt.Errorf("event stream: %w", err)
		}
		return f(e)
	})
}

// Logs calls f for each kept output line of path (a worker, or every worker
// under a supervisor, merged in time order) that q selects (see
// control.LogQuery; q.After is ignored, q.N of 0 is DefaultLogRead) and,
// with follow, for each later one until ctx ends or the instance stops.
// A path the tree does not have is a not_found *Error.
func (c *Client) Logs(ctx context.Context, q LogQuery, follow bool, f func(LogLine) error) error {
	v := url.Values{"path": {q.Path}}
	if q.N > 0 {
		v.Set("n", fmt.Sprint(q.N))
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.Format(time.RFC3339Nano))
	}
	if follow {
		v.Set("follow", "1")
	}
	return c.stream(ctx, "/v1/logs?"+v.Encode(), "log stream", func(line []byte) error {
		var l LogLine
		if err := json.Unmarshal(line, &l); err != nil {
			return fmt.Errorf("log stream: %w", err)
		}
		return f(l)
	})
}

// stream reads the JSON lines of GET path, calling f with each, until the
// stream ends or ctx does. An error answer, or a last line saying why the
// server cut the stream off, is an *Error; what names the stream in other
// errors.
func (c *Client) stream(ctx context.Context, path, what string, f func([]byte) error) error {
	req, err := http.NewRequestWithContext(ctx, "GET", "http://otpctl"+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.connError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes))
		e := &Error{Status: resp.StatusCode}
		json.Unmarshal(data, e)
		return e
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		if bytes.HasPrefix(sc.Bytes(), []byte(`{"error":`)) {
			// The server's last line: why it cut the stream off.
			e := &Error{}
			if err := json.Unmarshal(sc.Bytes(), e); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			return e
		}
		if err := f(sc.Bytes()); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return sc.Err()
}
