package loader

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otpctl/otpctl/control"
	"github.com/otpctl/otpctl/spec"
	"github.com/otpctl/otpctl/workers"
	"github.com/otpctl/otpctl/workers/builtin"
)

func ringTexts(lines []control.LogLine) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l.Line
	}
	return out
}

// The ring keeps the newest lines: it wraps over the oldest, and a resize
// keeps the newest that fit.
func TestLogRingWrapsAndResizes(t *testing.T) {
	var l logs
	g := l.ring("t/w")
	g.Keep(3)
	for i := range 5 {
		g.Write(workers.Line{Stream: "stdout", Text: fmt.Sprint(i)})
	}
	lines, _ := l.read(control.LogQuery{Path: "t/w"})
	if got := strings.Join(ringTexts(lines), " "); got != "2 3 4" {
		t.Fatalf("after 5 lines in a ring of 3: %q, want 2 3 4", got)
	}
	g.Keep(2)
	lines, _ = l.read(control.LogQuery{Path: "t/w"})
	if got := strings.Join(ringTexts(lines), " "); got != "3 4" {
		t.Fatalf("shrunk to 2: %q, want 3 4", got)
	}
	g.Keep(4)
	g.Write(workers.Line{Text: "5"})
	lines, _ = l.read(control.LogQuery{Path: "t/w", N: 2})
	if got := strings.Join(ringTexts(lines), " "); got != "4 5" {
		t.Fatalf("grown to 4, last 2: %q, want 4 5", got)
	}
	lines, _ = l.read(control.LogQuery{Path: "t/w", After: lines[0].Seq})
	if got := strings.Join(ringTexts(lines), " "); got != "5" {
		t.Fatalf("after the seq of 4: %q, want 5", got)
	}
	g.Keep(workers.MaxLogLines + 1)
	if g.size != workers.MaxLogLines || cap(g.buf) > 4 {
		t.Fatalf("Keep over the maximum: %d lines (%d held), want %d, growing as lines come", g.size, cap(g.buf), workers.MaxLogLines)
	}
	for i := range 10 {
		g.Write(workers.Line{Text: fmt.Sprint(6 + i)})
	}
	lines, _ = l.read(control.LogQuery{Path: "t/w", N: 3})
	if got := strings.Join(ringTexts(lines), " "); got != "13 14 15" {
		t.Fatalf("grown past its first size: %q, want 13 14 15", got)
	}
}

// startExecFile starts the tree file yaml, written in a new folder, with
// the exec kind.
func startExecFile(t *testing.T, yaml string) (*Running, string, *workers.Registry) {
	t.Helper()
	reg := testKinds()
	reg.Register(builtin.Exec())
	file := filepath.Join(t.TempDir(), "logs.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := spec.Load(file, reg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Start(context.Background(), st, Options{Registry: reg, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdown(t, r) })
	return r, file, reg
}

// waitLogs waits, up to 10 s, for q to select at least n lines.
func waitLogs(t *testing.T, r *Running, q control.LogQuery, n int) []control.LogLine {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		lines, err := r.Logs(q)
		if err != nil {
			t.Fatalf("Logs(%s): %v", q.Path, err)
		}
		if len(lines) >= n {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("Logs(%s): %d lines after 10s, want %d: %v", q.Path, len(lines), n, lines)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const logsTree = `version: 1
name: lt
supervisor:
  strategy: one_for_one
  max_frequency: 10
  children:
    - name: app
      kind: exec
      args: {command: [sh, -c, 'echo "up $$$$"; echo "err $$$$" >&2; exec sleep 100']}
    - name: sub
      supervisor:
        strategy: one_for_one
        children:
          - {name: b, kind: exec, args: {command: [sh, -c, 'echo b-up; exec sleep 100']}}
`

// An exec child's lines outlive its restarts, each with the pid that
// wrote it; a supervisor's path merges its subtree's lines; a reload that
// removes the child drops them.
func TestLogsAcrossRestartsAndReload(t *testing.T) {
	r, file, reg := startExecFile(t, logsTree)
	first := waitLogs(t, r, control.LogQuery{Path: "lt/app"}, 2)
	if err := r.Kill("lt/app", "kill"); err != nil {
		t.Fatal(err)
	}
	lines := waitLogs(t, r, control.LogQuery{Path: "lt/app"}, 4)
	pids := map[int]bool{}
	for _, l := range lines {
		if l.Path != "lt/app" || l.OSPid == 0 || !strings.HasSuffix(l.Line, fmt.Sprint(" ", l.OSPid)) {
			t.Errorf("line %+v: want path lt/app and the pid that wrote it", l)
		}
		pids[l.OSPid] = true
	}
	if len(pids) != 2 || !pids[first[0].OSPid] {
		t.Fatalf("lines of two starts, want two pids, the first %d: %+v", first[0].OSPid, lines)
	}

	all := waitLogs(t, r, control.LogQuery{Path: "lt"}, 5)
	for i := 1; i < len(all); i++ {
		if all[i].Seq <= all[i-1].Seq {
			t.Fatalf("merged lines out of order: %+v", all)
		}
	}
	if !strings.Contains(fmt.Sprint(all), "lt/sub/b") {
		t.Fatalf("the root's lines miss lt/sub/b: %+v", all)
	}
	if lines, _ := r.Logs(control.LogQuery{Path: "lt", N: 1}); len(lines) != 1 || lines[0].Seq != all[len(all)-1].Seq {
		t.Fatalf("n=1: %+v, want the newest line", lines)
	}

	yaml := strings.Replace(logsTree, "    - name: app\n      kind: exec\n      args: {command: [sh, -c, 'echo \"up $$$$\"; echo \"err $$$$\" >&2; exec sleep 100']}\n", "", 1)
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := spec.Load(file, reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reload(st); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Logs(control.LogQuery{Path: "lt/app"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Logs of a removed child: %v, want ErrNotFound", err)
	}
	if lines, _ := r.Logs(control.LogQuery{Path: "lt"}); strings.Contains(fmt.Sprint(lines), "lt/app") {
		t.Fatalf("the removed child's lines are still kept: %+v", lines)
	}
}

// The lines of workers that exited and did not start again (a dynamic
// supervisor's finished jobs) are kept for the last maxGoneRings of them
// only, the oldest dropped first; a worker that starts again is kept.
func TestLogRingsOfGoneWorkersAreBounded(t *testing.T) {
	var l logs
	l.ring("t/static").Write(workers.Line{Text: "first of all"})
	l.exited("t/static")
	l.ring("t/static") // started again
	for i := range maxGoneRings + 10 {
		path := fmt.Sprint("t/jobs/", i)
		l.ring(path).Write(workers.Line{Text: path})
		l.exited(path)
	}
	if len(l.rings) != maxGoneRings+1 {
		t.Fatalf("%d rings, want %d gone ones and t/static", len(l.rings), maxGoneRings)
	}
	for _, p := range []string{"t/static", "t/jobs/10", fmt.Sprint("t/jobs/", maxGoneRings+9)} {
		if l.rings[p] == nil {
			t.Errorf("%s was dropped", p)
		}
	}
	if l.rings["t/jobs/9"] != nil {
		t.Error("t/jobs/9, of the oldest gone, is kept")
	}
}
