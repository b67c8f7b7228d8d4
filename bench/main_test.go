package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/otpctl/otpctl/bench/workload"
)

// TestMain doubles as the harness's child: runSuite starts the test binary
// again with OTPCTL_BENCH_CHILD set, exactly as it starts the bench binary.
func TestMain(m *testing.M) {
	if key := os.Getenv(childEnv); key != "" {
		os.Exit(child(key, os.Getenv(sizesEnv), os.Stdout, os.Stderr))
	}
	goleak.VerifyTestMain(m)
}

// The -quick suite runs end to end, every run in its own process, and
// writes a Markdown table and JSON with a figure for every metric of every
// run, a ratio to the floor for the runtime's rows, and every target of
// issue 8. Run by CI so the harness cannot rot.
func TestQuickSuite(t *testing.T) {
	dir := t.TempDir()
	md, js := filepath.Join(dir, "r.md"), filepath.Join(dir, "r.json")
	var stdout, stderr bytes.Buffer
	if err := runSuite([]string{"-quick", "-reps", "2", "-peers=false", "-md", md, "-json", js}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var rep report
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, r := range runs {
		// W8 runs for otpctl alone (-peers=false), and only where the
		// kernel's process events can be read (root).
		skipped := slices.ContainsFunc(rep.Skipped, func(s string) bool { return strings.HasPrefix(s, r.Key()+":") })
		if r.Peer || skipped {
			continue
		}
		want += len(metricOrder[r.W])
	}
	if len(rep.Rows) != want {
		t.Errorf("%d rows, want %d", len(rep.Rows), want)
	}
	for _, r := range rep.Rows {
		if r.N != 2 || len(r.Values) != 2 || r.Failed != 0 {
			t.Errorf("%s %s %s: n=%d values=%v failed=%d, want 2 figures", r.W, r.Variant, r.Metric, r.N, r.Values, r.Failed)
		}
		// Tiny memory deltas may be ≤ 0; W7 and W8 have no floor.
		if r.System == "otpctl" && r.Ratio == nil && r.Unit != "B" && r.W != "W7" && r.W != "W8" {
			t.Errorf("%s %s %s: no ratio to the floor", r.W, r.Variant, r.Metric)
		}
	}
	if i := slices.IndexFunc(rep.Targets, func(t targetResult) bool { return t.W == "W7" }); i < 0 || rep.Targets[i].Met == nil {
		t.Errorf("targets %+v: want W7's, measured", rep.Targets)
	}
	mdText, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mdText, stdout.Bytes()) {
		t.Error("the Markdown file differs from what was printed")
	}
	for _, s := range []string{"| W1 | otpctl actors | spawn N, wall s |", "| W6 | gochan handwritten | stop tree, s |", "| W7 | otpctl reload | validate the file, s |"} {
		if !strings.Contains(string(mdText), s) {
			t.Errorf("the table lacks %q", s)
		}
	}
}

// A repetition that fails is recorded as RUNFAIL, shown as failed, and
// makes the suite fail; the others still count.
func TestFailedRepetition(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	// W5 on the floor cannot do 1e9 restarts in 1 ns.
	err := runSuite([]string{"-quick", "-reps", "1", "-only", "^W5/gochan", "-r", "1000000000", "-timeout", "1ns",
		"-md", filepath.Join(dir, "r.md"), "-json", ""}, &stdout, &stderr)
	if err == nil {
		t.Fatal("a failed repetition did not fail the suite")
	}
	if !strings.Contains(stderr.String(), "RUNFAIL") || !strings.Contains(stdout.String(), "Failed repetitions") {
		t.Errorf("stderr %q / stdout %q: want RUNFAIL reported", stderr.String(), stdout.String())
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		in                 []float64
		median, minV, maxV float64
	}{
		{[]float64{3}, 3, 3, 3},
		{[]float64{5, 1, 3}, 3, 1, 5},
		{[]float64{4, 1, 3, 2}, 2.5, 1, 4},
	}
	for _, tt := range tests {
		s := summarize(tt.in)
		if s.Median != tt.median || s.Min != tt.minV || s.Max != tt.maxV || s.N != len(tt.in) {
			t.Errorf("summarize(%v) = %+v", tt.in, s)
		}
	}
	if s := summarize(nil); s.N != 0 || s.String("s") != "—" {
		t.Errorf("summarize(nil) = %+v", s)
	}
}

// Ratios are oriented so that >1 is worse than the floor.
func TestRatio(t *testing.T) {
	tests := []struct {
		sys, floor float64
		better     workload.Better
		want       float64
		ok         bool
	}{
		{2, 1, workload.Lower, 2, true},    // twice the floor's time
		{1, 2, workload.Higher, 2, true},   // half the floor's rate
		{4, 2, workload.Higher, 0.5, true}, // twice the floor's rate
		{1, 0, workload.Lower, 0, false},   // no floor figure
		{-3, 10, workload.Lower, 0, false}, // a negative memory delta
	}
	for _, tt := range tests {
		got, ok := ratio(tt.sys, tt.floor, tt.better)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ratio(%v, %v, %v) = %v, %v; want %v, %v", tt.sys, tt.floor, tt.better, got, ok, tt.want, tt.ok)
		}
	}
}

// Targets bound the ratio or the figure and say met or not met.
func TestTargets(t *testing.T) {
	rs := []run{
		{W: "W2", System: "otpctl", Variant: "actors"},
		{W: "W2", System: "gochan", Variant: "unbuffered", Floor: true},
		{W: "W5", System: "otpctl", Variant: "panic"},
		{W: "W5", System: "gochan", Variant: "recover", Floor: true},
	}
	outcomes := map[string]*outcome{
		"W2/otpctl/actors":     {results: []workload.Result{{"ns_per_rt": 400}, {"ns_per_rt": 300}, {"ns_per_rt": 900}}},
		"W2/gochan/unbuffered": {results: []workload.Result{{"ns_per_rt": 200}, {"ns_per_rt": 250}}, failed: 1},
		"W5/otpctl/panic":      {results: []workload.Result{{"late_vs_early": 0.5, "p50_ns": 1000}}},
		"W5/gochan/recover":    {results: []workload.Result{{"late_vs_early": 1, "p50_ns": 300}}},
	}
	tgs := []target{
		{W: "W2", Variants: []string{"actors"}, Metric: "ns_per_rt", Ratio: true, Max: 1.5},
		{W: "W5", Variants: []string{"panic"}, Metric: "p50_ns", Ratio: true, Max: 4},
		{W: "W5", Variants: []string{"panic"}, Metric: "late_vs_early", Min: 0.8},
		{W: "W7", Text: "later"},
	}
	rep := buildReport(rs, outcomes, tgs)
	type want struct {
		value float64
		met   bool
	}
	wants := []want{{400.0 / 225, false}, {1000.0 / 300, true}, {0.5, false}}
	if len(rep.Targets) != 4 {
		t.Fatalf("targets %+v", rep.Targets)
	}
	for i, w := range wants {
		tr := rep.Targets[i]
		if tr.Value == nil || tr.Met == nil || *tr.Value != w.value || *tr.Met != w.met {
			t.Errorf("target %d = %+v, want value %v met %v", i, tr, w.value, w.met)
		}
	}
	if rep.Targets[3].Met != nil || rep.Targets[3].Bound != "—" {
		t.Errorf("W7 = %+v, want not measured", rep.Targets[3])
	}
	for _, r := range rep.Rows {
		if r.W == "W2" && r.Floor && r.Failed != 1 {
			t.Errorf("floor row failed = %d, want 1", r.Failed)
		}
	}
}
