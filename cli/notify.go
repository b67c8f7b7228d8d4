package cli

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// notifyTimeout bounds each message to systemd: a service manager that does
// not read its socket must not hold up the tree.
const notifyTimeout = time.Second

// notifier tells the service manager how `otpctl run` is doing, with
// systemd's notify protocol: one datagram of NAME=VALUE lines per message,
// sent to the unixgram socket named by $NOTIFY_SOCKET (a name that starts
// with @ is in the abstract namespace, as Go reads it too). A Type=notify
// unit waits for READY=1 before it counts the service as started. With no
// NOTIFY_SOCKET, it sends nothing.
type notifier struct {
	addr string
	log  *slog.Logger

	mu     sync.Mutex
	failed bool // a message could not be sent: said once, not again
}

// newNotifier reads $NOTIFY_SOCKET and unsets it, as sd_notify's
// unset_environment does: the exec children inherit otpctl's environment,
// and a child that found the variable could tell systemd, as otpctl, that
// the service is ready or stopping.
func newNotifier(log *slog.Logger) *notifier {
	addr := os.Getenv("NOTIFY_SOCKET")
	os.Unsetenv("NOTIFY_SOCKET")
	return &notifier{addr: addr, log: log}
}

// send sends the lines as one message. It never blocks for more than
// notifyTimeout and never fails the tree: the first failure is logged as
// a warning, later ones are not.
func (n *notifier) send(lines ...string) {
	if n == nil || n.addr == "" {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	err := n.write(strings.Join(lines, "\n") + "\n")
	if err != nil && !n.failed {
		n.failed = true
		n.log.Warn("could not notify the service manager (NOTIFY_SOCKET); no further failure is logged",
			"socket", n.addr, "error", err.Error())
	}
}

func (n *notifier) write(msg string) error {
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: n.addr, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetWriteDeadline(time.Now().Add(notifyTimeout)); err != nil {
		return err
	}
	_, err = c.Write([]byte(msg))
	return err
}

// ready says the tree is up and its control socket answers.
func (n *notifier) ready(tree string) {
	n.send("READY=1", fmt.Sprintf("MAINPID=%d", os.Getpid()), "STATUS=tree "+tree+" running")
}

// reloading says a reload began, with the time on the monotonic clock
// that systemd compares with its own (Type=notify-reload requires it).
// The function it returns says the tree is ready again.
func (n *notifier) reloading(tree string) func() {
	var ts unix.Timespec
	usec := int64(0)
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) == nil {
		usec = ts.Nano() / 1000
	}
	n.send("RELOADING=1", fmt.Sprintf("MONOTONIC_USEC=%d", usec), "STATUS=tree "+tree+" reloading")
	return func() { n.ready(tree) }
}

// stopping says the tree is being stopped.
func (n *notifier) stopping(tree string) {
	n.send("STOPPING=1", "STATUS=tree "+tree+" stopping")
}
