package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otpctl/otpctl/control"
	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/loader"
)

// liveYAML is the tree the reload tests edit; c2's args and cache's
// max_size are the values they change.
func liveYAML(c2 string, cacheSize int, extra string) string {
	return fmt.Sprintf(`version: 1
name: live
supervisor:
  strategy: one_for_all
  children:
    - {name: count, kind: counter}
    - {name: c2, kind: counter, args: {initial: %s}}
    - {name: cache, kind: cache, args: {max_size: %d}}
    - name: grp
      supervisor:
        children:
          - {name: t, kind: ticker, args: {interval: 1h}}
    - {name: sub, include: sub.yaml}
%s`, c2, cacheSize, extra)
}

func subYAML(size int) string {
	return fmt.Sprintf("version: 1\nsupervisor:\n  children:\n    - {name: x, kind: cache, args: {max_size: %d}}\n", size)
}

// runLive runs liveYAML in a fresh folder.
func runLive(t *testing.T, args ...string) (*runner, string) {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, "sub.yaml", subYAML(5))
	file := writeTree(t, dir, "live.yaml", liveYAML("1", 10, ""))
	r := startRun(t, dir, file, append([]string{"--socket", filepath.Join(dir, "ctl.sock")}, args...)...)
	r.waitEvent(0, "started live boot")
	return r, file
}

// pidsOf returns every node's pid by path, from `otpctl tree --json`.
func pidsOf(n *live.Node) map[string]string {
	out := map[string]string{}
	n.Walk(func(m *live.Node) { out[m.Path] = m.Pid })
	return out
}

// expectMoved fails unless exactly the nodes at or under moved have a new
// pid (or are new), and every other node kept its own.
func expectMoved(t *testing.T, before, after map[string]string, moved ...string) {
	t.Helper()
	for path, pid := range after {
		if pid == "" {
			t.Errorf("%s is not running", path)
			continue
		}
		old, was := before[path]
		hit := slices.ContainsFunc(moved, func(m string) bool { return path == m || strings.HasPrefix(path, m+"/") })
		switch {
		case hit && was && old == pid:
			t.Errorf("%s kept pid %s, want a new one", path, pid)
		case !hit && old != pid:
			t.Errorf("%s: pid %s → %s, want it kept", path, old, pid)
		}
	}
}

// saveRenamed saves file as editors that write a new file and rename it do.
func saveRenamed(t *testing.T, file, text string) {
	t.Helper()
	tmp := file + ".tmp~"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
}

// nextReload waits for the next reload or reload_failed event from mark
// and returns it and the index after it.
func (r *runner) nextReload(mark int) (logLine, int) {
	r.t.Helper()
	i := r.waitEvent(mark, "reload")
	return r.line(i), i + 1
}

func (r *runner) counter(path string) string {
	r.t.Helper()
	return strings.TrimSpace(r.mustCtl("call", path, `{"op":"get"}`))
}

func TestReloadWatchesTheFiles(t *testing.T) {
	r, file := runLive(t)
	dir := filepath.Dir(file)
	for range 3 {
		r.mustCtl("call", "live/count", `{"op":"increment"}`)
	}
	mark := r.count()

	step := func(name string, save func(), moved ...string) logLine {
		t.Helper()
		before := pidsOf(r.tree())
		save()
		ev, next := r.nextReload(mark)
		mark = next
		if ev.Event != "reload" || !slices.Equal(slices.Concat(ev.Changed, ev.Added), moved) {
			t.Fatalf("%s: %+v, want %q changed or added\n%s", name, ev, moved, r.stderr())
		}
		expectMoved(t, before, pidsOf(r.tree()), moved...)
		return ev
	}

	step("edited in place", func() { writeTree(t, dir, "live.yaml", liveYAML("2", 10, "")) }, "live/c2")
	if got := r.counter("live/count"); got != `{"value":3}` {
		t.Fatalf("count after a reload that did not touch it: %s", got)
	}
	if got := r.counter("live/c2"); got != `{"value":2}` {
		t.Fatalf("c2 after its reload: %s", got)
	}
	step("saved by rename", func() { saveRenamed(t, file, liveYAML("2", 20, "")) }, "live/cache")

	// A broken save changes nothing and says where.
	before := pidsOf(r.tree())
	writeTree(t, dir, "live.yaml", liveYAML(`"two"`, 20, ""))
	ev, next := r.nextReload(mark)
	mark = next
	if ev.Event != "reload_failed" || ev.Level != "ERROR" || len(ev.Errors) != 1 ||
		!strings.HasPrefix(ev.Errors[0], file+":7:49: args.initial: must be an integer") {
		t.Fatalf("broken save: %+v", ev)
	}
	expectMoved(t, before, pidsOf(r.tree()))
	// The fix afterwards applies.
	step("fixed", func() { saveRenamed(t, file, liveYAML("3", 20, "")) }, "live/c2")

	// An include edited; an include added (in another folder), then edited.
	step("include edited", func() { writeTree(t, dir, "sub.yaml", subYAML(6)) }, "live/sub/x")
	if err := os.Mkdir(filepath.Join(dir, "more"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeTree(t, dir, "more/more.yaml", "version: 1\nsupervisor:\n  children:\n    - {name: m, kind: counter}\n")
	step("include added", func() {
		saveRenamed(t, file, liveYAML("3", 20, "    - {name: more, include: more/more.yaml}\n"))
	}, "live/more")
	step("added include edited", func() {
		saveRenamed(t, filepath.Join(dir, "more/more.yaml"), "version: 1\nsupervisor:\n  children:\n    - {name: m, kind: counter, args: {initial: 7}}\n")
	}, "live/more/m")
	if got := r.counter("live/count"); got != `{"value":3}` {
		t.Fatalf("count after all the reloads: %s", got)
	}

	// Ten saves within 50ms are one reload, which reads the last.
	before = pidsOf(r.tree())
	burst := time.Now()
	for i := range 10 {
		text := liveYAML(fmt.Sprint(10+i), 20, "    - {name: more, include: more/more.yaml}\n")
		if i%2 == 0 {
			writeTree(t, dir, "live.yaml", text)
		} else {
			saveRenamed(t, file, text)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if took := time.Since(burst); took >= loader.DefaultDebounce {
		// Seen with both cores busy with other tests: the saves were
		// not a burst, so more than one reload is right.
		t.Skipf("the ten saves took %v, not less than the watcher's debounce (%v): this machine is too busy to test a burst", took, loader.DefaultDebounce)
	}
	ev, next = r.nextReload(mark)
	mark = next
	if got := r.counter("live/c2"); ev.Event != "reload" || got != `{"value":19}` {
		t.Fatalf("burst: %+v, c2 %s", ev, got)
	}
	// The next reload is the next save's: c2 restarted once for the burst.
	step("after the burst", func() {
		writeTree(t, dir, "live.yaml", liveYAML("19", 30, "    - {name: more, include: more/more.yaml}\n"))
	}, "live/cache")
	if n := r.node("live/c2"); n.Restarts != 3 { // in place, fixed, burst
		t.Errorf("c2 restarted %d times, want 3 (one per reload that changed it)", n.Restarts)
	}
	if b := r.node("live").Budget; b == nil || b.Used != 0 {
		t.Errorf("root budget %+v: reloads count against nothing", b)
	}
}

func TestReloadCommandAndSIGHUP(t *testing.T) {
	r, file := runLive(t, "--no-watch")
	dir := filepath.Dir(file)

	// Nothing changed.
	res := r.ctl("reload")
	if res.code != 0 || res.stdout != "8 unchanged\n" {
		t.Fatalf("reload with no change: %d %q %q", res.code, res.stdout, res.stderr)
	}
	// Not watched: a save is not reloaded until asked.
	before := pidsOf(r.tree())
	writeTree(t, dir, "live.yaml", liveYAML("2", 10, "    - {name: e, kind: echo}\n"))
	time.Sleep(500 * time.Millisecond) // more than the debounce: a watcher would have reloaded
	mark := r.count()
	res = r.ctl("reload")
	want := "~ live/c2 (args changed (initial): restart)\n+ live/e (added)\n7 unchanged\n"
	if res.code != 0 || res.stdout != want {
		t.Fatalf("reload: %d %q, want %q; stderr %q", res.code, res.stdout, want, res.stderr)
	}
	ev, _ := r.nextReload(mark)
	if ev.Path != "live" || !slices.Equal(ev.Changed, []string{"live/c2"}) || !slices.Equal(ev.Added, []string{"live/e"}) {
		t.Fatalf("reload event %+v", ev)
	}
	expectMoved(t, before, pidsOf(r.tree()), "live/c2", "live/e")

	// Refused: every error, exit 1, nothing changed.
	before = pidsOf(r.tree())
	writeTree(t, dir, "live.yaml", liveYAML(`"two"`, -1, ""))
	res = r.ctl("reload")
	if res.code != 1 || !strings.Contains(res.stderr, file+":7:49: args.initial:") ||
		!strings.Contains(res.stderr, file+":8:51: args.max_size:") || !strings.Contains(res.stderr, "nothing changed") {
		t.Fatalf("refused reload: %d %q %q", res.code, res.stdout, res.stderr)
	}
	expectMoved(t, before, pidsOf(r.tree()))

	// --json, then SIGHUP.
	writeTree(t, dir, "live.yaml", liveYAML("2", 11, "    - {name: e, kind: echo}\n"))
	res = r.ctl("reload", "--json")
	var rep control.ReloadReply
	if res.code != 0 || json.Unmarshal([]byte(res.stdout), &rep) != nil || !slices.Equal(rep.Changed, []string{"live/cache"}) || rep.Unchanged != 8 {
		t.Fatalf("reload --json: %d %q", res.code, res.stdout)
	}
	before = pidsOf(r.tree())
	writeTree(t, dir, "live.yaml", liveYAML("2", 11, ""))
	mark = r.count()
	r.sig(syscall.SIGHUP)
	ev, _ = r.nextReload(mark)
	if ev.Event != "reload" || !slices.Equal(ev.Removed, []string{"live/e"}) {
		t.Fatalf("SIGHUP: %+v", ev)
	}
	after := pidsOf(r.tree())
	delete(before, "live/e")
	expectMoved(t, before, after)

	// A renamed tree is refused: the instance is its name.
	writeTree(t, dir, "live.yaml", strings.Replace(liveYAML("2", 11, ""), "name: live", "name: dead", 1))
	res = r.ctl("reload")
	if res.code != 1 || !strings.Contains(res.stderr, `the tree's name changed from "live" to "dead"`) {
		t.Fatalf("renamed: %d %q", res.code, res.stderr)
	}
	r.waitEvent(mark, "reload_failed live")
}

// stormYAML crashes c1 every few milliseconds under one_for_all (unless
// calm), so that flaky's children restart all the time.
func stormYAML(initial int, extra, calm bool) string {
	c1 := "{name: c1, kind: crash, args: {interval: 5ms, probability: 0.5, reason: boom}}"
	if calm {
		c1 = "{name: c1, kind: echo}"
	}
	d := ""
	if extra {
		d = "\n          - {name: d, kind: echo}"
	}
	return fmt.Sprintf(`version: 1
name: storm
supervisor:
  max_frequency: 100000
  period: 1s
  children:
    - name: flaky
      supervisor:
        strategy: one_for_all
        max_frequency: 100000
        period: 1s
        children:
          - %s
          - {name: a, kind: counter, args: {initial: %d}}
          - {name: b, kind: echo}%s
    - {name: steady, kind: counter}
`, c1, initial, d)
}

// Reloads while a supervisor restarts its children all the time leave the
// tree as the last file says, and touch nothing outside the storm.
func TestReloadDuringARestartStorm(t *testing.T) {
	dir := t.TempDir()
	file := writeTree(t, dir, "storm.yaml", stormYAML(0, false, false))
	r := startRun(t, dir, file, "--no-watch", "--socket", filepath.Join(dir, "ctl.sock"))
	r.waitEvent(0, "started storm boot")
	steady := r.node("storm/steady").Pid
	r.waitEvent(0, "exited storm/flaky/c1 boom") // the storm blows
	for i := 1; i <= 6; i++ {
		writeTree(t, dir, "storm.yaml", stormYAML(i, i%2 == 1, false))
		if res := r.ctl("reload"); res.code != 0 {
			t.Fatalf("reload %d: %d %q %q", i, res.code, res.stdout, res.stderr)
		}
	}
	first := r.waitEvent(0, "reload storm")
	writeTree(t, dir, "storm.yaml", stormYAML(7, true, true))
	if res := r.ctl("reload"); res.code != 0 {
		t.Fatalf("calming reload: %d %q %q", res.code, res.stdout, res.stderr)
	}
	crashes := 0
	for _, l := range r.events(first) {
		if strings.HasPrefix(l, "exited storm/flaky/c1 boom") {
			crashes++
		}
	}
	if crashes == 0 {
		t.Errorf("no crash while the reloads ran: no storm")
	}
	for _, p := range []string{"storm/flaky/c1", "storm/flaky/a", "storm/flaky/b", "storm/flaky/d"} {
		r.mustCtl("wait", p, "--timeout", "30s")
	}
	var paths []string
	r.tree().Walk(func(n *live.Node) {
		paths = append(paths, n.Path+" "+n.Kind+n.Strategy+" "+string(n.State))
	})
	want := []string{"storm one_for_one running", "storm/flaky one_for_all running", "storm/flaky/c1 echo running",
		"storm/flaky/a counter running", "storm/flaky/b echo running", "storm/flaky/d echo running", "storm/steady counter running"}
	if !slices.Equal(paths, want) {
		t.Fatalf("tree after the storm:\n%s\nwant:\n%s", strings.Join(paths, "\n"), strings.Join(want, "\n"))
	}
	if got := r.counter("storm/flaky/a"); got != `{"value":7}` {
		t.Errorf("a runs with %s, want the last file's initial 7", got)
	}
	if pid := r.node("storm/steady").Pid; pid != steady {
		t.Errorf("steady's pid %s → %s: the storm and the reloads must not touch it", steady, pid)
	}
}
