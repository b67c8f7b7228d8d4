// Package keeper is the keeper of otpctl's exec children: the process,
// a re-exec of the running binary, that is the parent of every exec
// worker's OS process and kills what they leave behind, and its start
// helper. Both are entered from this package's init when their variable
// (Env, SpawnEnv) is set. It imports the standard library only, and so
// runs before the package inits of the rest of the binary (Go initializes
// packages in the order of their import paths, each after its imports):
// the keeper does not pay for what otpctl's other packages set up.
//
// The package also reads what the keeper and the record of running
// processes need of /proc: a process's state, group, start time,
// environment and children.
package keeper
