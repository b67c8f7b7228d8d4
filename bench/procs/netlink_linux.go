package procs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// listener receives the kernel's process events (the netlink proc
// connector) and reports every exec of a command line that contains
// marker. It sees every exec on the machine as it happens: nothing polls.
type listener struct {
	fd     int
	marker string
	execs  chan exec1
	stop   atomic.Bool
	done   chan struct{}
	err    error // set before done closes
}

const (
	cnIdxProc         = 1
	cnValProc         = 1
	procCnMcastListen = 1
	procEventExec     = 0x00000002
	nlmsgHdrLen       = 16
	cnMsgLen          = 20
)

// listen subscribes to the proc connector (root only).
func listen(marker string) (*listener, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_CONNECTOR)
	if err != nil {
		return nil, fmt.Errorf("netlink proc connector: %w", err)
	}
	fail := func(err error) (*listener, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("netlink proc connector: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc, Pid: uint32(os.Getpid())}); err != nil {
		return fail(err)
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 16<<20)
	// A bounded wait, so that close is seen within 100 ms.
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 100_000}); err != nil {
		return fail(err)
	}
	msg := make([]byte, nlmsgHdrLen+cnMsgLen+4)
	le := binary.LittleEndian
	le.PutUint32(msg[0:], uint32(len(msg)))
	le.PutUint16(msg[4:], unix.NLMSG_DONE)
	le.PutUint32(msg[12:], uint32(os.Getpid()))
	le.PutUint32(msg[16:], cnIdxProc)
	le.PutUint32(msg[20:], cnValProc)
	le.PutUint16(msg[32:], 4)
	le.PutUint32(msg[36:], procCnMcastListen)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fail(err)
	}
	l := &listener{fd: fd, marker: marker, execs: make(chan exec1, 1<<16), done: make(chan struct{})}
	go l.loop()
	return l, nil
}

func (l *listener) loop() {
	defer close(l.done)
	buf := make([]byte, 1<<16)
	le := binary.LittleEndian
	for !l.stop.Load() {
		n, _, err := unix.Recvfrom(l.fd, buf, 0)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			l.err = err // ENOBUFS: events were lost
			return
		}
		for b := buf[:n]; len(b) >= nlmsgHdrLen; {
			size := int(le.Uint32(b))
			if size < nlmsgHdrLen || size > len(b) {
				break
			}
			m := b[nlmsgHdrLen:size]
			b = b[(size+3)&^3:]
			if len(m) < cnMsgLen+24 {
				continue
			}
			ev := m[cnMsgLen:]
			if le.Uint32(ev) != procEventExec {
				continue
			}
			when := time.Duration(le.Uint64(ev[8:]))
			pid := int(le.Uint32(ev[16:]))
			if l.marked(pid) {
				l.execs <- exec1{pid: pid, when: when}
			}
		}
	}
}

// marked reports whether pid's command line holds the marker: one read
// per exec event.
func (l *listener) marked(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.Contains(string(b), l.marker)
}

// close ends the subscription.
func (l *listener) close() error {
	l.stop.Store(true)
	<-l.done
	unix.Close(l.fd)
	return l.err
}

// monotonic is CLOCK_MONOTONIC, the clock of the kernel's event times.
func monotonic() time.Duration {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return time.Duration(ts.Nano())
}
