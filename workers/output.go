package workers

import "time"

// Line is one line a worker wrote on its standard output or error (an
// exec worker's): a line longer than 64 KiB comes as several.
type Line struct {
	// Time is when otpctl read it.
	Time time.Time
	// Stream is "stdout" or "stderr".
	Stream string
	// OSPid is the operating-system process that wrote it.
	OSPid int
	// Text is the line without its newline (nor a carriage return before it).
	Text string
}

// Output keeps a worker's output lines for `otpctl logs`: the loader gives
// each worker the one of its path, which outlives the worker's restarts.
// Its methods are safe for concurrent use and never block.
type Output interface {
	// Write keeps line, dropping the oldest kept once the lines kept are
	// as many as Keep said.
	Write(line Line)
	// Keep sets how many lines are kept (the exec arg log.lines); 0 means
	// the default, DefaultLogLines.
	Keep(lines int)
}

// DefaultLogLines is how many output lines of each worker are kept in
// memory when its args do not say (exec's log.lines).
const DefaultLogLines = 1000

// MaxLogLines is the most output lines of one worker that may be kept in
// memory (exec's log.lines): at up to 64 KiB a line, 100,000 lines could
// hold 6.4 GB, so keep a busy child's history in a file (log.file).
const MaxLogLines = 100000
