// Package cli is otpctl's command line: one urfave/cli command per file,
// each a thin layer over the spec, schema, workers, loader and control
// packages. cmd/otpctl's main calls Main; so does a Go program that
// registers its own kinds and wants the same commands
// (examples/custom-kind).
package cli
