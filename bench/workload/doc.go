// Package workload implements the benchmark workloads W1–W6 of
// shared/bench/WORKLOADS.md twice: on otpctl's runtime (its public API only)
// and on plain goroutines and channels, the floor ("gochan") every figure is
// compared with.
//
// Each workload is a function that takes its sizes, runs once, checks that
// the run did what the definition says (all actors up, every worker
// terminated, the registry points at the newest child, …) and returns its
// figures as a Result. The same functions serve `go run ./bench`, which runs
// each of them in its own OS process, and the `go test -bench` benchmarks in
// package runtime, which run them with b.N as the size. Nothing here asserts
// a time: the figures are measurements.
//
// The pairs, runtime first and floor second:
//
//	W1 spawn N idle   W1Actors, W1Processes     W1Floor
//	W2 ping-pong      W2Actors, W2Processes     W2Floor(unbuffered / cap 1)
//	W3 8→1 fan-in     W3Actor, W3Process        W3Floor
//	W4 Call latency   W4Call                    W4Floor
//	W5 restart        W5Restart                 W5Floor
//	W6 100k tree      W6Tree                    W6Floor
//
// W7, the reload of a 100k-worker tree file, is package bench/reload: it
// needs the loader, and this package depends on the runtime alone.
package workload
