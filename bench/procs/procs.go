// Package procs is W8, issue 20's operator workload: a supervisor of N OS
// processes running sleep, measured for otpctl (the real binary) and, when
// installed, for supervisord and pm2 with the same method: the kernel's
// process events (the netlink proc connector, root only) tell when each
// child began running, so nothing polls /proc for them.
package procs

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/otpctl/otpctl/bench/workload"
)

// Options are one W8 run's.
type Options struct {
	System string // Otpctl, Supervisord or PM2
	N      int    // children
	Kills  int    // kill -9s, one after the other
	// Rest is how long the supervisor idles before its memory is read;
	// Idle how long its CPU time is counted after that.
	Rest, Idle time.Duration
	// Otpctl is the otpctl binary (System Otpctl).
	Otpctl  string
	Timeout time.Duration // bounds every wait
}

// The systems.
const (
	Otpctl      = "otpctl"
	Supervisord = "supervisord"
	PM2         = "pm2"
)

// Available says whether system can be measured here: the proc connector
// is open to us, and the peer's commands are installed.
func Available(system string) error {
	l, err := listen("\x00none\x00")
	if err != nil {
		return err
	}
	l.close()
	switch system {
	case Supervisord:
		return lookPath("supervisord", "supervisorctl")
	case PM2:
		return lookPath("pm2")
	}
	return nil
}

// W8 starts a supervisor of o.N children running sleep and measures:
//
//   - launch_s: from starting the supervisor's command until every child
//     has exec'd sleep (the kernel's exec events);
//   - rss_bytes: the RSS of the supervisor's own processes (every process
//     of its tree but the children: otpctl and its keeper; supervisord;
//     pm2's daemon) after o.Rest, and rss_per_child_bytes: the same minus
//     its RSS with 1 child (a run of its own), per further child;
//   - pss_bytes and pss_per_child_bytes: the same with their PSS (a page
//     shared by k processes counts 1/k in each), the measure of a group
//     of processes' memory: a sum of RSS counts twice the pages of the
//     binary that otpctl and its keeper (a re-exec of it) share;
//   - cpu_rest_pct: their CPU time (utime+stime, in ticks of 10 ms) over
//     the o.Idle after that, in percent of one CPU;
//   - kill_p50_ns, kill_p99_ns: from kill -9 of a child's process until
//     its replacement exec'd sleep, over o.Kills kills.
//
// Every process it started is stopped before it returns, or it fails.
func W8(o Options) (workload.Result, error) {
	if o.System != Otpctl && o.System != Supervisord && o.System != PM2 {
		return nil, fmt.Errorf("W8: no system %q (%s, %s or %s)", o.System, Otpctl, Supervisord, PM2)
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	base, err := session(o, 1, false)
	if err != nil {
		return nil, fmt.Errorf("W8 %s with 1 child: %w", o.System, err)
	}
	res, err := session(o, o.N, true)
	if err != nil {
		return nil, fmt.Errorf("W8 %s with %d children: %w", o.System, o.N, err)
	}
	if o.N > 1 {
		res["rss_per_child_bytes"] = (res["rss_bytes"] - base["rss_bytes"]) / float64(o.N-1)
		res["pss_per_child_bytes"] = (res["pss_bytes"] - base["pss_bytes"]) / float64(o.N-1)
	}
	return res, nil
}

// An exec1 is one process that began running the marked command: its pid
// and the kernel's time of the exec (CLOCK_MONOTONIC).
type exec1 struct {
	pid  int
	when time.Duration
}

// A system is one supervisor, started on a folder of its own.
type system interface {
	// start starts the supervisor of n children running argv, and
	// returns the pid whose tree holds the supervisor's processes.
	start(n int, argv []string) (root int, err error)
	// stop stops it and everything it started.
	stop() error
}

func newSystem(o Options, dir string) system {
	switch o.System {
	case Supervisord:
		return &supervisord{dir: dir, timeout: o.Timeout}
	case PM2:
		return &pm2{dir: dir, timeout: o.Timeout}
	}
	return &otpctl{bin: o.Otpctl, dir: dir, timeout: o.Timeout}
}

func session(o Options, n int, full bool) (res workload.Result, err error) {
	dir, err := os.MkdirTemp("", "otpctl-w8-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	// A sleep of its own length: the marker that tells this run's
	// children from every other process.
	marker := fmt.Sprintf("86400.%d%06d", os.Getpid(), time.Now().UnixNano()%1_000_000)
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		return nil, err
	}
	l, err := listen(marker)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := l.close(); cerr != nil && err == nil {
			err = fmt.Errorf("proc events: %w", cerr)
		}
	}()
	sys := newSystem(o, dir)
	defer func() {
		serr := sys.stop()
		if left := killMarked(marker); len(left) > 0 && serr == nil {
			serr = fmt.Errorf("%d children outlived the supervisor's stop (killed): %v", len(left), left)
		}
		if serr != nil && err == nil {
			err = serr
		}
	}()

	res = workload.Result{}
	t0 := monotonic()
	root, err := sys.start(n, []string{sleep, marker})
	if err != nil {
		return nil, err
	}
	deadline := time.After(o.Timeout)
	running := map[int]bool{}
	var last time.Duration
	for len(running) < n {
		select {
		case e := <-l.execs:
			running[e.pid], last = true, e.when
		case <-deadline:
			return nil, fmt.Errorf("%d of %d children running after %v", len(running), n, o.Timeout)
		}
	}
	res["launch_s"] = (last - t0).Seconds()

	time.Sleep(o.Rest)
	own := func() []int { return ownProcs(root, marker) }
	mine := own()
	res["rss_bytes"] = float64(memSum(mine, "status", "VmRSS:"))
	res["pss_bytes"] = float64(memSum(mine, "smaps_rollup", "Pss:"))
	if !full {
		return res, nil
	}
	pids := own()
	c0, w0 := cpuTicks(pids), monotonic()
	time.Sleep(o.Idle)
	c1, w1 := cpuTicks(pids), monotonic()
	res["cpu_rest_pct"] = 100 * (float64(c1-c0) / clkTck) / (w1 - w0).Seconds()

	samples := make([]time.Duration, 0, o.Kills)
	for k := 0; k < o.Kills; k++ {
		var victim int
		for pid := range running {
			if victim == 0 || pid < victim {
				victim = pid
			}
		}
		drain(l.execs, running)
		t := monotonic()
		if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
			return nil, fmt.Errorf("kill %d: %w", victim, err)
		}
		delete(running, victim)
		select {
		case e := <-l.execs:
			samples = append(samples, e.when-t)
			running[e.pid] = true
		case <-time.After(o.Timeout):
			return nil, fmt.Errorf("kill %d of %d: no replacement within %v", k+1, o.Kills, o.Timeout)
		}
	}
	if len(samples) > 0 {
		slices.Sort(samples)
		res["kill_p50_ns"] = float64(samples[nearestRank(len(samples), 0.50)])
		res["kill_p99_ns"] = float64(samples[nearestRank(len(samples), 0.99)])
	}
	return res, nil
}

// drain adds to running the execs already reported.
func drain(execs chan exec1, running map[int]bool) {
	for {
		select {
		case e := <-execs:
			running[e.pid] = true
		default:
			return
		}
	}
}

func nearestRank(n int, p float64) int { return int(math.Floor(p * float64(n-1))) }

const clkTck = 100 // USER_HZ on Linux

// proc is one line of /proc/PID/stat, the fields used here.
type proc struct {
	pid, ppid    int
	utime, stime uint64
}

func readStat(pid int) (proc, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return proc{}, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return proc{}, false
	}
	f := strings.Fields(s[i+1:]) // f[0] is the state, field 3
	if len(f) < 13 {
		return proc{}, false
	}
	p := proc{pid: pid}
	p.ppid, _ = strconv.Atoi(f[1])
	p.utime, _ = strconv.ParseUint(f[11], 10, 64)
	p.stime, _ = strconv.ParseUint(f[12], 10, 64)
	return p, true
}

// allPids lists /proc.
func allPids() []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// ownProcs is root and its descendants, but not the marked children.
// (Read once per figure, not to detect anything.)
func ownProcs(root int, marker string) []int {
	kids := map[int][]int{}
	for _, pid := range allPids() {
		if p, ok := readStat(pid); ok {
			kids[p.ppid] = append(kids[p.ppid], pid)
		}
	}
	var out []int
	var walk func(int)
	walk = func(pid int) {
		if !isMarked(pid, marker) {
			out = append(out, pid)
		}
		for _, k := range kids[pid] {
			walk(k)
		}
	}
	walk(root)
	return out
}

func isMarked(pid int, marker string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.Contains(string(b), marker)
}

// memSum sums, in bytes, the field (in kB) of /proc/PID/file of pids:
// VmRSS of status, Pss of smaps_rollup.
func memSum(pids []int, file, field string) int64 {
	var sum int64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, field); ok {
				if f := strings.Fields(v); len(f) > 0 {
					kb, _ := strconv.ParseInt(f[0], 10, 64)
					sum += kb << 10
				}
				break
			}
		}
	}
	return sum
}

// cpuTicks sums utime+stime of pids.
func cpuTicks(pids []int) uint64 {
	var sum uint64
	for _, pid := range pids {
		if p, ok := readStat(pid); ok {
			sum += p.utime + p.stime
		}
	}
	return sum
}

// killMarked SIGKILLs every process still running the marked command and
// returns their pids.
func killMarked(marker string) []int {
	var left []int
	for _, pid := range allPids() {
		if isMarked(pid, marker) {
			left = append(left, pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	return left
}

func lookPath(names ...string) error {
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			return fmt.Errorf("%s: not installed", n)
		}
	}
	return nil
}
