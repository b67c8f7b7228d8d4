//go:build linux

package builtin

import (
	"errors"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// The exec children's output pipes are relayed by one goroutine for all of
// them, from an epoll set that Go's poller watches: a child costs no
// goroutine (and no goroutine stack) for its output, and no buffer while it
// writes nothing. The relay reads up to outBurst times from a pipe before it
// serves the others (the set is level-triggered: what is left is reported
// again). It starts with the first pipe and ends with the last, as the
// keeper does.

// outBurst bounds the reads of one pipe in a row.
const outBurst = 16

// outPipe is the read end of one output pipe and where its bytes go.
type outPipe struct {
	id uint64
	r  *relay
	mu sync.Mutex // held while reading and writing, and to close
	fd int        // -1 once closed
	w  io.Writer
	wg *sync.WaitGroup // Done once the pipe is closed
}

// relay is an epoll set and the goroutine that relays its pipes.
type relay struct {
	ep    int
	f     *os.File            // ep, watched by Go's poller
	pipes map[uint64]*outPipe // under outRelays.mu
}

var outRelays struct {
	mu   sync.Mutex
	cur  *relay
	next uint64
}

// openOutPipe makes a pipe whose bytes are relayed to w, and returns it and
// its write end (blocking, as the child's stdout or stderr must be). wg is
// Done once the pipe has ended (the last writer closed it) or been closed.
func openOutPipe(w io.Writer, wg *sync.WaitGroup) (*outPipe, *os.File, error) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		return nil, nil, err
	}
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return nil, nil, err
	}
	p := &outPipe{fd: fds[0], w: w, wg: wg}
	outRelays.mu.Lock()
	r := outRelays.cur
	if r == nil {
		var err error
		if r, err = startRelay(); err != nil {
			outRelays.mu.Unlock()
			unix.Close(fds[0])
			unix.Close(fds[1])
			return nil, nil, err
		}
		outRelays.cur = r
	}
	outRelays.next++
	p.id, p.r = outRelays.next, r
	r.pipes[p.id] = p
	outRelays.mu.Unlock()
	wg.Add(1)
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(p.id), Pad: int32(p.id >> 32)}
	// fds[0], not p.fd: from here on, the relay may close p.
	if err := unix.EpollCtl(r.ep, unix.EPOLL_CTL_ADD, fds[0], &ev); err != nil {
		p.close()
		unix.Close(fds[1])
		return nil, nil, err
	}
	return p, os.NewFile(uintptr(fds[1]), "output"), nil
}

// close stops relaying the pipe and closes it (once a read and write under
// way are over).
func (p *outPipe) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closeLocked()
}

func (p *outPipe) closeLocked() {
	if p.fd < 0 {
		return
	}
	_ = unix.EpollCtl(p.r.ep, unix.EPOLL_CTL_DEL, p.fd, nil)
	unix.Close(p.fd)
	p.fd = -1
	outRelays.mu.Lock()
	delete(p.r.pipes, p.id)
	if len(p.r.pipes) == 0 && outRelays.cur == p.r {
		// The last one: the relay ends (its goroutine returns).
		outRelays.cur = nil
		p.r.f.Close()
	}
	outRelays.mu.Unlock()
	p.wg.Done()
}

// drain relays what the pipe holds, up to outBurst reads, and closes it at
// its end.
func (p *outPipe) drain(buf []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := 0; i < outBurst && p.fd >= 0; i++ {
		n, err := unix.Read(p.fd, buf)
		switch {
		case errors.Is(err, unix.EINTR):
		case errors.Is(err, unix.EAGAIN):
			return
		case n > 0:
			_, _ = p.w.Write(buf[:n])
		default: // the end, or a failed read
			p.closeLocked()
		}
	}
}

// startRelay makes an epoll set and starts its goroutine. outRelays.mu is
// held.
func startRelay() (*relay, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	// Nonblocking, so that Go's poller waits for it.
	if err := unix.SetNonblock(ep, true); err != nil {
		unix.Close(ep)
		return nil, err
	}
	r := &relay{ep: ep, f: os.NewFile(uintptr(ep), "exec-output"), pipes: map[uint64]*outPipe{}}
	rc, err := r.f.SyscallConn()
	if err != nil {
		r.f.Close()
		return nil, err
	}
	go r.run(rc)
	return r, nil
}

func (r *relay) run(rc interface {
	Read(func(fd uintptr) bool) error
}) {
	events := make([]unix.EpollEvent, 64)
	buf := make([]byte, 4096)
	for {
		var n int
		err := rc.Read(func(fd uintptr) bool {
			for {
				var err error
				n, err = unix.EpollWait(int(fd), events, 0)
				if !errors.Is(err, unix.EINTR) {
					// Nothing ready: wait for Go's poller (the set
					// is readable again once a pipe is).
					return err == nil && n > 0
				}
			}
		})
		if err != nil {
			return // closed with its last pipe
		}
		for _, ev := range events[:n] {
			id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			outRelays.mu.Lock()
			p := r.pipes[id]
			outRelays.mu.Unlock()
			if p != nil {
				p.drain(buf)
			}
		}
	}
}
