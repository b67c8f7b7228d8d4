package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// goneWithin is how soon, by issue 14, no process of a tree may be left
// after otpctl is SIGKILLed, or of a child after it is stopped.
const goneWithin = 2 * time.Second

// markEnv tags every process an orphan test starts (inherited by all their
// descendants), so that its /proc scans see only them.
const markEnv = "OTPCTL_TEST_MARK"

// shape is a way a program leaves processes behind.
type shape struct {
	name    string
	command []string
	procs   int // processes it runs once started
}

// orphanShapes are the shapes of issue 14: a direct child, background
// jobs, a setsid'd grandchild, a double-forked daemon, programs under
// setpriv and runuser (when the tools are there).
func orphanShapes(t *testing.T) []shape {
	shapes := []shape{
		{"direct", []string{"sleep", "1000"}, 1},
		{"jobs", []string{"sh", "-c", "sleep 1000 & sleep 1000 & wait"}, 3},
		{"setsid", []string{"sh", "-c", "setsid sleep 1000 & wait"}, 2},
		{"daemon", []string{"sh", "-c", "(setsid sleep 1000 &); exec sleep 1000"}, 2},
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Log("no setpriv: that shape is not tested")
	} else if os.Getuid() == 0 {
		shapes = append(shapes, shape{"setpriv", []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", "setsid sleep 1000 & wait"}, 2})
	} else {
		shapes = append(shapes, shape{"setpriv", []string{"setpriv", "--no-new-privs", "sh", "-c", "setsid sleep 1000 & wait"}, 2})
	}
	if _, err := exec.LookPath("runuser"); err != nil || os.Getuid() != 0 {
		t.Log("no runuser, or not root: that shape is not tested")
	} else {
		shapes = append(shapes, shape{"runuser", []string{"runuser", "-u", "root", "--", "sh", "-c", "sleep 1000 & wait"}, 3})
	}
	return shapes
}

// orphanTree writes a tree with one exec child per shape, each tagged
// MARK-NAME.
func orphanTree(t *testing.T, dir, mark string, shapes []shape) string {
	var b strings.Builder
	b.WriteString("version: 1\nname: orph\nsupervisor:\n  max_frequency: 100\n  children:\n")
	for _, s := range shapes {
		q := make([]string, len(s.command))
		for i, a := range s.command {
			q[i] = strconv.Quote(a)
		}
		fmt.Fprintf(&b, "    - name: %s\n      kind: exec\n      args: {command: [%s], env: {%s: %q}}\n",
			s.name, strings.Join(q, ", "), markEnv, mark+"-"+s.name)
	}
	return writeTree(t, dir, "orph.yaml", b.String())
}

// proc is one process: its pid and start time (so a reused pid is not it).
type proc struct {
	pid   int
	start string
}

// procStart reads a process's start time, "" if it is gone.
func procStart(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

// marked lists the processes whose environment has markEnv=value.
func marked(value string) []proc {
	var out []proc
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(d + "/environ")
		if err != nil {
			continue
		}
		for _, kv := range strings.Split(string(b), "\x00") {
			if kv == markEnv+"="+value {
				pid, _ := strconv.Atoi(filepath.Base(d))
				if st := procStart(pid); st != "" {
					out = append(out, proc{pid, st})
				}
				break
			}
		}
	}
	return out
}

// awaitShapes waits until every shape runs all its processes and returns
// them by shape; at the end of the test, whatever of them is left is killed.
func awaitShapes(t *testing.T, mark string, shapes []shape) map[string][]proc {
	t.Helper()
	got := map[string][]proc{}
	t.Cleanup(func() {
		for _, ps := range got {
			for _, p := range ps {
				if procStart(p.pid) == p.start {
					syscall.Kill(p.pid, syscall.SIGKILL)
				}
			}
		}
	})
	deadline := time.Now().Add(e2eTimeout)
	for _, s := range shapes {
		for {
			ps := marked(mark + "-" + s.name)
			got[s.name] = ps
			if len(ps) == s.procs {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s runs %d processes, want %d", s.name, len(ps), s.procs)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return got
}

// orphanRun is an `otpctl run` of an orphanTree.
type orphanRun struct {
	*runner
	file, mark string
}

// runShapes runs an orphanTree of every shape, waits until all their
// processes run and returns them.
func runShapes(t *testing.T, name string) (*orphanRun, []shape, map[string][]proc) {
	t.Helper()
	dir := t.TempDir()
	mark := fmt.Sprintf("%s-%d-%d", name, os.Getpid(), time.Now().UnixNano())
	shapes := orphanShapes(t)
	file := orphanTree(t, dir, mark, shapes)
	r := startRun(t, dir, file)
	r.waitStderr(`"msg":"running"`)
	return &orphanRun{r, file, mark}, shapes, awaitShapes(t, mark, shapes)
}

// alive returns the processes of ps that still exist (zombies too).
func alive(ps []proc) []proc {
	var out []proc
	for _, p := range ps {
		if procStart(p.pid) == p.start {
			out = append(out, p)
		}
	}
	return out
}

// awaitGoneWithin fails unless every process of ps is gone within d.
func awaitGoneWithin(t *testing.T, what string, ps []proc, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		left := alive(ps)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			var desc []string
			for _, p := range left {
				cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.pid))
				desc = append(desc, fmt.Sprintf("%d %q", p.pid, strings.ReplaceAll(string(cmd), "\x00", " ")))
			}
			t.Fatalf("%s: still there after %v: %s", what, d, strings.Join(desc, ", "))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// After kill -9 of `otpctl run`, no process the tree started is left:
// direct children, background jobs, setsid'd and double-forked daemons,
// programs under setpriv and runuser.
func TestOrphansKill9(t *testing.T) {
	r, shapes, procs := runShapes(t, "kill9")
	if err := r.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-r.done
	for _, s := range shapes {
		awaitGoneWithin(t, s.name+" after kill -9 of otpctl", procs[s.name], goneWithin)
	}
}

// `otpctl stop PATH` stops the child's whole descendant set (and nothing
// else); started again, `otpctl shutdown` stops them all.
func TestOrphansStopAndShutdown(t *testing.T) {
	r, shapes, procs := runShapes(t, "stop")
	mark := r.mark
	for i, s := range shapes {
		r.mustCtl("stop", "orph/"+s.name)
		awaitGoneWithin(t, "otpctl stop orph/"+s.name, procs[s.name], goneWithin)
		for _, o := range shapes[i+1:] {
			if n := len(alive(procs[o.name])); n != o.procs {
				t.Fatalf("after stop orph/%s: %s runs %d processes, want %d", s.name, o.name, n, o.procs)
			}
		}
	}
	for _, s := range shapes {
		r.mustCtl("start", "orph/"+s.name)
	}
	procs = awaitShapes(t, mark, shapes)
	r.mustCtl("shutdown")
	if code := r.wait(); code != 0 {
		t.Fatalf("run exited %d after shutdown; stderr:\n%s", code, r.stderr())
	}
	for _, s := range shapes {
		awaitGoneWithin(t, s.name+" after otpctl shutdown", procs[s.name], goneWithin)
	}
}

// ppidOf reads a process's parent.
func ppidOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	n, _ := strconv.Atoi(f[1])
	return n
}

// When otpctl and its keeper die together (here: the keeper is stopped,
// otpctl SIGKILLed, then the keeper), what survives them is stopped by the
// next `otpctl run` of the same tree, and logged, before it starts anything.
func TestOrphansLeftoversOfACrash(t *testing.T) {
	r, shapes, procs := runShapes(t, "crash")
	keeper := ppidOf(procs["direct"][0].pid)
	keeperProc := []proc{{keeper, procStart(keeper)}}
	if keeper == r.cmd.Process.Pid {
		t.Errorf("the exec child's parent is otpctl itself, not a keeper")
	} else if ppidOf(keeper) != r.cmd.Process.Pid {
		t.Fatalf("the exec child's parent %d is not otpctl's child", keeper)
	}
	syscall.Kill(keeper, syscall.SIGSTOP)
	r.cmd.Process.Kill()
	<-r.done
	syscall.Kill(keeper, syscall.SIGKILL)
	awaitGoneWithin(t, "the keeper", keeperProc, e2eTimeout)
	var all []proc
	for _, s := range shapes {
		all = append(all, procs[s.name]...)
	}
	time.Sleep(100 * time.Millisecond) // the direct children die with the keeper
	left := alive(all)
	if len(left) == 0 {
		t.Fatal("nothing survived otpctl and its keeper: the test shows nothing")
	}

	r2 := startRun(t, r.dir, r.file)
	r2.waitStderr(`"msg":"running"`)
	awaitGoneWithin(t, "leftovers after the next run started", left, goneWithin)
	firstStart := -1
	logged := map[int]int{}
	for i, l := range strings.Split(r2.stderr(), "\n") {
		if strings.Contains(l, `"event":"started"`) && firstStart < 0 {
			firstStart = i
		}
		for _, p := range left {
			if strings.Contains(l, "previous run left behind") && strings.Contains(l, fmt.Sprintf(`"os_pid":%d,`, p.pid)) {
				logged[p.pid] = i
			}
		}
	}
	for _, p := range left {
		i, ok := logged[p.pid]
		if !ok || i > firstStart {
			t.Errorf("leftover %d not logged before the first start (line %d, ok %v, first start %d); stderr:\n%s", p.pid, i, ok, firstStart, r2.stderr())
		}
	}
	awaitShapes(t, r.mark, shapes)
	r2.mustCtl("shutdown")
	if code := r2.wait(); code != 0 {
		t.Fatalf("run exited %d after shutdown; stderr:\n%s", code, r2.stderr())
	}
}

// If the keeper is killed, what it kept dies (the exec children by their
// parent-death signal, what they left by otpctl, a subreaper), and the
// children fail and start again under a new keeper.
func TestOrphansKeeperKilled(t *testing.T) {
	r, shapes, procs := runShapes(t, "keeper")
	keeper := ppidOf(procs["direct"][0].pid)
	if ppidOf(keeper) != r.cmd.Process.Pid {
		t.Fatalf("the exec child's parent %d is not otpctl's child", keeper)
	}
	mark := r.count()
	syscall.Kill(keeper, syscall.SIGKILL)
	for _, s := range shapes {
		awaitGoneWithin(t, s.name+" after its keeper was killed", procs[s.name], goneWithin)
	}
	for _, s := range shapes {
		r.waitEvent(mark, "started orph/"+s.name)
	}
	again := awaitShapes(t, r.mark, shapes)
	if k := ppidOf(again["direct"][0].pid); k == keeper || ppidOf(k) != r.cmd.Process.Pid {
		t.Errorf("restarted child's parent %d: want a new keeper, child of otpctl", k)
	}
	r.mustCtl("shutdown")
	if code := r.wait(); code != 0 {
		t.Fatalf("run exited %d after shutdown; stderr:\n%s", code, r.stderr())
	}
}
