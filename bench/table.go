package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/otpctl/otpctl/bench/workload"
)

// stats are the figures of one metric over the repetitions that produced it.
type stats struct {
	N      int       `json:"n"`
	Values []float64 `json:"values"`
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
}

func summarize(values []float64) stats {
	s := stats{N: len(values), Values: values}
	if len(values) == 0 {
		return s
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	s.Min, s.Max = sorted[0], sorted[len(sorted)-1]
	if n := len(sorted); n%2 == 1 {
		s.Median = sorted[n/2]
	} else {
		s.Median = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	return s
}

// ratio is the figure's ratio to the floor's, oriented so that >1 is worse:
// sys/floor for times, sizes and latencies, floor/sys for rates. It is
// undefined (ok false) unless both are positive.
func ratio(sys, floor float64, better workload.Better) (float64, bool) {
	if sys <= 0 || floor <= 0 || math.IsNaN(sys) || math.IsNaN(floor) {
		return 0, false
	}
	if better == workload.Higher {
		return floor / sys, true
	}
	return sys / floor, true
}

// row is one metric of one run in the results.
type row struct {
	W       string `json:"workload"`
	System  string `json:"system"`
	Variant string `json:"variant"`
	Floor   bool   `json:"floor,omitempty"`
	Metric  string `json:"metric"`
	Label   string `json:"label"`
	Unit    string `json:"unit"`
	stats
	Failed int      `json:"failed,omitempty"`
	Ratio  *float64 `json:"ratio_to_floor,omitempty"`
	// Target and Met are set on the rows an issue-8 target applies to.
	Target string `json:"target,omitempty"`
	Met    *bool  `json:"met,omitempty"`
}

// targetResult is one target checked against one run.
type targetResult struct {
	W       string   `json:"workload"`
	Variant string   `json:"variant,omitempty"`
	Metric  string   `json:"metric,omitempty"`
	Target  string   `json:"target"`
	Bound   string   `json:"bound"`
	OnRatio bool     `json:"on_ratio,omitempty"` // the bound is on the ratio to the floor, not the figure
	Value   *float64 `json:"value,omitempty"`    // the ratio or the figure the bound is on
	Met     *bool    `json:"met,omitempty"`      // nil: not measured
}

// report is everything a suite run produced.
type report struct {
	Machine  machine         `json:"machine"`
	Sizes    workload.Sizes  `json:"sizes"`
	Reps     int             `json:"reps"`
	Rows     []row           `json:"rows"`
	Targets  []targetResult  `json:"targets"`
	Failures []failureRecord `json:"failures,omitempty"`
	// Skipped are the W8 runs that could not run here, and why.
	Skipped []string `json:"skipped,omitempty"`
}

// failureRecord is a repetition that failed (RUNFAIL).
type failureRecord struct {
	Run string `json:"run"`
	Rep int    `json:"rep"`
	Err string `json:"error"`
}

// outcome is what the repetitions of one run produced.
type outcome struct {
	results []workload.Result
	failed  int
}

// buildReport turns the outcomes of the runs (by Key) into rows, computes
// the ratios to each workload's floor and checks the targets.
func buildReport(rs []run, outcomes map[string]*outcome, tgs []target) report {
	var rep report
	floorMedian := map[string]float64{} // W + "/" + metric
	for _, r := range rs {
		if !r.Floor || outcomes[r.Key()] == nil {
			continue
		}
		for _, m := range metricOrder[r.W] {
			if s := metricStats(outcomes[r.Key()], m); s.N > 0 {
				floorMedian[r.W+"/"+m] = s.Median
			}
		}
	}
	for _, r := range rs {
		o := outcomes[r.Key()]
		if o == nil {
			continue
		}
		for _, m := range metricOrder[r.W] {
			info := workload.Metrics[m]
			rw := row{W: r.W, System: r.System, Variant: r.Variant, Floor: r.Floor, Metric: m,
				Label: info.Label, Unit: info.Unit, stats: metricStats(o, m), Failed: o.failed}
			if f, ok := floorMedian[r.W+"/"+m]; ok && rw.N > 0 {
				if x, ok := ratio(rw.Median, f, info.Better); ok {
					rw.Ratio = &x
				}
			}
			rep.Rows = append(rep.Rows, rw)
		}
	}
	for _, t := range tgs {
		if t.Metric == "" {
			rep.Targets = append(rep.Targets, targetResult{W: t.W, Target: t.Text, Bound: "—"})
			continue
		}
		for _, v := range t.Variants {
			tr := targetResult{W: t.W, Variant: v, Metric: t.Metric, Target: t.Text, Bound: t.bound(), OnRatio: t.Ratio}
			for i := range rep.Rows {
				rw := &rep.Rows[i]
				if rw.W != t.W || rw.System != "otpctl" || rw.Variant != v || rw.Metric != t.Metric {
					continue
				}
				rw.Target = tr.Bound
				val, ok := rw.Median, rw.N > 0
				if t.Ratio {
					ok = rw.Ratio != nil
					if ok {
						val = *rw.Ratio
					}
				}
				if ok {
					met := t.met(val)
					tr.Value, tr.Met, rw.Met = &val, &met, &met
				}
			}
			rep.Targets = append(rep.Targets, tr)
		}
	}
	return rep
}

func metricStats(o *outcome, m string) stats {
	var vals []float64
	for _, r := range o.results {
		if v, ok := r[m]; ok {
			vals = append(vals, v)
		}
	}
	return summarize(vals)
}

func (t target) bound() string {
	unit := workload.Metrics[t.Metric].Unit
	switch {
	case t.Min > 0:
		return "≥ " + withUnit(t.Min, unit)
	case t.Ratio:
		return fmt.Sprintf("≤ %.3g×", t.Max)
	default:
		return "≤ " + withUnit(t.Max, unit)
	}
}

// withUnit formats v followed by its unit.
func withUnit(v float64, unit string) string {
	if unit == "×" {
		return format(v, unit) + unit
	}
	return format(v, unit) + " " + unit
}

func (t target) met(v float64) bool {
	if t.Min > 0 {
		return v >= t.Min
	}
	return v <= t.Max
}

// format prints a figure as ANCHORS.md does: rates as 3.62M or 532k, byte
// and ns figures as integers (10k from ten thousand up), seconds with three
// significant digits.
func format(v float64, unit string) string {
	switch unit {
	case "/s":
		switch {
		case math.Abs(v) >= 1e6:
			return fmt.Sprintf("%.2fM", v/1e6)
		case math.Abs(v) >= 1e3:
			return fmt.Sprintf("%.0fk", v/1e3)
		}
		return fmt.Sprintf("%.0f", v)
	case "ns", "B":
		if math.Abs(v) >= 1e4 {
			return fmt.Sprintf("%.0fk", v/1e3)
		}
		return fmt.Sprintf("%.0f", v)
	case "×":
		return fmt.Sprintf("%.2f", v)
	}
	switch a := math.Abs(v); {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

func (s stats) String(unit string) string {
	if s.N == 0 {
		return "—"
	}
	return fmt.Sprintf("%s [%s–%s] n=%d", format(s.Median, unit), format(s.Min, unit), format(s.Max, unit), s.N)
}

func metYes(m *bool) string {
	switch {
	case m == nil:
		return ""
	case *m:
		return "met"
	}
	return "**not met**"
}

// writeMarkdown writes the results as Markdown: the machine, the table of
// figures with ratios and targets, and the targets on their own.
func (rep report) writeMarkdown(w io.Writer) error {
	var b strings.Builder
	m := rep.Machine
	fmt.Fprintf(&b, "### otpctl's runtime against plain goroutines and channels (gochan)\n\n")
	fmt.Fprintf(&b, "Ran %s on %s: %d CPUs, GOMAXPROCS %d, %s RAM; %s %s/%s; load average %s at the start, %s at the end.%s\n\n",
		m.Date, m.CPU, m.CPUs, m.GOMAXPROCS, m.Memory, m.GoVersion, m.OS, m.Arch, m.LoadStart, m.LoadEnd, m.envNote())
	s := rep.Sizes
	fmt.Fprintf(&b, "Sizes: W1 N=%d; W2 M=%d; W3 %d×%d; W4 C=%d; W5 R=%d; W6 %d×%d; W7 the W6 sizes and 1×1000; W8 200 and 1,000 exec children (%d when set), %d kills. One OS process per (system, workload, repetition), repetitions interleaved; median [min–max] over n of %d repetitions. Ratio = median/median of the floor (gochan) of the same run, rates inverted: >1 is worse than plain Go.\n\n",
		s.N, s.M, s.S, s.K, s.C, s.R, s.Sups, s.Workers, s.Procs, s.Kills, rep.Reps)
	b.WriteString("| W | system | metric | median [min–max] | ratio to floor | target | met |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, r := range rep.Rows {
		fig := r.stats.String(r.Unit)
		if r.Failed > 0 {
			fig += fmt.Sprintf(" (%d failed)", r.Failed)
		}
		rt := "—"
		switch {
		case r.Floor:
			rt = "floor"
		case r.Ratio != nil:
			rt = fmt.Sprintf("%.2f", *r.Ratio)
		}
		fmt.Fprintf(&b, "| %s | %s %s | %s | %s | %s | %s | %s |\n", r.W, r.System, r.Variant, r.Label, fig, rt, r.Target, metYes(r.Met))
	}
	for _, sk := range rep.Skipped {
		fmt.Fprintf(&b, "\nSkipped %s.\n", sk)
	}
	b.WriteString("\n#### Targets (issues 8 and 20)\n\n| W | run | target | bound | measured | met |\n|---|---|---|---|---|---|\n")
	for _, t := range rep.Targets {
		run, got, met := "otpctl "+t.Variant, "—", "not measured yet"
		if t.Variant == "" {
			run = "otpctl"
		}
		if t.Value != nil {
			if t.OnRatio {
				got = fmt.Sprintf("%.2f×", *t.Value)
			} else {
				got = withUnit(*t.Value, workload.Metrics[t.Metric].Unit)
			}
		}
		if t.Met != nil {
			met = metYes(t.Met)
		} else if t.Metric != "" {
			met = "no figure"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", t.W, run, t.Target, t.Bound, got, met)
	}
	if len(rep.Failures) > 0 {
		b.WriteString("\n#### Failed repetitions (RUNFAIL)\n\n")
		for _, f := range rep.Failures {
			fmt.Fprintf(&b, "- %s, rep %d: %s\n", f.Run, f.Rep, strings.ReplaceAll(f.Err, "\n", " "))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (rep report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
