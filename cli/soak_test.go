package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otpctl/otpctl/control"
	"github.com/otpctl/otpctl/live"
)

var soakFor = flag.Duration("soak", 15*time.Second, "how long TestChaosSoak kills (the default is CI's; -soak 60s for a longer run)")

// soakTarget is the kill rate TestChaosSoak aims at (issue 14). It is a
// goal, reported, not asserted: the machine may be busy.
const soakTarget = 1000

// TestChaosSoak runs a 1,000-worker tree with a few exec children under a
// storm of kills through the control API (workers, supervisors, exec
// children; -soak sets how long), then checks that the tree has converged
// and leaked nothing: every node runs, every pid is the one its last
// started event gave, the instance's Go heap and goroutines are back within
// 10 % of what they were before the storm, and after shutdown no OS process
// of the tree is left. It logs the figures (kills/s, restarts, RSS, heap).
func TestChaosSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("the soak runs without -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "soakbin")
	// Without -race: the soak measures leaks and convergence at the rate
	// a real instance takes; the race detector's shadow memory would
	// swamp the heap figures. The storm itself runs in this (race) test.
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/soakbin").CombinedOutput(); err != nil {
		t.Fatalf("building testdata/soakbin: %v\n%s", err, out)
	}
	const pools, width, execs = 10, 100, 3
	marker := "OTPCTL_SOAK_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nname: soak\nsupervisor:\n  max_frequency: 1000000\n  period: 1s\n  children:\n    - {name: stats, kind: stats}\n")
	var workers, sups []string
	for p := range pools {
		fmt.Fprintf(&b, "    - name: p%d\n      supervisor:\n        max_frequency: 1000000\n        period: 1s\n        children:\n", p)
		sups = append(sups, fmt.Sprintf("soak/p%d", p))
		for w := range width {
			kind := "echo"
			if w%10 == 0 {
				kind = "counter"
			}
			fmt.Fprintf(&b, "          - {name: w%d, kind: %s}\n", w, kind)
			workers = append(workers, fmt.Sprintf("soak/p%d/w%d", p, w))
		}
	}
	fmt.Fprintf(&b, "    - name: os\n      supervisor:\n        max_frequency: 1000000\n        period: 1s\n        children:\n")
	var osKids []string
	for i := range execs {
		fmt.Fprintf(&b, "          - {name: sleep%d, kind: exec, shutdown: 2s, args: {command: [sleep, \"1000\"], env: {%s: \"1\"}}}\n", i, marker)
		osKids = append(osKids, fmt.Sprintf("soak/os/sleep%d", i))
	}
	file := writeTree(t, dir, "soak.yaml", b.String())
	socket := filepath.Join(dir, "ctl.sock")
	r := startRunBinary(t, bin, dir, file, "--socket", socket)
	r.waitEvent(0, "started soak boot")
	c := control.NewClient(socket)
	ctx := context.Background()

	stats := func() (heap, goroutines uint64) {
		t.Helper()
		out, err := c.Call(ctx, "soak/stats", json.RawMessage(`{"op":"get"}`), 30*time.Second)
		if err != nil {
			t.Fatalf("stats: %v", err)
		}
		var s struct{ Heap, Goroutines uint64 }
		if err := json.Unmarshal(out, &s); err != nil {
			t.Fatalf("stats %s: %v", out, err)
		}
		return s.Heap, s.Goroutines
	}

	// A storm of kills: mostly workers, some of them exec children, now
	// and then a whole supervisor of 100 (reason killed, at once).
	storm := func(d time.Duration) (kills, refused int64) {
		var n, bad atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(g), uint64(start.UnixNano())))
				for time.Since(start) < d {
					if n.Load() > int64(time.Since(start).Seconds()*soakTarget*1.2) {
						time.Sleep(time.Millisecond) // ahead of the target: let the tree breathe
						continue
					}
					path := workers[rng.IntN(len(workers))]
					switch k := rng.IntN(1000); {
					case k < 3:
						path = sups[rng.IntN(len(sups))]
					case k < 13:
						path = osKids[rng.IntN(len(osKids))]
					}
					err := c.Kill(ctx, path, "")
					n.Add(1)
					if err != nil {
						// A node its supervisor is restarting, or under a
						// supervisor being restarted: refused, and counted.
						bad.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		return n.Load(), bad.Load()
	}

	// Warm up until the ring of kept events (10,000 in cli/run.go) is
	// full twice over, so that it weighs the same before and after, then
	// take the baseline.
	for i := 0; r.count() < 20000 && i < 30; i++ {
		storm(time.Second)
	}
	settleSoak(t, r, c)
	heap0, gor0 := stats()
	rss0 := rssKiB(t, r.cmd.Process.Pid)
	from := r.count()

	began := time.Now()
	kills, refused := storm(*soakFor)
	took := time.Since(began)
	settleSoak(t, r, c)
	heap1, gor1 := stats()
	rss1 := rssKiB(t, r.cmd.Process.Pid)

	restarts, supKills := 0, 0
	for i := from; i < r.count(); i++ {
		l := r.line(i)
		switch {
		case l.Event == "started" && l.Cause == "crash":
			restarts++
		case l.Event == "exited" && l.Reason == "killed" && strings.Count(l.Path, "/") == 1:
			supKills++
		}
	}
	t.Logf("soak %v: %d kills (%.0f/s, target %d/s; %d refused while restarting), %d restarts, %d supervisor kills",
		took.Round(time.Millisecond), kills, float64(kills)/took.Seconds(), soakTarget, refused, restarts, supKills)
	t.Logf("heap %d KiB -> %d KiB, goroutines %d -> %d, RSS %d KiB -> %d KiB", heap0>>10, heap1>>10, gor0, gor1, rss0, rss1)
	if kills < 100*int64(soakFor.Seconds()) {
		t.Errorf("only %d kills in %v: the storm did not run", kills, took)
	}
	if float64(heap1) > 1.10*float64(heap0) {
		t.Errorf("the heap grew from %d KiB to %d KiB (more than 10 %%)", heap0>>10, heap1>>10)
	}
	if float64(gor1) > 1.10*float64(gor0) {
		t.Errorf("the goroutines grew from %d to %d (more than 10 %%)", gor0, gor1)
	}

	// Every OS process the tree started, then none left after shutdown.
	osPids := map[int]bool{}
	for i := 0; i < r.count(); i++ {
		if l := r.line(i); l.Event == "started" && l.OSPid > 0 {
			osPids[l.OSPid] = true
		}
	}
	if len(osPids) < execs {
		t.Errorf("%d OS processes seen, want at least %d", len(osPids), execs)
	}
	if err := c.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if code := r.wait(); code != ExitOK {
		t.Fatalf("run exited %d\n%s", code, tail(r.stderr(), 20))
	}
	for pid := range osPids {
		if env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid)); err == nil && strings.Contains(string(env), marker+"=") {
			t.Errorf("OS process %d of the tree outlived it", pid)
		}
	}
}

// settleSoak waits until every node of the tree runs and every pid in the
// tree is the one its last started event logged.
func settleSoak(t *testing.T, r *runner, c *control.Client) {
	t.Helper()
	deadline := time.Now().Add(e2eTimeout)
	for {
		why := ""
		tree, err := c.Tree(context.Background())
		if err != nil {
			why = err.Error()
		} else {
			last := map[string]string{}
			for i := 0; i < r.count(); i++ {
				if l := r.line(i); l.Event == "started" {
					last[l.Path] = l.Pid
				}
			}
			var walk func(n *live.Node)
			walk = func(n *live.Node) {
				switch {
				case why != "":
				case n.State != "running":
					why = n.Path + " is " + string(n.State)
				case n.Pid != last[n.Path]:
					why = fmt.Sprintf("%s runs as %s, its last started event says %s", n.Path, n.Pid, last[n.Path])
				}
				for _, k := range n.Children {
					walk(k)
				}
			}
			walk(tree)
		}
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the tree did not settle in %v: %s", e2eTimeout, why)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rssKiB reads a process's resident set size from /proc.
func rssKiB(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Fatal(errors.New("no VmRSS in /proc/PID/status"))
	return 0
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}
