package control

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otpctl/otpctl/internal/testuser"
)

// TestDefaultSocketFolderMustBeOurOwn: the default socket folder
// (/tmp/otpctl-UID here under a temporary TMPDIR) is refused by Listen and
// by the client when another user made it, when it is a symlink, or when
// its mode is not 0700; the message names the folder, its owner and mode;
// nothing is chmod-ed or removed, and the other user's socket gets no
// connection.
func TestDefaultSocketFolderMustBeOurOwn(t *testing.T) {
	other := testuser.New(t)
	cases := []struct {
		name string
		// setup makes the folder; it returns the paths that must not
		// change.
		setup func(t *testing.T, base, folder string) []string
		want  string
	}{
		{"made by another user", func(t *testing.T, base, folder string) []string {
			os.Mkdir(folder, 0o700)
			other.Bait(t, filepath.Join(folder, "shop.sock"))
			other.Chown(t, folder)
			return []string{folder, filepath.Join(folder, "shop.sock")}
		}, "folder %s is not owned by root (mode 0700, owner uid " + fmt.Sprint(other.UID) + " (" + other.Name + "))"},
		{"a symlink to another user's folder", func(t *testing.T, base, folder string) []string {
			theirs := filepath.Join(base, "theirs")
			os.Mkdir(theirs, 0o755)
			os.WriteFile(filepath.Join(theirs, "shop.sock"), []byte("not a socket"), 0o644)
			other.Chown(t, filepath.Join(theirs, "shop.sock"))
			other.Chown(t, theirs)
			os.Symlink(theirs, folder)
			return []string{folder, theirs, filepath.Join(theirs, "shop.sock")}
		}, "symlink %s is a symlink, not a folder"},
		{"a symlink to a folder of ours", func(t *testing.T, base, folder string) []string {
			ours := filepath.Join(base, "ours")
			os.Mkdir(ours, 0o700)
			os.Symlink(ours, folder)
			return []string{folder, ours}
		}, "symlink %s is a symlink, not a folder"},
		{"open to others", func(t *testing.T, base, folder string) []string {
			os.Mkdir(folder, 0o755)
			os.Chmod(folder, 0o755)
			stale := filepath.Join(folder, "shop.sock")
			l, err := net.Listen("unix", stale)
			if err != nil {
				t.Fatal(err)
			}
			l.(*net.UnixListener).SetUnlinkOnClose(false)
			l.Close() // a dead instance's socket: removed when the folder is good
			return []string{folder, stale}
		}, "folder %s is open to its group or others (it must be 0700) (mode 0755, owner root)"},
		{"open to its group", func(t *testing.T, base, folder string) []string {
			os.Mkdir(folder, 0o770)
			os.Chmod(folder, 0o770)
			return []string{folder}
		}, "folder %s is open to its group or others (it must be 0700) (mode 0770, owner root)"},
		{"a file", func(t *testing.T, base, folder string) []string {
			os.WriteFile(folder, nil, 0o600)
			return []string{folder}
		}, "file %s is not a folder"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base := t.TempDir()
			t.Setenv("XDG_RUNTIME_DIR", "")
			t.Setenv("TMPDIR", base)
			sock := SocketPath("shop")
			folder := filepath.Dir(sock)
			if folder != filepath.Join(base, fmt.Sprintf("otpctl-%d", os.Getuid())) {
				t.Fatalf("socket folder %s is not in TMPDIR", folder)
			}
			watched := c.setup(t, base, folder)
			before := testuser.Stat(watched...)
			want := fmt.Sprintf(c.want, folder)

			l, err := Listen(sock)
			if err == nil {
				l.Close()
				t.Fatal("Listen accepted the folder")
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Listen: %v\nwant it to say %q", err, want)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err = NewClient(sock).Tree(ctx)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("client: %v\nwant it to say %q", err, want)
			}
			if after := testuser.Stat(watched...); after != before {
				t.Errorf("changed:\nbefore:\n%safter:\n%s", before, after)
			}
		})
	}
}

// TestBaitSocketGetsNoConnection: in another user's folder, neither Listen
// (looking for a live instance) nor a client connects to the socket there.
func TestBaitSocketGetsNoConnection(t *testing.T) {
	other := testuser.New(t)
	base := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", "")
	t.Setenv("TMPDIR", base)
	sock := SocketPath("shop")
	os.Mkdir(filepath.Dir(sock), 0o700)
	hits := other.Bait(t, sock)
	other.Chown(t, filepath.Dir(sock))
	if l, err := Listen(sock); err == nil {
		l.Close()
		t.Error("Listen accepted another user's folder")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := NewClient(sock).Shutdown(ctx); err == nil {
		t.Error("shutdown went to another user's socket")
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the other user's socket got %d connections", n)
	}
}

// TestNamedSocketFolderIsLeftAlone: --socket DIR/x.sock never changes DIR;
// the socket is 0600 whatever the umask; a DIR that others could write
// (without the sticky bit) or that another user owns is refused, and so is
// anything at the socket's path that is not a socket of ours, which is
// kept.
func TestNamedSocketFolderIsLeftAlone(t *testing.T) {
	other := testuser.New(t)
	cases := []struct {
		name  string
		mode  os.FileMode
		setup func(t *testing.T, dir, sock string)
		want  string // "" when accepted
	}{
		{"the working folder's usual mode", 0o755, nil, ""},
		{"group-readable", 0o750, nil, ""},
		{"sticky and open to all, as /tmp", os.ModeSticky | 0o777, nil, ""},
		{"writable by others", 0o757, nil, "folder %[1]s is writable by others (mode 0757, owner root)"},
		{"writable by its group", 0o775, nil, "folder %[1]s is writable by its group (mode 0775, owner root)"},
		{"another user's", 0o755, func(t *testing.T, dir, sock string) { other.Chown(t, dir) }, "folder %[1]s is owned by another user"},
		{"a regular file at the socket's path", 0o755, func(t *testing.T, dir, sock string) {
			os.WriteFile(sock, []byte("keep me"), 0o644)
		}, "control socket %[2]s: there is a regular file there, not a socket; refusing to use or remove it"},
		{"a symlink at the socket's path", 0o755, func(t *testing.T, dir, sock string) {
			os.Symlink("/dev/null", sock)
		}, "control socket %[2]s: there is a symlink there, not a socket"},
		{"another user's dead socket in a sticky folder", os.ModeSticky | 0o777, func(t *testing.T, dir, sock string) {
			l, err := net.Listen("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			l.(*net.UnixListener).SetUnlinkOnClose(false)
			l.Close()
			other.Chown(t, sock)
		}, "control socket %[2]s is owned by uid " + fmt.Sprint(other.UID)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "named")
			os.Mkdir(dir, 0o700)
			if err := os.Chmod(dir, c.mode); err != nil {
				t.Fatal(err)
			}
			sock := filepath.Join(dir, "x.sock")
			if c.setup != nil {
				c.setup(t, dir, sock)
			}
			before := testuser.Stat(dir, sock)
			old := syscall.Umask(0) // the socket's mode must not depend on it
			l, err := Listen(sock)
			syscall.Umask(old)
			if c.want == "" {
				if err != nil {
					t.Fatalf("Listen: %v", err)
				}
				defer l.Close()
				if fi, err := os.Lstat(sock); err != nil || fi.Mode() != os.ModeSocket|0o600 {
					t.Errorf("socket: %v %v, want a socket with mode 0600", fi.Mode(), err)
				}
				if got, want := testuser.Stat(dir), strings.SplitAfter(before, "\n")[0]; got != want {
					t.Errorf("the folder changed: %s, was %s", got, want)
				}
				return
			}
			if err == nil {
				l.Close()
				t.Fatal("Listen accepted it")
			}
			if want := fmt.Sprintf(c.want, dir, sock); !strings.Contains(err.Error(), want) {
				t.Errorf("Listen: %v\nwant it to say %q", err, want)
			}
			if after := testuser.Stat(dir, sock); after != before {
				t.Errorf("changed:\nbefore:\n%safter:\n%s", before, after)
			}
		})
	}
}

// TestClientRefusesAnotherUsersSocket: a client does not talk to a live
// socket that another user owns, even in a folder it may use (sticky).
func TestClientRefusesAnotherUsersSocket(t *testing.T) {
	other := testuser.New(t)
	dir := filepath.Join(t.TempDir(), "tmp")
	os.Mkdir(dir, 0o700)
	os.Chmod(dir, os.ModeSticky|0o777)
	sock := filepath.Join(dir, "x.sock")
	hits := other.Bait(t, sock)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := NewClient(sock).Tree(ctx)
	if want := "control socket " + sock + " is owned by uid " + fmt.Sprint(other.UID); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("client: %v, want %q", err, want)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the other user's socket got %d connections", n)
	}
}
