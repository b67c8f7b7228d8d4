//go:build !linux

package procs

import (
	"errors"
	"time"
)

// listener is Linux's alone: elsewhere W8 cannot run.
type listener struct{ execs chan exec1 }

func listen(string) (*listener, error) {
	return nil, errors.New("W8 needs Linux's netlink proc connector")
}

func (l *listener) close() error { return nil }

func monotonic() time.Duration { return 0 }
