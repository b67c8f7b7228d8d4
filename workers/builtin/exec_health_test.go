package builtin_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/workers"
	"github.com/otpctl/otpctl/workers/builtin"
)

// awaitHealth waits (up to 20s) until the worker's health satisfies ok.
func awaitHealth(t *testing.T, tr *tree, what string, ok func(workers.Health) bool) workers.Health {
	t.Helper()
	read := tr.instance().Health
	if read == nil {
		t.Fatal("the instance has no Health")
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		h := read()
		if ok(h) {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("health is %+v, not %s", h, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A python3 http.server child whose health URL is a file: healthy while
// the file is there; once it is removed, the URL answers 404 and after
// `failures` probes the child exits with reason unhealthy: … (its
// supervisor's crash), its process gone.
func TestExecHealthHTTP(t *testing.T) {
	checkNoOrphans(t)
	dir := t.TempDir()
	alive := filepath.Join(dir, "alive")
	if err := os.WriteFile(alive, []byte("ok"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/alive", port)
	tr := mustStartTree(t, execKind, execArgs(t,
		[]string{"python3", "-m", "http.server", strconv.Itoa(port), "--bind", "127.0.0.1", "--directory", dir},
		map[string]any{
			"ready":  map[string]any{"http": url, "timeout": "20s"},
			"health": map[string]any{"http": url, "interval": "50ms", "timeout": "2s", "failures": 2},
		}), treeOpt{restart: runtime.Temporary})
	h := awaitHealth(t, tr, "healthy", func(h workers.Health) bool { return h.Status == "healthy" })
	if h.Last != "ok" || h.Failures != 0 || h.At.IsZero() {
		t.Fatalf("healthy child's health: %+v", h)
	}
	osPid := tr.instance().OSPid

	if err := os.Remove(alive); err != nil {
		t.Fatal(err)
	}
	e := tr.event(runtime.EventExited)
	var ue *builtin.UnhealthyError
	want := "unhealthy: GET " + url + ": 404 File not found"
	if !errors.As(e.Reason, &ue) || e.Reason.Error() != want {
		t.Fatalf("exit reason %v; want %q", e.Reason, want)
	}
	awaitGone(t, osPid)
}

// An exec health check runs in the child's environment and folder; `test
// -f FILE` fails once the test removes FILE, and one failure (failures: 1)
// is enough.
func TestExecHealthCommand(t *testing.T) {
	checkNoOrphans(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "flag"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tr := mustStartTree(t, execKind, execArgs(t, []string{"sleep", "1000"}, map[string]any{
		"dir": dir, "env": map[string]string{"FLAG": "flag"},
		"health": map[string]any{"exec": []string{"sh", "-c", `test -f "$FLAG" || { echo "no $FLAG in $PWD"; exit 1; }`}, "interval": "50ms", "failures": 1},
	}), treeOpt{restart: runtime.Temporary})
	awaitHealth(t, tr, "healthy", func(h workers.Health) bool { return h.Status == "healthy" })
	if err := os.Remove(filepath.Join(dir, "flag")); err != nil {
		t.Fatal(err)
	}
	e := tr.event(runtime.EventExited)
	if got := fmt.Sprint(e.Reason); !strings.HasPrefix(got, "unhealthy: exec sh -c") || !strings.HasSuffix(got, ": exit status 1: no flag in "+dir) {
		t.Fatalf("exit reason %q; want unhealthy: exec sh -c …: exit status 1: no flag in %s", got, dir)
	}
}

// A probe that hangs is bounded by its timeout: its process group is
// killed (no orphan is left) and it counts as a failure.
func TestExecHealthProbeTimeout(t *testing.T) {
	checkNoOrphans(t)
	tr := mustStartTree(t, execKind, execArgs(t, []string{"sleep", "1000"}, map[string]any{
		"health": map[string]any{"exec": []string{"sh", "-c", "sleep 1000 & wait"}, "interval": "50ms", "timeout": "200ms", "failures": 1},
	}), treeOpt{restart: runtime.Temporary})
	e := tr.event(runtime.EventExited)
	if want := "unhealthy: exec sh -c sleep 1000 & wait: no answer within 200ms"; fmt.Sprint(e.Reason) != want {
		t.Fatalf("exit reason %q; want %q", e.Reason, want)
	}
}

// A child without a health check has no Health.
func TestExecHealthNoneWithoutCheck(t *testing.T) {
	tr := mustStartTree(t, execKind, execArgs(t, []string{"sleep", "1000"}, nil), treeOpt{})
	if tr.instance().Health != nil {
		t.Fatal("a child without health has a Health")
	}
}

// ready.exec is ready once the command exits 0: the child writes the
// file the check looks for after a while, and Start returns only then. A
// command that never passes fails the start when the timeout passes.
func TestExecReadyCommand(t *testing.T) {
	checkNoOrphans(t)
	dir := t.TempDir()
	mustStartTree(t, execKind, execArgs(t, []string{"sh", "-c", "sleep 0.3; touch up; exec sleep 1000"}, map[string]any{
		"dir":   dir,
		"ready": map[string]any{"exec": []string{"test", "-f", "up"}, "timeout": "20s"},
	}), treeOpt{})
	if _, err := os.Stat(filepath.Join(dir, "up")); err != nil {
		t.Fatalf("ready before the command passed: %v", err)
	}

	_, err := startTree(t, execKind, execArgs(t, []string{"sleep", "1000"}, map[string]any{
		"ready": map[string]any{"exec": []string{"sh", "-c", "echo not yet; exit 2"}, "timeout": "300ms"},
	}), treeOpt{})
	want := "not ready within 300ms (exec sh -c echo not yet; exit 2): exec sh -c echo not yet; exit 2: exit status 2: not yet"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("start error %v; want %q", err, want)
	}
}

// A ready address that answers before the child starts is held by someone
// else (a stale process): the start fails at once, without running the
// program, rather than pass a check the child did not answer.
func TestExecReadyPortTaken(t *testing.T) {
	checkNoOrphans(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	addr := l.Addr().String()
	dir := t.TempDir()
	for _, check := range []map[string]any{{"tcp": addr}, {"http": "http://" + addr + "/health"}} {
		_, err := startTree(t, execKind, execArgs(t, []string{"touch", "ran"}, map[string]any{"dir": dir, "ready": check}), treeOpt{})
		var pt *builtin.PortTakenError
		want := addr + " already answers before the child started: a stale process holds it"
		if !errors.As(err, &pt) || pt.Error() != want {
			t.Fatalf("ready %v: start error %v; want %q", check, err, want)
		}
		if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
			t.Fatalf("ready %v: the program ran", check)
		}
	}
}

// On the runtime's clock: probes come every interval after readiness;
// failures during start_period do not count; then `failures` in a row
// make the child unhealthy. The probes fail at once (nothing listens).
func TestExecHealthFakeClock(t *testing.T) {
	checkNoOrphans(t)
	clock := runtime.NewFakeClock(time.Unix(1000, 0))
	port := freePort(t)
	tr := mustStartTree(t, execKind, execArgs(t, []string{"sleep", "1000"}, map[string]any{
		"health": map[string]any{"tcp": fmt.Sprintf("127.0.0.1:%d", port), "interval": "10s", "failures": 3, "start_period": "30s"},
	}), treeOpt{clock: clock, restart: runtime.Temporary})
	h := tr.instance().Health()
	if h.Status != "starting" || !h.At.IsZero() {
		t.Fatalf("before any probe: %+v", h)
	}
	// Probes at 10s, 20s (in the start period), 30s, 40s, 50s.
	wantFailures := []int{0, 0, 1, 2}
	for i, want := range wantFailures {
		if !clock.AwaitTimers(1, 10*time.Second) {
			t.Fatalf("probe %d: no timer set", i+1)
		}
		clock.Advance(10 * time.Second)
		at := time.Unix(1000, 0).Add(time.Duration(i+1) * 10 * time.Second)
		h := awaitHealth(t, tr, fmt.Sprintf("probed at %v", at), func(h workers.Health) bool { return h.At.Equal(at) })
		if h.Failures != want || h.Status != "starting" || !strings.Contains(h.Last, "connection refused") {
			t.Fatalf("after probe %d: %+v; want starting with %d failures", i+1, h, want)
		}
	}
	if !clock.AwaitTimers(1, 10*time.Second) {
		t.Fatal("no timer for the last probe")
	}
	clock.Advance(10 * time.Second)
	e := tr.event(runtime.EventExited)
	if !strings.HasPrefix(fmt.Sprint(e.Reason), "unhealthy: dial tcp 127.0.0.1:") {
		t.Fatalf("exit reason %v", e.Reason)
	}
}

// A probe that runs does not hold up the child's stop: the supervisor's
// shutdown is answered at once, and the probe's process group is killed
// with the child.
func TestExecHealthProbeDoesNotBlockStop(t *testing.T) {
	checkNoOrphans(t)
	dir := t.TempDir()
	tr := mustStartTree(t, execKind, execArgs(t, []string{"sleep", "1000"}, map[string]any{
		"dir":    dir,
		"health": map[string]any{"exec": []string{"sh", "-c", "touch probing; exec sleep 1000"}, "interval": "10ms", "timeout": "1h"},
	}), treeOpt{})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "probing")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no probe ran")
		}
		time.Sleep(5 * time.Millisecond)
	}
	tr.stop() // fails the test if the supervisor does not stop within 30s
	if e := tr.event(runtime.EventTerminated); !errors.Is(e.Reason, runtime.Shutdown) {
		t.Fatalf("terminated with %v, want shutdown", e.Reason)
	}
}

// An unhealthy child that ignores its stop_signal is SIGKILLed after its
// grace (5s), and still exits with reason unhealthy: ….
func TestExecUnhealthyIgnoresStopSignal(t *testing.T) {
	checkNoOrphans(t)
	tr := mustStartTree(t, execKind, execArgs(t, []string{"sh", "-c", `trap "" TERM; while :; do sleep 0.05; done`}, map[string]any{
		"health": map[string]any{"exec": []string{"false"}, "interval": "10ms", "failures": 1},
	}), treeOpt{restart: runtime.Temporary})
	osPid := tr.instance().OSPid
	e := tr.event(runtime.EventExited)
	if want := "unhealthy: exec false: exit status 1"; fmt.Sprint(e.Reason) != want {
		t.Fatalf("exit reason %q, want %q", e.Reason, want)
	}
	awaitGone(t, osPid)
}
