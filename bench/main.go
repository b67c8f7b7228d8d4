package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/otpctl/otpctl/bench/procs"
	"github.com/otpctl/otpctl/bench/workload"
)

// The harness runs each repetition by starting itself again with these set:
// the run's key and the sizes (JSON).
const (
	childEnv = "OTPCTL_BENCH_CHILD"
	sizesEnv = "OTPCTL_BENCH_SIZES"
)

func main() {
	if key := os.Getenv(childEnv); key != "" {
		os.Exit(child(key, os.Getenv(sizesEnv), os.Stdout, os.Stderr))
	}
	if err := runSuite(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// child runs one repetition of one run and prints its Result as JSON on
// stdout. It returns the exit code.
func child(key, sizesJSON string, stdout, stderr io.Writer) int {
	var sz workload.Sizes
	if err := json.Unmarshal([]byte(sizesJSON), &sz); err != nil {
		fmt.Fprintf(stderr, "FAIL %s: sizes: %v\n", key, err)
		return 2
	}
	for _, r := range runs {
		if r.Key() != key {
			continue
		}
		res, err := r.Fn(sz)
		if err != nil {
			fmt.Fprintf(stderr, "FAIL %s: %v\n", key, err)
			return 1
		}
		if err := json.NewEncoder(stdout).Encode(res); err != nil {
			fmt.Fprintf(stderr, "FAIL %s: %v\n", key, err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stderr, "FAIL: no run %q\n", key)
	return 2
}

// config is what the command line asks for.
type config struct {
	sizes    workload.Sizes
	peers    bool
	reps     int
	only     *regexp.Regexp
	timeout  time.Duration
	mdPath   string
	jsonPath string
}

// envInt is the integer in environment variable name, or def.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./bench [flags]\n\n"+
			"Runs workloads W1–W6 (shared/bench/WORKLOADS.md) on otpctl's runtime and on plain Go, W7 (reload)\n"+
			"and W8 (exec children, beside supervisord and pm2 when installed; root),\n"+
			"one OS process per (system, workload, repetition), repetitions interleaved, and prints\n"+
			"median [min–max] and the ratio to plain Go. Sizes and REPS default to the environment\n"+
			"variables of the same upper-case name (N, M, K, C, R, REPS), then to WORKLOADS.md's.\n\n")
		fs.PrintDefaults()
	}
	quick := fs.Bool("quick", os.Getenv("QUICK") != "", "small sizes, for a smoke run (QUICK=1)")
	full := workload.FullSizes()
	n := fs.Int("n", 0, "W1: idle actors and processes (default 1,000,000)")
	m := fs.Int("m", 0, "W2: round trips (default 2,000,000)")
	s := fs.Int("s", 0, "W3: senders (default 8)")
	k := fs.Int("k", 0, "W3: messages per sender (default 1,000,000)")
	c := fs.Int("c", 0, "W4: calls (default 1,000,000)")
	r := fs.Int("r", 0, "W5: restarts (default 100,000)")
	sups := fs.Int("sups", 0, "W6: supervisors under the top one (default 100)")
	workers := fs.Int("workers", 0, "W6: workers per supervisor (default 1,000)")
	reps := fs.Int("reps", envInt("REPS", 3), "repetitions of each run (REPS)")
	only := fs.String("only", "", "run only the runs whose key (W1/otpctl/actors, …) matches this regexp")
	timeout := fs.Duration("timeout", 600*time.Second, "a repetition that runs longer fails (RUNFAIL)")
	md := fs.String("md", filepath.Join("bench", "results.md"), "write the table as Markdown here (empty: don't)")
	js := fs.String("json", filepath.Join("bench", "results.json"), "write the results as JSON here (empty: don't)")
	list := fs.Bool("list", false, "list the runs and exit")
	peers := fs.Bool("peers", true, "W8: also measure supervisord and pm2 when installed")
	setup := fs.Bool("setup", false, "install W8's peers (apt-get install supervisor; npm install -g pm2) and exit")
	procsN := fs.Int("procs", 0, "W8: exec children (default: each run's, 200 or 1,000)")
	kills := fs.Int("kills", 0, "W8: kill -9s per run (default 50)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *setup {
		return config{}, setupPeers(stderr)
	}
	if *list {
		for _, r := range runs {
			fmt.Fprintln(stderr, r.Key())
		}
		return config{}, flag.ErrHelp
	}
	sz := full
	if *quick {
		sz = workload.QuickSizes()
	}
	pick := func(flagV *int, env string, def int) int {
		if *flagV > 0 {
			return *flagV
		}
		return envInt(env, def)
	}
	sz.N, sz.M, sz.S, sz.K = pick(n, "N", sz.N), pick(m, "M", sz.M), pick(s, "S", sz.S), pick(k, "K", sz.K)
	sz.C, sz.R = pick(c, "C", sz.C), pick(r, "R", sz.R)
	sz.Procs, sz.Kills = pick(procsN, "PROCS", sz.Procs), pick(kills, "KILLS", sz.Kills)
	sz.Sups, sz.Workers = pick(sups, "SUPS", sz.Sups), pick(workers, "WORKERS", sz.Workers)
	if sz.Timeout == 0 || sz.Timeout > *timeout {
		sz.Timeout = *timeout
	}
	cfg := config{sizes: sz, peers: *peers, reps: *reps, timeout: *timeout, mdPath: *md, jsonPath: *js}
	if cfg.reps < 1 {
		return config{}, fmt.Errorf("reps %d: at least 1", cfg.reps)
	}
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			return config{}, fmt.Errorf("-only: %w", err)
		}
		cfg.only = re
	}
	return cfg, nil
}

// runSuite runs the suite the arguments ask for and writes its results.
func runSuite(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	var selected []run
	var skipped []string
	for _, r := range runs {
		if cfg.only != nil && !cfg.only.MatchString(r.Key()) || r.Peer && !cfg.peers {
			continue
		}
		if r.W == "W8" {
			if err := procs.Available(r.System); err != nil {
				skipped = append(skipped, r.Key()+": "+err.Error())
				continue
			}
		}
		selected = append(selected, r)
	}
	if len(selected) == 0 {
		return fmt.Errorf("no run matches -only (skipped: %q)", skipped)
	}
	if slices.ContainsFunc(selected, func(r run) bool { return r.W == "W8" }) {
		dir, err := os.MkdirTemp("", "otpctl-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.sizes.Otpctl = filepath.Join(dir, "otpctl")
		if out, err := exec.Command("go", "build", "-o", cfg.sizes.Otpctl, "github.com/otpctl/otpctl/cmd/otpctl").CombinedOutput(); err != nil {
			return fmt.Errorf("building otpctl for W8: %v\n%s", err, out)
		}
	}
	sizes, err := json.Marshal(cfg.sizes)
	if err != nil {
		return err
	}

	mach := readMachine()
	outcomes := map[string]*outcome{}
	var failures []failureRecord
	for rep := 1; rep <= cfg.reps; rep++ {
		for _, r := range selected {
			o := outcomes[r.Key()]
			if o == nil {
				o = &outcome{}
				outcomes[r.Key()] = o
			}
			t0 := time.Now()
			res, err := runChild(exe, r.Key(), sizes, cfg.timeout)
			if err != nil {
				o.failed++
				failures = append(failures, failureRecord{Run: r.Key(), Rep: rep, Err: err.Error()})
				fmt.Fprintf(stderr, "rep %d/%d %-32s RUNFAIL after %.1fs: %v\n", rep, cfg.reps, r.Key(), time.Since(t0).Seconds(), err)
				continue
			}
			o.results = append(o.results, res)
			fmt.Fprintf(stderr, "rep %d/%d %-32s %.1fs\n", rep, cfg.reps, r.Key(), time.Since(t0).Seconds())
		}
	}
	mach.LoadEnd = loadAverage()

	rep := buildReport(selected, outcomes, targets)
	rep.Machine, rep.Sizes, rep.Reps, rep.Failures, rep.Skipped = mach, cfg.sizes, cfg.reps, failures, skipped
	var md bytes.Buffer
	if err := rep.writeMarkdown(&md); err != nil {
		return err
	}
	if _, err := stdout.Write(md.Bytes()); err != nil {
		return err
	}
	if err := writeFile(cfg.mdPath, md.Bytes()); err != nil {
		return err
	}
	if cfg.jsonPath != "" {
		var js bytes.Buffer
		if err := rep.writeJSON(&js); err != nil {
			return err
		}
		if err := writeFile(cfg.jsonPath, js.Bytes()); err != nil {
			return err
		}
	}
	if len(failures) > 0 {
		return fmt.Errorf("%d repetitions failed", len(failures))
	}
	return nil
}

func writeFile(path string, b []byte) error {
	if path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// runChild runs one repetition in a fresh OS process and returns its
// figures. A process that exits non-zero, prints FAIL or passes timeout is
// a failure.
func runChild(exe, key string, sizes []byte, timeout time.Duration) (workload.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	// A binary built with -race (the harness's own test) sleeps 1 s at
	// exit unless told not to.
	race := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	cmd.Env = append(os.Environ(), childEnv+"="+key, sizesEnv+"="+string(sizes), "GORACE="+race)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("TIMEOUT after %v", timeout)
	}
	msg := strings.TrimSpace(errOut.String())
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, msg)
	}
	if strings.Contains(msg, "FAIL") {
		return nil, errors.New(msg)
	}
	var res workload.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("reading the figures: %w (stdout %q)", err, out.String())
	}
	return res, nil
}

// machine says where a suite ran.
type machine struct {
	Date       string `json:"date"`
	CPU        string `json:"cpu"`
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Memory     string `json:"memory"`
	GoVersion  string `json:"go"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	LoadStart  string `json:"load_start"`
	LoadEnd    string `json:"load_end"`
	// Env holds GOGC, GOMEMLIMIT and GODEBUG when set (WORKLOADS.md
	// wants them unset).
	Env map[string]string `json:"env,omitempty"`
}

func readMachine() machine {
	m := machine{
		Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), CPU: "unknown CPU", CPUs: goruntime.NumCPU(),
		GOMAXPROCS: goruntime.GOMAXPROCS(0), Memory: "?", GoVersion: goruntime.Version(),
		OS: goruntime.GOOS, Arch: goruntime.GOARCH, LoadStart: loadAverage(),
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if f := strings.Fields(v); len(f) > 0 {
					if kb, err := strconv.ParseFloat(f[0], 64); err == nil {
						m.Memory = fmt.Sprintf("%.0f GiB", kb/(1<<20))
					}
				}
			}
		}
	}
	for _, k := range []string{"GOGC", "GOMEMLIMIT", "GODEBUG", "GOMAXPROCS"} {
		if v, ok := os.LookupEnv(k); ok {
			if m.Env == nil {
				m.Env = map[string]string{}
			}
			m.Env[k] = v
		}
	}
	return m
}

func (m machine) envNote() string {
	if len(m.Env) == 0 {
		return ""
	}
	var parts []string
	for _, k := range []string{"GOGC", "GOMEMLIMIT", "GODEBUG", "GOMAXPROCS"} {
		if v, ok := m.Env[k]; ok {
			parts = append(parts, k+"="+v)
		}
	}
	return " Environment: " + strings.Join(parts, " ") + "."
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// setupPeers installs W8's peers: supervisord (Debian's supervisor) and pm2
// (npm's, and npm first if missing). A peer that cannot be installed is
// reported and skipped by the runs.
func setupPeers(stderr io.Writer) error {
	steps := [][]string{}
	if _, err := exec.LookPath("supervisord"); err != nil {
		steps = append(steps, []string{"apt-get", "install", "-y", "supervisor"})
	}
	if _, err := exec.LookPath("pm2"); err != nil {
		if _, err := exec.LookPath("npm"); err != nil {
			steps = append(steps, []string{"apt-get", "install", "-y", "npm"})
		}
		steps = append(steps, []string{"npm", "install", "-g", "pm2"})
	}
	for _, st := range steps {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		cmd := exec.CommandContext(ctx, st[0], st[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = stderr, stderr
		err := cmd.Run()
		cancel()
		if err != nil {
			fmt.Fprintf(stderr, "bench -setup: %s: %v (that peer will be skipped)\n", strings.Join(st, " "), err)
		}
	}
	return flag.ErrHelp
}
