package builtin

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/otpctl/otpctl/internal/trust"
	"github.com/otpctl/otpctl/workers"
	"gopkg.in/natefinch/lumberjack.v2"
)

// Defaults of exec's log.file rotation.
const (
	defaultLogMaxSize = 10 // megabytes
	defaultLogKeep    = 5
)

// logArgs is exec's `log` arg: how many output lines to keep in memory, and
// an optional file to append them to, rotated by size.
type logArgs struct {
	Lines   int    `json:"lines"`
	File    string `json:"file"`
	MaxSize string `json:"max_size"`
	Keep    *int   `json:"keep"`
}

// logConfig is exec's `log` arg, checked.
type logConfig struct {
	lines   int    // 0: workers.DefaultLogLines
	file    string // "": no file; relative to the tree file's folder
	maxSize int    // megabytes
	keep    int    // rotated files kept
}

var logSchema = `{
      "type": "object",
      "additionalProperties": false,
      "description": "where the output lines are kept: the last lines in memory for otpctl logs, and optionally a file rotated by size",
      "properties": {
        "lines": {"type": "integer", "minimum": 1, "maximum": ` + strconv.Itoa(workers.MaxLogLines) + `, "default": ` + strconv.Itoa(workers.DefaultLogLines) + `, "description": "how many of the last output lines (stdout and stderr, across restarts) otpctl logs can show"},
        "file": {"type": "string", "minLength": 1, "description": "a file each output line is appended to (relative to the tree file's folder); its folder must exist"},
        "max_size": {"type": "string", "pattern": "^[1-9][0-9]{0,5}(MB|GB)$", "x-message": "must be a size in MB or GB, such as 10MB", "default": "10MB", "description": "the file is rotated (renamed with a timestamp) once it would grow past this"},
        "keep": {"type": "integer", "minimum": 0, "maximum": 1000, "default": 5, "description": "how many rotated files are kept (0: all)"}
      }
    }`

func (a *logArgs) parse() (*logConfig, error) {
	c := &logConfig{lines: a.Lines, file: a.File, maxSize: defaultLogMaxSize, keep: defaultLogKeep}
	if a.Lines < 0 || a.Lines > workers.MaxLogLines {
		return nil, &workers.ArgError{Pointer: "/log/lines", Message: fmt.Sprintf("%d is not between 1 and %d", a.Lines, workers.MaxLogLines)}
	}
	if strings.IndexByte(a.File, 0) >= 0 {
		return nil, &workers.ArgError{Pointer: "/log/file", Message: fmt.Sprintf("%q must not contain a NUL byte", a.File)}
	}
	if a.MaxSize != "" {
		num, unit := a.MaxSize[:len(a.MaxSize)-2], a.MaxSize[len(a.MaxSize)-2:]
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 || (unit != "MB" && unit != "GB") || n > 1<<20 {
			return nil, &workers.ArgError{Pointer: "/log/max_size", Message: fmt.Sprintf("%q must be a size in MB or GB, such as 10MB", a.MaxSize)}
		}
		if unit == "GB" {
			n *= 1024
		}
		c.maxSize = n
	}
	if a.Keep != nil {
		c.keep = *a.Keep
	}
	return c, nil
}

// logFiles are the open log files, one lumberjack.Logger per file and
// rotation settings, shared by the starts of a child (and by children that
// name the same file), so that a restart appends to the file as it is.
// A Logger is never dropped: each has a goroutine that removes old files,
// and the set is bounded by the files the tree files name.
var logFiles struct {
	mu sync.Mutex
	m  map[logConfig]*lumberjack.Logger
}

// openLogFile returns the writer of c's file (an absolute path), checking,
// when otpctl runs as root, that no other user can change the file or its
// folders.
func openLogFile(c logConfig) (*lumberjack.Logger, error) {
	dir := filepath.Dir(c.file)
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("log.file %s: its folder: %w", c.file, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("log.file %s: %s is not a folder", c.file, dir)
	}
	if os.Geteuid() == 0 {
		if err := trust.Path(c.file, 0); err != nil {
			return nil, fmt.Errorf("log.file %s: %w", c.file, err)
		}
	}
	c.lines = 0 // not part of the file's identity
	logFiles.mu.Lock()
	defer logFiles.mu.Unlock()
	if logFiles.m == nil {
		logFiles.m = map[logConfig]*lumberjack.Logger{}
	}
	l := logFiles.m[c]
	if l == nil {
		// lumberjack creates a new file 0600 (a rotated one keeps its mode).
		l = &lumberjack.Logger{Filename: c.file, MaxSize: c.maxSize, MaxBackups: c.keep}
		logFiles.m[c] = l
	}
	return l, nil
}

// ReopenLogFiles closes the exec children's log files (log.file), so that
// each is opened again, by its name, at its next line: `otpctl run` calls
// it on SIGHUP, after logrotate (or an operator) has moved the files away.
func ReopenLogFiles() {
	logFiles.mu.Lock()
	defer logFiles.mu.Unlock()
	for _, l := range logFiles.m {
		l.Close()
	}
}

// logLine is how a line is written to a log file:
// `TIME STREAM[PID]: LINE`, the time in RFC 3339 with milliseconds, UTC.
func logLine(l workers.Line) []byte {
	return fmt.Appendf(nil, "%s %s[%d]: %s\n", l.Time.UTC().Format(logTime), l.Stream, l.OSPid, l.Text)
}

// logTime is the time format of log files and `otpctl logs`.
const logTime = "2006-01-02T15:04:05.000Z07:00"

// absLogFile resolves a relative log.file against the tree file's folder.
func absLogFile(file, treeDir string) (string, error) {
	if !filepath.IsAbs(file) {
		file = filepath.Join(treeDir, file)
	}
	return filepath.Abs(file)
}

// outputSink is where an exec start's output lines go besides its logger:
// the path's kept lines (Worker.Output) and its log file, each line with
// the OS pid that wrote it.
type outputSink struct {
	keep workers.Output     // nil: none
	file *lumberjack.Logger // nil: none
	pid  atomic.Int64
	// forked is closed once the fork is over (pid set, or it failed): a
	// line read before waits for it, to carry the pid.
	forked chan struct{}
}

// forkWait bounds how long a line waits for its pid.
const forkWait = 5 * time.Second

// forkDone records the pid (0: the fork failed) and lets the lines go.
func (s *outputSink) forkDone(pid int) {
	s.pid.Store(int64(pid))
	close(s.forked)
}

func (s *outputSink) write(stream, text string) {
	select {
	case <-s.forked:
	default:
		t := time.NewTimer(forkWait)
		select {
		case <-s.forked:
		case <-t.C:
		}
		t.Stop()
	}
	l := workers.Line{Time: time.Now(), Stream: stream, OSPid: int(s.pid.Load()), Text: text}
	if s.keep != nil {
		s.keep.Write(l)
	}
	if s.file != nil {
		s.file.Write(logLine(l)) // a full disk loses lines, never stops the child
	}
}

// openSink sets up where w's output lines go besides its logger: it sizes
// w's kept lines and opens the log file.
func openSink(c logConfig, w workers.Worker) (*outputSink, error) {
	s := &outputSink{keep: w.Output, forked: make(chan struct{})}
	if s.keep != nil {
		s.keep.Keep(c.lines)
	}
	if c.file != "" {
		abs, err := absLogFile(c.file, w.TreeDir)
		if err != nil {
			return nil, err
		}
		c.file = abs
		if s.file, err = openLogFile(c); err != nil {
			return nil, err
		}
	}
	return s, nil
}
