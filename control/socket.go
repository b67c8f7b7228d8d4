package control

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/otpctl/otpctl/internal/trust"
)

// SocketPath returns the default socket of the instance called name:
// $XDG_RUNTIME_DIR/otpctl/NAME.sock, or /tmp/otpctl-UID/NAME.sock when
// XDG_RUNTIME_DIR is not set.
func SocketPath(name string) string {
	return filepath.Join(socketFolder(), name+".sock")
}

// socketFolder is the folder of the default sockets.
func socketFolder() string {
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		return filepath.Join(dir, "otpctl")
	}
	return filepath.Join(os.TempDir(), "otpctl-"+strconv.Itoa(os.Getuid()))
}

// ErrInUse is returned by Listen when another live instance answers on the
// socket.
var ErrInUse = errors.New("another otpctl instance is running on this socket")

// Listen opens the control socket at path. No folder that exists is ever
// changed, and nothing but a socket of ours is ever removed:
//
//   - The default socket folder (see SocketPath) is created 0700 when it
//     is missing; one that exists must be a real folder (not a symlink)
//     owned by the effective user with mode 0700, else it is refused with
//     an error that names it, its owner and its mode. Another user's
//     folder would let them swap in a socket of theirs.
//   - Any other folder (--socket DIR/x.sock) is created 0700 when it is
//     missing; one that exists is left as it is, but must be safe from
//     other users: owned by the user or root, and neither it nor a folder
//     above it writable by others unless sticky (as /tmp), so that nobody
//     else can replace the socket (CheckSocket).
//   - A file already at path is removed only when it is a socket owned by
//     the user that nobody answers on (a dead instance's); a live one is
//     ErrInUse; anything else is refused.
//   - The socket is created 0600: its mode is set on the socket before
//     bind, so the file never exists with a wider one (see listenPrivate).
func Listen(path string) (net.Listener, error) {
	dir := filepath.Dir(path)
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("control socket folder: %w", err)
		}
	}
	if err := checkFolder(dir); err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(path); err == nil {
		if err := ownSocket(path, fi); err != nil {
			return nil, err
		}
		c, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			c.Close()
			return nil, fmt.Errorf("%s: %w (pick another --name or --socket, or stop it with `otpctl shutdown`)", path, ErrInUse)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("removing stale control socket: %w", err)
		}
	}
	return listenPrivate(path)
}

// listenPrivate listens on a new socket file at path with mode 0600.
//
// The mode is set with fchmod on the socket before bind: Linux gives the
// file bind creates the socket's mode less the umask, so the file is 0600
// from the moment it exists. A umask around bind would do the same but
// is process-wide (a file another goroutine creates meanwhile would get
// it too), and a chmod after bind leaves a moment in which the file is
// open to all. Where the system ignores the fchmod, the mode is checked
// after listen, and a wider one refused.
func listenPrivate(path string) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		if cerr := c.Control(func(fd uintptr) { err = syscall.Fchmod(int(fd), 0o600) }); cerr != nil {
			return cerr
		}
		return err
	}}
	l, err := lc.Listen(context.Background(), "unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	fi, err := os.Lstat(path)
	if err == nil && fi.Mode().Perm()&0o177 != 0 {
		err = fmt.Errorf("%s was created with mode %04o, not 0600", path, fi.Mode().Perm())
	}
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return l, nil
}

// CheckSocket checks, before a client connects, that the socket at path
// can only be an instance of the effective user's: its folder passes the
// checks Listen makes of it (the default socket folder: a real folder of
// the user's, mode 0700; any other: not writable by other users), and a
// file at path is a socket owned by the user. A missing folder or socket
// is no error here: connecting says that nothing runs.
func CheckSocket(path string) error {
	if err := CheckFolder(filepath.Dir(path)); err != nil {
		return err
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return nil
	}
	return ownSocket(path, fi)
}

// CheckFolder checks a socket folder as CheckSocket does; a missing one is
// no error.
func CheckFolder(dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return checkFolder(dir)
}

func checkFolder(dir string) error {
	uid := uint32(os.Geteuid())
	if filepath.Clean(dir) == filepath.Clean(socketFolder()) {
		if err := trust.PrivateDir(dir, uid); err != nil {
			return fmt.Errorf("control socket folder refused: %w; another user could serve a socket of theirs in it (otpctl never changes it: remove it, or use another with XDG_RUNTIME_DIR or --socket)", err)
		}
		return nil
	}
	if err := trust.Path(dir, uid); err != nil {
		return fmt.Errorf("control socket folder %s refused: %w; another user could replace the socket in it (otpctl never changes it: use another with --socket)", dir, err)
	}
	return nil
}

// ownSocket refuses a file at path that is not a socket owned by the
// effective user.
func ownSocket(path string, fi fs.FileInfo) error {
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("control socket %s: there is a %s there, not a socket; refusing to use or remove it", path, typeName(fi))
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != uint32(os.Geteuid()) {
		return fmt.Errorf("control socket %s is owned by %s, not by %s: refusing to use or remove it", path, trust.UserName(st.Uid), trust.UserName(uint32(os.Geteuid())))
	}
	return nil
}

func typeName(fi fs.FileInfo) string {
	switch t := fi.Mode().Type(); {
	case t == 0:
		return "regular file"
	case t == fs.ModeDir:
		return "folder"
	case t == fs.ModeSymlink:
		return "symlink"
	case t == fs.ModeNamedPipe:
		return "named pipe"
	default:
		return "special file"
	}
}
