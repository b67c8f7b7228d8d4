// Package runtime is otpctl's actor runtime: Erlang/OTP's processes, links,
// monitors, actors and supervisors, in Go, under the names a Gleam or Erlang
// programmer knows.
//
// # Processes and subjects
//
// A process is a goroutine with a mailbox, an identity (Pid), links, monitors
// and an exit reason. Spawn starts one; its function gets a *Process, its
// handle on itself. A Subject[T] is a typed address owned by the process that
// made it (NewSubject). Send never blocks: mailboxes are unbounded. Receive
// takes the oldest message of one subject, leaving the others queued; a
// Selector waits on several subjects, Down messages and trapped exits at once.
//
// # Exits, links and monitors
//
// A process exits with Normal when its function returns, with a *PanicError
// when it panics (a panic never takes the program down), or with the reason
// of an exit signal (Exit, or a linked process's abnormal exit). A process
// that traps exits (Process.TrapExits) gets signals as ExitMessages instead,
// except Killed sent with Exit. Monitors deliver one Down each.
//
// Go cannot pre-empt a goroutine. A process killed by a signal is marked dead
// at once, its links and monitors fire, and its goroutine unwinds (with
// runtime.Goexit, so its defers run) at its next runtime call: Receive,
// Select, Call, Sleep, Link, SpawnLink, StartLink. One that runs outside the
// runtime is abandoned until then and counted by Strays.
//
// # Actors
//
// An actor (Start, StartLink) is a GenServer: an Init with a timeout and a
// Loop that returns Continue(state) or Stop(reason). It holds no goroutine
// while its mailbox is empty, so a million idle actors are cheap. Call sends
// a request carrying a fresh reply subject and waits for the reply, the
// callee's exit or a timeout; a late reply is dropped.
//
// # Supervisors
//
// A supervisor (StartSupervisor) is a process that starts its children in
// order, each start complete before the next, and keeps them running by
// OTP's rules: its Strategy (OneForOne, OneForAll, RestForOne) says which
// children restart when one exits; each child's RestartType (Permanent,
// Transient, Temporary) says whether it restarts at all; more than
// MaxFrequency restarts within Period and it gives up, terminating its
// children in reverse order and exiting with Shutdown, which its own parent
// handles as a child exit. A DynamicSpec makes a factory supervisor (OTP's
// simple_one_for_one). Every lifecycle event goes to SupervisorSpec.Events
// with the child's path and, for started and terminated, the Cause and the
// Trigger; Snapshot returns the live subtree. The operator and reload
// operations (TerminateChild, RestartChild, and Apply of the reload's
// Change values) are not crashes: they count against no intensity and
// restart no sibling. A Backoff (per child, or Flags.Backoff for the
// children that set none) delays the start of a restart, not its count:
// the supervisor waits on a timer message, answering meanwhile, so that it
// gives up on sustained failure rather than on a burst.
//
// # Pools
//
// A Pool (StartPool) is the seed's worker_pool: N identical members, the
// children "1" … "N" of one Supervisor with the pool's flags, and a
// dispatcher: Send and CallPool hand a message to one member, chosen
// round robin (the default), at random or by the shortest mailbox
// (Dispatch), skipping members that are being restarted; Broadcast sends
// it to all. Resize grows the pool at its end and shrinks it from there,
// touching no other member.
//
// # Time
//
// Timeouts read a Clock (WithClock); FakeClock lets tests move time by hand.
//
// # The name
//
// The package is named runtime, as its folder, and so shadows the standard
// library's runtime: a file that needs both imports the standard one as
// goruntime (import goruntime "runtime"), the one alias used everywhere in
// the project, so that runtime.X always means this package.
package runtime
