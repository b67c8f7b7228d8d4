package builtin

import (
	"bytes"
	"log/slog"
)

// maxLine is the longest output line relayed as one record; a longer one is
// relayed in pieces of this size.
const maxLine = 64 << 10

// lineWriter relays what an exec worker writes on one stream, one log record
// per line, keeps each line in sink (`otpctl logs`, log.file) and shows it
// to onLine (the log readiness check). One goroutine at a time writes to it
// (the output relay on Linux, os/exec's copier elsewhere); flush is called
// once its pipe is closed.
type lineWriter struct {
	log    *slog.Logger
	stream string
	onLine func(line string)
	sink   *outputSink // nil: none
	buf    []byte
}

func (l *lineWriter) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			l.buf = append(l.buf, b...)
			for len(l.buf) >= maxLine {
				l.emit(l.buf[:maxLine])
				l.buf = append(l.buf[:0], l.buf[maxLine:]...)
			}
			break
		}
		if len(l.buf) > 0 {
			l.buf = append(l.buf, b[:i]...)
			l.emit(l.buf)
			l.buf = l.buf[:0]
		} else {
			l.emit(b[:i])
		}
		b = b[i+1:]
	}
	return n, nil
}

// flush relays a last line that had no newline.
func (l *lineWriter) flush() {
	if len(l.buf) > 0 {
		l.emit(l.buf)
		l.buf = l.buf[:0]
	}
}

func (l *lineWriter) emit(b []byte) {
	line := string(bytes.TrimSuffix(b, []byte{'\r'}))
	l.log.Info("output", "stream", l.stream, "line", line)
	if l.sink != nil {
		l.sink.write(l.stream, line)
	}
	if l.onLine != nil {
		l.onLine(line)
	}
}
