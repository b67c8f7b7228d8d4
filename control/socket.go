package control

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// SocketPath returns the default socket of the instance called name:
// $XDG_RUNTIME_DIR/otpctl/NAME.sock, or /tmp/otpctl-UID/NAME.sock when
// XDG_RUNTIME_DIR is not set.
func SocketPath(name string) string {
	dir := os.Getenv("XDG_RUNTIME_DIR")
	if dir != "" {
		dir = filepath.Join(dir, "otpctl")
	} else {
		dir = filepath.Join(os.TempDir(), "otpctl-"+strconv.Itoa(os.Getuid()))
	}
	return filepath.Join(dir, name+".sock")
}

// ErrInUse is returned by Listen when another live instance answers on the
// socket.
var ErrInUse = errors.New("another otpctl instance is running on this socket")

// Listen opens the control socket at path: its folder is created 0700 (an
// existing folder must not be open to others), a stale socket from a dead
// instance is replaced, a live one is refused with ErrInUse, and the socket
// is made 0600.
func Listen(path string) (net.Listener, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("control socket folder: %w", err)
	}
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o077 != 0 && dir != os.TempDir() {
		if err := os.Chmod(dir, 0o700); err != nil {
			return nil, fmt.Errorf("control socket folder %s is open to others and cannot be made 0700: %w", dir, err)
		}
	}
	if _, err := os.Lstat(path); err == nil {
		c, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			c.Close()
			return nil, fmt.Errorf("%s: %w (pick another --name or --socket, or stop it with `otpctl shutdown`)", path, ErrInUse)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("removing stale control socket: %w", err)
		}
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return l, nil
}
