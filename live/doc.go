// Package live is the one model of a running tree that every layer shares:
// a Node of the live tree and an Event of its log. The loader fills them
// from the runtime's snapshots and events, the control API serves them as
// they are (JSON), and `otpctl tree`, `otpctl events`, the logs and otptest
// read them. It knows nothing of tree files, sockets or the CLI, and imports
// only the standard library and runtime (for the states, causes and event
// names, and the live process of a node read in the tree's own process).
package live
