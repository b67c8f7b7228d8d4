//go:build linux

package keeper

import (
	"encoding/json"
	"errors"
	"os"
	"os/signal"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// The keeper is the parent of every exec worker's OS process: a re-exec of
// the running binary (/proc/self/exe), entered from this package's init when
// Env is set, so it works in otpctl, in programs that embed its kinds
// and in test binaries alike. It is a child subreaper, so whatever an exec
// child leaves behind (background jobs, setsid'd and double-forked daemons,
// programs under setpriv or runuser) is re-parented to it, never to PID 1.
// When otpctl goes away, even by SIGKILL, the keeper reads EOF on its socket,
// SIGKILLs every process below it, reaps them and exits.
//
// otpctl talks to it over a SOCK_SEQPACKET socketpair (fd 3 in the keeper),
// one JSON message per packet; a spawn carries the child's stdin, stdout
// and stderr with SCM_RIGHTS.
//
// Env is the variable that makes the binary the keeper.
const Env = "OTPCTL_KEEPER"

// ChildEnv is set in every exec child's environment to MARKER/ID: a process
// re-parented to the keeper no longer shows whose it was, but it still
// carries the variable it inherited.
const ChildEnv = "OTPCTL_CHILD"

// Msg is one message between otpctl and its keeper.
type Msg struct {
	Op   string   `json:"op,omitempty"`   // to the keeper: spawn, signal
	ID   int      `json:"id,omitempty"`   // the exec child
	Path string   `json:"path,omitempty"` // spawn: the program
	Argv []string `json:"argv,omitempty"` // spawn
	Env  []string `json:"env,omitempty"`  // spawn
	Dir  string   `json:"dir,omitempty"`  // spawn
	// Attr, on a spawn, is what the start helper applies (user, umask,
	// limits): helper_linux.go.
	Attr *Attr `json:"attr,omitempty"`
	Sig  int   `json:"sig,omitempty"` // signal: SIGKILL kills the child's whole set

	Marker string `json:"marker,omitempty"` // from the keeper, first: its marker
	Pid    int    `json:"pid,omitempty"`    // from the keeper: spawned
	Err    string `json:"err,omitempty"`    // from the keeper: the spawn failed
	Exited bool   `json:"exited,omitempty"` // from the keeper: the child was reaped
	Status int    `json:"status,omitempty"` // its wait status
	Left   int    `json:"left,omitempty"`   // processes of its set still running when it exited
}

// MaxMsg bounds one message (a spawn's argv and env).
const MaxMsg = 1 << 20

func init() {
	if os.Getenv(Env) == "" {
		return
	}
	// syscall.Exit, not os.Exit: nothing to flush, and a race-detector
	// build would sleep a second on its way out.
	syscall.Exit(keeperMain(3))
}

// kept is an exec child of the keeper.
type kept struct {
	id, pid int
	marker  string // its ChildEnv value
}

type keeper struct {
	// mu is held while a request is handled and while exits are reaped:
	// a child is in kids before its exit can be looked at.
	mu     sync.Mutex
	fd     int
	self   int
	marker string
	kids   map[int]*kept // by pid
	byID   map[int]*kept // the same, by id
	cbuf   []byte        // ownChildren's
}

func keeperMain(fd int) int {
	// Fork from the main thread only, which lives as long as the keeper:
	// the children's parent-death signal (SIGKILL) then fires when the
	// keeper dies, and only then.
	goruntime.LockOSThread()
	syscall.CloseOnExec(fd) // the children must not hold the socket
	if err := prctl(prSetChildSubreaper, 1); err != nil {
		return 1
	}
	// Terminal signals, and a SIGTERM to the whole process group (the
	// keeper shares otpctl's: `kill -- -PGID`, `timeout`, a systemd unit
	// that signals every process), are caught and dropped, not ignored: an
	// ignored signal would stay ignored in the children. otpctl has the
	// same signal and stops the tree in order, each child with its
	// stop_signal and shutdown time; the keeper kills what is left only
	// once otpctl is gone (its socket closes).
	signal.Notify(make(chan os.Signal, 1), syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGPIPE, syscall.SIGTERM)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGCHLD)
	k := &keeper{fd: fd, self: os.Getpid(), kids: map[int]*kept{}, byID: map[int]*kept{}}
	start, _ := ProcStart(k.self)
	k.marker = strconv.Itoa(k.self) + "." + strconv.FormatUint(start, 10)
	if k.send(Msg{Marker: k.marker}, nil) != nil {
		return 1
	}
	// The main thread reads otpctl's requests and forks; SIGCHLD is
	// handled by a goroutine of its own, under k.mu as the requests are: a
	// spawn goes from the socket to the fork with no hand-off between
	// threads.
	go func() {
		for range sigs {
			k.mu.Lock()
			k.reap()
			k.mu.Unlock()
		}
	}()
	// The buffer of the largest message is mapped, not allocated: only
	// the pages a message reaches are ever touched, and the collector
	// does not count it.
	buf, err := syscall.Mmap(-1, 0, MaxMsg, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return 1
	}
	oob := make([]byte, syscall.CmsgSpace(3*4))
	for {
		n, oobn, _, _, err := syscall.Recvmsg(fd, buf, oob, syscall.MSG_CMSG_CLOEXEC)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil || n == 0 {
			// otpctl is gone.
			k.mu.Lock()
			k.killAll()
			return 0
		}
		var fds []int
		if cms, err := syscall.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for i := range cms {
				if f, err := syscall.ParseUnixRights(&cms[i]); err == nil {
					fds = append(fds, f...)
				}
			}
		}
		var m Msg
		if json.Unmarshal(buf[:n], &m) != nil {
			closeFds(fds)
			continue
		}
		k.mu.Lock()
		k.handle(m, fds)
		k.mu.Unlock()
	}
}

// withoutVar returns env without key (a marker inherited from an otpctl
// that runs this one must not stand for this one's).
func withoutVar(env []string, key string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}

func closeFds(fds []int) {
	for _, f := range fds {
		_ = syscall.Close(f)
	}
}

func (k *keeper) send(m Msg, oob []byte) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	for {
		_, err := syscall.SendmsgN(k.fd, b, oob, nil, syscall.MSG_NOSIGNAL)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

func (k *keeper) handle(m Msg, fds []int) {
	switch m.Op {
	case "spawn":
		if len(fds) != 3 {
			closeFds(fds)
			_ = k.send(Msg{ID: m.ID, Err: "keeper: a spawn needs stdin, stdout and stderr"}, nil)
			return
		}
		files := make([]*os.File, 3)
		for i, f := range fds {
			files[i] = os.NewFile(uintptr(f), "stdio")
		}
		marker := k.marker + "/" + strconv.Itoa(m.ID)
		attr := &os.ProcAttr{
			Dir:   m.Dir,
			Env:   append(withoutVar(m.Env, ChildEnv), ChildEnv+"="+marker),
			Files: files,
			Sys:   &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
		}
		var p *os.Process
		var err error
		if m.Attr != nil {
			p, err = startHelped(m.Path, m.Argv, attr, m.Attr)
		} else {
			p, err = os.StartProcess(m.Path, m.Argv, attr)
		}
		for _, f := range files {
			_ = f.Close()
		}
		if err != nil {
			_ = k.send(Msg{ID: m.ID, Err: err.Error()}, nil)
			return
		}
		pid := p.Pid
		_ = p.Release() // the keeper reaps its children itself
		c := &kept{id: m.ID, pid: pid, marker: marker}
		k.kids[pid], k.byID[m.ID] = c, c
		// Should it have exited already, its SIGCHLD waits for k.mu: the
		// reaper finds it in kids.
		_ = k.send(Msg{ID: m.ID, Pid: pid}, nil)
	case "signal":
		closeFds(fds)
		switch c := k.byID[m.ID]; {
		case c == nil: // gone already
		case syscall.Signal(m.Sig) == syscall.SIGKILL:
			k.killSet(c)
		default:
			_ = syscall.Kill(-c.pid, syscall.Signal(m.Sig))
		}
	default:
		closeFds(fds)
	}
}

// reap reaps every child that has exited: an exec child once its whole set
// is killed (while it is a zombie its pid, and so its group id, cannot be
// reused), then is reported; any other (an orphan) at once. It asks the
// kernel which children exited (waitid P_ALL), so its work is the exits',
// not one look per child kept.
func (k *keeper) reap() {
	for {
		pid := exitedChild()
		if pid <= 0 {
			return
		}
		var ws syscall.WaitStatus
		c := k.kids[pid]
		if c == nil {
			if _, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil); err != nil {
				return
			}
			continue
		}
		left := k.killSet(c)
		if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
			return
		}
		delete(k.kids, pid)
		delete(k.byID, c.id)
		_ = k.send(Msg{ID: c.id, Exited: true, Status: int(ws), Left: left}, nil)
	}
}

// siginfo is a siginfo_t: si_signo first, si_pid at siPidOffset.
type siginfo [128]byte

// siPidOffset is where si_pid is in a siginfo_t: after three ints, at the
// union's alignment (a pointer's).
const siPidOffset = (12 + unsafe.Sizeof(uintptr(0)) - 1) &^ (unsafe.Sizeof(uintptr(0)) - 1)

// The waitid(2) arguments used here.
const (
	pAll    = 0
	wExited = 0x4
	wNowait = 0x1000000
)

// exitedChild returns a child of this process that has exited, left
// unreaped (waitid WNOWAIT), or 0 if none has.
func exitedChild() int {
	for {
		var info siginfo
		_, _, e := syscall.Syscall6(syscall.SYS_WAITID, pAll, 0, uintptr(unsafe.Pointer(&info)), wExited|syscall.WNOHANG|wNowait, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 || *(*int32)(unsafe.Pointer(&info)) == 0 {
			return 0
		}
		return int(*(*int32)(unsafe.Add(unsafe.Pointer(&info), siPidOffset)))
	}
}

// The prctl(2) options used here.
const (
	prSetPdeathsig      = 1
	prSetChildSubreaper = 36
)

func prctl(option, arg uintptr) error {
	if _, _, e := syscall.RawSyscall6(syscall.SYS_PRCTL, option, arg, 0, 0, 0, 0); e != 0 {
		return e
	}
	return nil
}

// descendants lists the live (not zombie) processes below the keeper that
// belong to c: in c's group, below one that belongs to it, or an orphan
// carrying c's marker (c itself is left out). With c nil, all of them.
// The other exec children and what runs below them are not looked at (a
// process below one is its, as an orphan comes to the keeper): a look
// costs c's processes and the orphans, not every child kept.
// unsure reports an orphan whose environment could not be read (a process
// in the middle of execve shows none for a moment): look again.
func (k *keeper) descendants(c *kept) (pids []int, unsure bool) {
	type node struct {
		pid  int
		mine bool
	}
	var queue []node
	for _, pid := range k.ownChildren() {
		if c != nil && pid != c.pid && k.kids[pid] != nil {
			continue
		}
		queue = append(queue, node{pid, c == nil})
	}
	seen := map[int]bool{}
	for len(queue) > 0 && len(seen) < 1<<16 {
		n := queue[0]
		queue = queue[1:]
		if seen[n.pid] {
			continue
		}
		seen[n.pid] = true
		state, pgid, ok := ProcStat(n.pid)
		if !ok || state == "Z" {
			continue // a zombie has no children
		}
		mine := n.mine
		if !mine {
			mine = n.pid == c.pid || pgid == c.pid
			if !mine {
				v, readable := ProcEnvOK(n.pid, ChildEnv)
				mine = v == c.marker
				unsure = unsure || !readable
			}
		}
		if mine && (c == nil || n.pid != c.pid) {
			pids = append(pids, n.pid)
		}
		for _, ch := range ChildrenOf(n.pid) {
			queue = append(queue, node{ch, mine})
		}
	}
	return pids, unsure
}

// reapWait bounds how long killSet kills a child's set again and again.
const reapWait = 2 * time.Second

// unsureWait bounds how long killSet looks again at an orphan whose
// environment it cannot read.
const unsureWait = 50 * time.Millisecond

// killSet SIGKILLs c's group and every process of its set, again until none
// is left (a process may fork while it is killed), for up to reapWait. It
// returns how many processes besides c itself it killed.
func (k *keeper) killSet(c *kept) int {
	killed := map[int]bool{}
	start := time.Now()
	for {
		// Look first, then kill: what the group kill takes would not be
		// counted otherwise.
		pids, unsure := k.descendants(c)
		_ = syscall.Kill(-c.pid, syscall.SIGKILL)
		_ = syscall.Kill(c.pid, syscall.SIGKILL)
		waited := time.Since(start)
		// An environment that stays unreadable is not a process in
		// execve (it cleared its environment, or is not ours to read).
		if (len(pids) == 0 && (!unsure || waited > unsureWait)) || waited > reapWait {
			return len(killed)
		}
		for _, pid := range pids {
			killed[pid] = true
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		k.reapOrphans()
		time.Sleep(time.Millisecond)
	}
}

// ownChildren lists the keeper's children. They are all its main
// thread's: it forks from that thread only, and an orphan goes to the first
// live thread of its subreaper, the main one.
func (k *keeper) ownChildren() []int {
	var pids []int
	pids, k.cbuf = readChildren("/proc/self/task/"+strconv.Itoa(k.self)+"/children", k.cbuf)
	return pids
}

// readChildren reads a children file of /proc (pids and spaces) into buf,
// grown as needed and returned for the next read, in as few reads as can
// be: each read of such a file walks the thread's list of children again.
func readChildren(file string, buf []byte) ([]int, []byte) {
	f, err := os.Open(file)
	if err != nil {
		return nil, buf
	}
	defer f.Close()
	if buf == nil {
		buf = make([]byte, 0, 16<<10)
	}
	b := buf[:0]
	page := os.Getpagesize()
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		want := cap(b) - len(b)
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		// A read returns what a page holds, short of the end: one that
		// returns less than a page (and than asked), by more than a pid,
		// reached the end, and the read that would say so (another walk
		// of every child) is not needed.
		if err != nil || n == 0 || n+16 < min(want, page) {
			break
		}
	}
	var out []int
	pid := 0
	for _, ch := range b {
		if ch >= '0' && ch <= '9' {
			pid = pid*10 + int(ch-'0')
		} else if pid > 0 {
			out = append(out, pid)
			pid = 0
		}
	}
	if pid > 0 {
		out = append(out, pid)
	}
	return out, b
}

// reapOrphans reaps the dead children that are not exec children.
func (k *keeper) reapOrphans() {
	for _, pid := range k.ownChildren() {
		if k.kids[pid] == nil {
			var ws syscall.WaitStatus
			_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		}
	}
}

// killAll SIGKILLs every process below the keeper and every group it
// created, and reaps them all, for up to a few seconds.
func (k *keeper) killAll() {
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, c := range k.kids {
			_ = syscall.Kill(-c.pid, syscall.SIGKILL)
		}
		all, _ := k.descendants(nil)
		for _, pid := range all {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if errors.Is(err, syscall.ECHILD) {
				return
			}
			if err != nil || pid <= 0 {
				break
			}
			if c := k.kids[pid]; c != nil {
				delete(k.byID, c.id)
			}
			delete(k.kids, pid)
		}
		if time.Now().After(deadline) {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
