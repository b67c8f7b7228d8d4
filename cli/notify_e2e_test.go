package cli

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/otpctl/otpctl/internal/kubemount"
	"github.com/otpctl/otpctl/internal/testrec"
	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/runtime"
)

// fakeSystemd is a NOTIFY_SOCKET: a unixgram socket that records each
// message it receives, as one item.
type fakeSystemd struct {
	addr string
	msgs testrec.Log[string]
}

// listenNotify listens on addr (a path, or @name in the abstract
// namespace) until the end of the test.
func listenNotify(t *testing.T, addr string) *fakeSystemd {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSystemd{addr: addr}
	done := make(chan struct{})
	f.msgs.EndWith(done)
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				return // closed at the end of the test
			}
			f.msgs.Add(string(buf[:n]))
		}
	}()
	t.Cleanup(func() { c.Close(); <-done })
	return f
}

// next waits for the first message at or after index from that has the
// line want, and returns its index.
func (f *fakeSystemd) next(t *testing.T, from int, want string) int {
	t.Helper()
	i, err := f.msgs.Wait(from, e2eTimeout, func(m string) bool { return notifyField(m, want) })
	if err != nil {
		t.Fatalf("no message with %q after #%d: %v; got %q", want, from, err, f.msgs.All())
	}
	return i
}

// notifyField says whether the message m has the line l.
func notifyField(m, l string) bool {
	for _, got := range strings.Split(m, "\n") {
		if got == l {
			return true
		}
	}
	return false
}

// notifyValue is the value of the field key in m, or "".
func notifyValue(m, key string) string {
	for _, l := range strings.Split(m, "\n") {
		if v, ok := strings.CutPrefix(l, key+"="); ok {
			return v
		}
	}
	return ""
}

// notifyTree has a child that prints whether it sees NOTIFY_SOCKET, and a
// second that must be running before READY=1; n changes the second.
func notifyTree(n int) string {
	return fmt.Sprintf(`version: 1
name: unit
supervisor:
  children:
    - name: env
      kind: exec
      shutdown: brutal_kill
      args:
        command: ["sh", "-c", "echo \"notify=[$${NOTIFY_SOCKET-unset}]\"; exec sleep infinity"]
        ready: {log: "notify=", timeout: 20s}
    - name: late
      kind: exec
      shutdown: brutal_kill
      args:
        command: ["sh", "-c", "sleep 0.3; echo up %d; exec sleep infinity"]
        ready: {log: "up", timeout: 20s}
`, n)
}

// TestNotifySystemd runs the real binary as a Type=notify unit would:
// READY=1 comes once every child is running and the socket answers,
// RELOADING=1 and READY=1 frame a reload, STOPPING=1 comes when
// `otpctl shutdown` begins, and the children do not see NOTIFY_SOCKET.
func TestNotifySystemd(t *testing.T) {
	dir := t.TempDir()
	sd := listenNotify(t, filepath.Join(dir, "notify"))
	t.Setenv("NOTIFY_SOCKET", sd.addr) // run inherits it (and the clients, who ignore it)
	file := writeTree(t, dir, "unit.yaml", notifyTree(0))
	r := startRun(t, dir, file, "--no-watch")

	i := sd.next(t, 0, "READY=1")
	m := sd.msgs.At(i)
	if i != 0 || notifyValue(m, "MAINPID") != strconv.Itoa(r.cmd.Process.Pid) || notifyValue(m, "STATUS") != "tree unit running" {
		t.Fatalf("first message #%d %q; want READY=1, MAINPID=%d, STATUS=tree unit running", i, m, r.cmd.Process.Pid)
	}
	// At READY=1 the socket answers and the whole tree is up.
	r.tree().Walk(func(n *live.Node) {
		if n.State != runtime.StateRunning {
			t.Errorf("%s is %s after READY=1", n.Path, n.State)
		}
	})
	r.waitStderr(`"line":"notify=`)
	if !strings.Contains(r.stderr(), `"line":"notify=[unset]"`) {
		t.Fatalf("an exec child sees NOTIFY_SOCKET:\n%s", r.stderr())
	}

	writeTree(t, dir, "unit.yaml", notifyTree(1))
	r.mustCtl("reload")
	j := sd.next(t, i+1, "RELOADING=1")
	usec, err := strconv.ParseInt(notifyValue(sd.msgs.At(j), "MONOTONIC_USEC"), 10, 64)
	if j != i+1 || err != nil || usec <= 0 {
		t.Fatalf("reload: message #%d %q; want RELOADING=1 with MONOTONIC_USEC", j, sd.msgs.At(j))
	}
	if k := sd.next(t, j+1, "READY=1"); k != j+1 {
		t.Fatalf("after the reload: %q", sd.msgs.Since(j+1))
	}

	r.mustCtl("shutdown")
	k := sd.next(t, j+2, "STOPPING=1")
	if code := r.wait(); code != 0 || k != j+2 {
		t.Fatalf("shutdown: status %d, messages %q", code, sd.msgs.Since(j+2))
	}
}

// TestNotifySocketGone: a NOTIFY_SOCKET nobody listens on is said once
// and changes nothing else.
func TestNotifySocketGone(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("NOTIFY_SOCKET", "@otpctl-test-nobody-"+strconv.Itoa(os.Getpid()))
	file := writeTree(t, dir, "unit.yaml", notifyTree(0))
	r := startRun(t, dir, file, "--no-watch")
	r.waitStderr(`"msg":"running"`)
	r.mustCtl("reload")
	r.mustCtl("shutdown")
	if code := r.wait(); code != 0 {
		t.Fatalf("status %d; stderr:\n%s", code, r.stderr())
	}
	if n := strings.Count(r.stderr(), "could not notify the service manager"); n != 1 {
		t.Fatalf("the failure is said %d times, want once; stderr:\n%s", n, r.stderr())
	}
}

// TestRunConfigMapSwap mounts the tree file as the kubelet mounts a
// ConfigMap and updates it as the kubelet does (a new folder, ..data
// swapped): the running instance reloads and restarts the child that
// changed, and only it.
func TestRunConfigMapSwap(t *testing.T) {
	dir := t.TempDir()
	mount := filepath.Join(dir, "config") // dir/otpctl is the socket folder
	v, err := kubemount.Mount(mkdir(t, mount), map[string]string{"tree.yaml": notifyTree(0)})
	if err != nil {
		t.Fatal(err)
	}
	r := startRun(t, dir, filepath.Join(mount, "tree.yaml"))
	r.waitStderr(`"msg":"running"`)
	before := pidsOf(r.tree())
	mark := r.count()
	if err := v.Update(map[string]string{"tree.yaml": notifyTree(1)}); err != nil {
		t.Fatal(err)
	}
	ev, _ := r.nextReload(mark)
	if ev.Event != "reload" || strings.Join(ev.Changed, " ") != "unit/late" {
		t.Fatalf("ConfigMap update: %+v; stderr:\n%s", ev, r.stderr())
	}
	r.waitEvent(mark, "started unit/late reload")
	expectMoved(t, before, pidsOf(r.tree()), "unit/late")
}

func mkdir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestNotifyAbstractSocket: a NOTIFY_SOCKET that starts with @ is in the
// abstract namespace (systemd's own is a path; a container manager's may
// not be).
func TestNotifyAbstractSocket(t *testing.T) {
	sd := listenNotify(t, "@otpctl-test-notify-"+strconv.Itoa(os.Getpid()))
	n := &notifier{addr: sd.addr, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	n.stopping("unit")
	if i := sd.next(t, 0, "STOPPING=1"); notifyValue(sd.msgs.At(i), "STATUS") != "tree unit stopping" {
		t.Fatalf("got %q", sd.msgs.At(i))
	}
}
