package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otpctl/otpctl/internal/testrec"
	"github.com/otpctl/otpctl/internal/testuser"
)

// exitsWithoutStarting waits for a run that must be refused to exit, and
// fails the test at once if it starts the tree instead.
func (r *runner) exitsWithoutStarting() int {
	r.t.Helper()
	_, err := r.logged.Wait(0, e2eTimeout, func(l logLine) bool { return l.Event == "started" })
	switch {
	case err == nil:
		r.t.Fatalf("run started the tree:\n%s", r.stderr())
	case !errors.Is(err, testrec.ErrEnded):
		r.t.Fatalf("run still running after %v; stderr:\n%s", e2eTimeout, r.stderr())
	}
	return r.exitCode()
}

// TestRunRefusesASocketFolderNotItsOwn: with XDG_RUNTIME_DIR unset, the
// socket folder is TMPDIR/otpctl-UID. When another user made it first, or
// it is a symlink, or its mode is not 0700, `run` refuses to start and
// every client command refuses to connect, naming the folder, its owner
// and mode; nothing is chmod-ed or removed, and another user's socket in
// it gets no connection.
func TestRunRefusesASocketFolderNotItsOwn(t *testing.T) {
	other := testuser.New(t)
	otpctlBin(t)
	file := writeTree(t, t.TempDir(), "shop.yaml", shopYAML)
	cases := []struct {
		name  string
		setup func(t *testing.T, base, folder string) (watched []string, hits func() int32)
		want  string
	}{
		{"made by another user, with their socket in it", func(t *testing.T, base, folder string) ([]string, func() int32) {
			os.Mkdir(folder, 0o700)
			hits := other.Bait(t, filepath.Join(folder, "shop.sock"))
			other.Chown(t, folder)
			return []string{folder, filepath.Join(folder, "shop.sock")}, hits.Load
		}, "folder %s is not owned by root (mode 0700, owner uid " + fmt.Sprint(other.UID) + " (" + other.Name + "))"},
		{"a symlink to another user's folder", func(t *testing.T, base, folder string) ([]string, func() int32) {
			theirs := filepath.Join(base, "theirs")
			os.Mkdir(theirs, 0o755)
			os.WriteFile(filepath.Join(theirs, "shop.sock"), []byte("theirs"), 0o644)
			other.Chown(t, filepath.Join(theirs, "shop.sock"))
			other.Chown(t, theirs)
			os.Symlink(theirs, folder)
			return []string{folder, theirs, filepath.Join(theirs, "shop.sock")}, nil
		}, "symlink %s is a symlink, not a folder"},
		{"mode 0755", func(t *testing.T, base, folder string) ([]string, func() int32) {
			os.Mkdir(folder, 0o755)
			os.Chmod(folder, 0o755)
			return []string{folder}, nil
		}, "folder %s is open to its group or others (it must be 0700) (mode 0755, owner root)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base := t.TempDir()
			folder := filepath.Join(base, fmt.Sprintf("otpctl-%d", os.Getuid()))
			watched, hits := c.setup(t, base, folder)
			before := testuser.Stat(watched...)
			want := fmt.Sprintf(c.want, folder)
			t.Setenv("TMPDIR", base) // the run and its clients see it; XDG_RUNTIME_DIR is emptied

			r := startRun(t, "", file)
			if code := r.exitsWithoutStarting(); code != 1 || !strings.Contains(r.stderr(), want) {
				t.Errorf("run: status %d, want 1 and %q; stderr:\n%s", code, want, r.stderr())
			}
			for _, args := range [][]string{{"tree"}, {"shutdown", "--name", "shop"}, {"kill", "shop/counter"}, {"reload", "--name", "shop"}} {
				res := r.ctl(args...)
				if res.code != 1 || !strings.Contains(res.stderr, want) {
					t.Errorf("otpctl %s: status %d, stderr %q; want 1 and %q", strings.Join(args, " "), res.code, res.stderr, want)
				}
			}
			if hits != nil && hits() != 0 {
				t.Errorf("the other user's socket got %d connections", hits())
			}
			if after := testuser.Stat(watched...); after != before {
				t.Errorf("changed:\nbefore:\n%safter:\n%s", before, after)
			}
		})
	}
}

// TestRunSocketInANamedFolderLeavesItAlone: `run --socket DIR/x.sock`
// creates the socket 0600 and never changes DIR's mode (it made the
// working folder 0700); a DIR that others can write is refused.
func TestRunSocketInANamedFolderLeavesItAlone(t *testing.T) {
	dir := t.TempDir()
	file := writeTree(t, dir, "shop.yaml", shopYAML)
	named := filepath.Join(t.TempDir(), "work")
	os.Mkdir(named, 0o755)
	os.Chmod(named, 0o755)
	sock := filepath.Join(named, "x.sock")
	r := startRun(t, dir, file, "--socket", sock)
	r.waitEvent(0, "started shop boot")
	if fi, err := os.Stat(named); err != nil || fi.Mode() != os.ModeDir|0o755 {
		t.Errorf("the named folder: %v %v, want it left 0755", fi.Mode(), err)
	}
	if fi, err := os.Lstat(sock); err != nil || fi.Mode() != os.ModeSocket|0o600 {
		t.Errorf("socket: %v %v, want 0600", fi.Mode(), err)
	}
	r.mustCtl("tree")
	r.mustCtl("shutdown")
	if code := r.wait(); code != 0 {
		t.Fatalf("run: status %d\n%s", code, r.stderr())
	}

	os.Chmod(named, 0o777)
	r = startRun(t, dir, file, "--socket", sock)
	want := "folder " + named + " is writable by others (mode 0777, owner root)"
	if code := r.exitsWithoutStarting(); code != 1 || !strings.Contains(r.stderr(), want) {
		t.Errorf("run in a folder open to all: status %d, want 1 and %q; stderr:\n%s", code, want, r.stderr())
	}
	if fi, err := os.Stat(named); err != nil || fi.Mode() != os.ModeDir|0o777 {
		t.Errorf("the named folder: %v %v, want it left 0777", fi.Mode(), err)
	}
}
