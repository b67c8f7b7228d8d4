// Command bench measures otpctl's runtime against the plain-Go floor: it runs
// the workloads W1–W6 of shared/bench/WORKLOADS.md (package bench/workload)
// on the runtime and on goroutines and channels, W7 the reload of a tree
// file (package bench/reload), and W8 the supervision of OS processes by
// the real otpctl binary beside supervisord and pm2 when they are installed
// (package bench/procs; it needs root, for the kernel's process events, and
// `go run ./bench -setup` installs the peers). It runs one OS process per
// (system, workload, repetition), repetitions interleaved, and prints each
// figure as median [min–max] with its ratio to the floor measured in the
// same run (>1 is worse than plain Go) and the project's
// target for it, met or not. The table is also written as Markdown and
// JSON (bench/results.md, bench/results.json) for the README.
//
//	go run ./bench                 # full sizes, REPS=3 (minutes; a quiet machine)
//	go run ./bench -quick -reps 1  # a smoke run in seconds
//	go run ./bench -only W5 -r 20000
//	REPS=5 N=200000 go run ./bench -only W1
//
// Nothing here asserts a time: it measures. The harness starts each
// repetition by running its own executable again with OTPCTL_BENCH_CHILD set
// to the run's key.
package main
