//go:build linux

package builtin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/otpctl/otpctl/internal/keeper"
	"golang.org/x/sys/unix"
)

// The otpctl side of the keeper (see internal/keeper). One keeper serves
// every exec child of this process: it is started with the first child and
// told to go (its socket is shut) when the last one is gone, so a program
// without exec children runs none.

// errKeeperDied is the exit reason of the exec children of a keeper that
// died (someone killed it): their processes died with it.
var errKeeperDied = errors.New("exec: otpctl's keeper process died")

// keeperConn is a running keeper and this process's end of its socket.
type keeperConn struct {
	fd     int
	pid    int
	marker string
	gone   chan struct{} // closed once the keeper has been reaped

	wmu  sync.Mutex // one send at a time
	rbuf []byte     // recv's

	// Under keepers.mu:
	refs   int
	nextID int
	kids   map[int]*keptChild
	dead   bool // its socket was shut or read EOF
}

// keptChild is an exec child as its osProc waits for it.
type keptChild struct {
	reply  chan keeper.Msg // the spawn's answer (buffered)
	exited func(keeper.Msg)
	pid    int
}

// osLink is how an osProc reaches its process: through the keeper.
type osLink struct {
	kc *keeperConn
	id int
}

var keepers struct {
	mu  sync.Mutex
	cur *keeperConn
}

// acquireKeeper returns the running keeper, starting one if there is none,
// and a new child id on it, registered with k.
func acquireKeeper(k *keptChild) (*keeperConn, int, error) {
	keepers.mu.Lock()
	defer keepers.mu.Unlock()
	kc := keepers.cur
	if kc == nil || kc.dead {
		var err error
		if kc, err = startKeeper(); err != nil {
			return nil, 0, err
		}
		keepers.cur = kc
	}
	kc.refs++
	kc.nextID++
	kc.kids[kc.nextID] = k
	return kc, kc.nextID, nil
}

// release drops a child of kc; the last one shuts the keeper's socket, and
// the keeper exits.
func (kc *keeperConn) release(id int) {
	keepers.mu.Lock()
	defer keepers.mu.Unlock()
	delete(kc.kids, id)
	kc.refs--
	if kc.refs == 0 && !kc.dead {
		kc.dead = true
		if keepers.cur == kc {
			keepers.cur = nil
		}
		_ = unix.Shutdown(kc.fd, unix.SHUT_RDWR)
	}
}

// keeperStartTimeout bounds how long a new keeper takes to say hello.
const keeperStartTimeout = 10 * time.Second

func startKeeper() (*keeperConn, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("exec: keeper socket: %w", err)
	}
	theirs := os.NewFile(uintptr(fds[1]), "keeper")
	cmd := exec.Command("/proc/self/exe")
	cmd.Args = []string{"otpctl-keeper"}
	// GOGC: the keeper's live heap is small and its garbage a few KB per
	// spawn, so collecting early costs little (its children get their
	// environment from otpctl, not from it).
	cmd.Env = append(os.Environ(), keeper.Env+"=1", "GOGC=25")
	cmd.ExtraFiles = []*os.File{theirs}
	forks.gate.RLock()
	err = cmd.Start()
	if err == nil {
		addFork(cmd.Process.Pid)
	}
	forks.gate.RUnlock()
	theirs.Close()
	if err != nil {
		unix.Close(fds[0])
		return nil, fmt.Errorf("exec: starting the keeper: %w", err)
	}
	kc := &keeperConn{fd: fds[0], pid: cmd.Process.Pid, gone: make(chan struct{}), kids: map[int]*keptChild{}}
	go func() {
		_ = cmd.Wait()
		dropFork(kc.pid)
		recordKeeper(kc.pid, "", false)
		close(kc.gone)
	}()
	tv := unix.NsecToTimeval(keeperStartTimeout.Nanoseconds())
	_ = unix.SetsockoptTimeval(kc.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	hello, err := kc.recv()
	if err == nil && hello.Marker == "" {
		err = errors.New("no hello")
	}
	if err != nil {
		_ = unix.Shutdown(kc.fd, unix.SHUT_RDWR)
		_ = cmd.Process.Kill()
		<-kc.gone
		unix.Close(kc.fd)
		return nil, fmt.Errorf("exec: the keeper did not start: %w", err)
	}
	tv = unix.Timeval{}
	_ = unix.SetsockoptTimeval(kc.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	kc.marker = hello.Marker
	recordKeeper(kc.pid, kc.marker, true)
	go kc.read()
	return kc, nil
}

// recv reads the keeper's next message (from one goroutine at a time:
// startKeeper's, then read's).
func (kc *keeperConn) recv() (keeper.Msg, error) {
	if kc.rbuf == nil {
		kc.rbuf = make([]byte, 4096)
	}
	buf := kc.rbuf
	for {
		n, _, _, _, err := unix.Recvmsg(kc.fd, buf, nil, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return keeper.Msg{}, err
		}
		if n == 0 {
			return keeper.Msg{}, io.EOF
		}
		var m keeper.Msg
		err = json.Unmarshal(buf[:n], &m)
		return m, err
	}
}

func (kc *keeperConn) send(m keeper.Msg, fds ...int) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if len(b) > keeper.MaxMsg {
		return fmt.Errorf("exec: command and environment take %d bytes, more than %d", len(b), keeper.MaxMsg)
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	kc.wmu.Lock()
	defer kc.wmu.Unlock()
	for {
		err := unix.Sendmsg(kc.fd, b, oob, nil, unix.MSG_NOSIGNAL)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// read dispatches the keeper's messages until its socket ends; a keeper
// that ends while children remain has died: they fail with errKeeperDied.
func (kc *keeperConn) read() {
	for {
		m, err := kc.recv()
		if err != nil {
			break
		}
		keepers.mu.Lock()
		k := kc.kids[m.ID]
		var exited func(keeper.Msg)
		if k != nil {
			if m.Pid > 0 {
				k.pid = m.Pid
			}
			exited = k.exited
		}
		keepers.mu.Unlock()
		switch {
		case k == nil:
		case m.Exited:
			go exited(m)
		default:
			k.reply <- m
		}
	}
	keepers.mu.Lock()
	kc.dead = true
	if keepers.cur == kc {
		keepers.cur = nil
	}
	left := make([]*keptChild, 0, len(kc.kids))
	for _, k := range kc.kids {
		left = append(left, k)
	}
	keepers.mu.Unlock()
	if len(left) > 0 {
		// It died (killed): what it kept that is still alive came to
		// this process if it is a subreaper (otpctl run is), or to PID 1.
		killMarked(kc.marker + "/")
	}
	for _, k := range left {
		select {
		case k.reply <- keeper.Msg{Err: errKeeperDied.Error()}:
		default:
		}
		keepers.mu.Lock()
		started, exited := k.pid > 0, k.exited
		keepers.mu.Unlock()
		if started {
			go exited(keeper.Msg{Exited: true, Status: -1})
		}
	}
	<-kc.gone
	unix.Close(kc.fd)
}

// pipeWait bounds how long the output pipes are read after the process
// exited and its set was killed (os/exec's WaitDelay before).
const pipeWait = 2 * time.Second

// forkAndWait has the keeper start cmd and returns its pid; done is called,
// on another goroutine, once the process has exited and been reaped (after
// the keeper killed whatever was left of its set, see keeper.killSet), with
// its exit reason and how many processes of its set still ran then.
func (o *osProc) forkAndWait(cmd *exec.Cmd, done func(reason error, left int)) (int, error) {
	if cmd.Err != nil {
		return 0, cmd.Err
	}
	stdin, err := os.Open(os.DevNull)
	if err != nil {
		return 0, err
	}
	defer stdin.Close()
	var copies sync.WaitGroup
	outR, outW, err := openOutPipe(cmd.Stdout, &copies)
	if err != nil {
		return 0, err
	}
	errR, errW, err := openOutPipe(cmd.Stderr, &copies)
	if err != nil {
		outR.close()
		outW.Close()
		return 0, err
	}
	closeReaders := func() {
		outR.close()
		errR.close()
		copies.Wait()
	}

	k := &keptChild{reply: make(chan keeper.Msg, 1)}
	kc, id, err := acquireKeeper(k)
	if err != nil {
		outW.Close()
		errW.Close()
		closeReaders()
		return 0, err
	}
	exited := func(m keeper.Msg) {
		o.mu.Lock()
		o.exited = true
		o.mu.Unlock()
		t := time.NewTimer(pipeWait)
		waited := make(chan struct{})
		go func() { copies.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-t.C:
		}
		t.Stop()
		closeReaders()
		o.mu.Lock()
		recordChild(o.pid, nil, false)
		o.mu.Unlock()
		kc.release(id)
		close(o.reaped)
		if m.Status == -1 {
			done(errKeeperDied, 0)
			return
		}
		done(waitReason(syscall.WaitStatus(m.Status)), m.Left)
	}
	keepers.mu.Lock() // read() reads it under the lock
	k.exited = exited
	keepers.mu.Unlock()
	err = kc.send(keeper.Msg{Op: "spawn", ID: id, Path: cmd.Path, Argv: cmd.Args, Env: cmd.Environ(), Dir: cmd.Dir, Attr: o.attr},
		int(stdin.Fd()), int(outW.Fd()), int(errW.Fd()))
	outW.Close()
	errW.Close()
	var reply keeper.Msg
	if err == nil {
		reply = <-k.reply
		if reply.Err != "" {
			err = errors.New(reply.Err)
		}
	}
	if err != nil {
		closeReaders()
		kc.release(id)
		return 0, err
	}
	recordChild(reply.Pid, cmd.Args, true)
	o.mu.Lock()
	o.pid = reply.Pid
	o.link = osLink{kc: kc, id: id}
	if o.doomed {
		o.signalGroup(syscall.SIGKILL)
	}
	o.mu.Unlock()
	return reply.Pid, nil
}

// signalGroup sends sig to the process's group through the keeper; SIGKILL
// kills its whole set (group, descendants, orphans). o.mu is held.
func (o *osProc) signalGroup(sig syscall.Signal) {
	if o.link.kc != nil {
		_ = o.link.kc.send(keeper.Msg{Op: "signal", ID: o.link.id, Sig: int(sig)})
	}
}

// killMarked SIGKILLs, until none is left (for up to reapWait), the
// processes of this user that carry a keeper.ChildEnv marker with prefix: the
// orphans of a keeper that died.
func killMarked(prefix string) {
	deadline := time.Now().Add(reapWait)
	for {
		pids := markedProcs([]string{prefix})
		if len(pids) == 0 || time.Now().After(deadline) {
			return
		}
		for _, pid := range pids {
			_ = unix.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(time.Millisecond)
	}
}
