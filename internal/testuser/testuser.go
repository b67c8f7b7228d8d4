// Package testuser makes a real second user for the tests that are about
// what another user can do to otpctl (its socket folder, its tree files):
// created with useradd for one test, removed with userdel when the test
// ends. It is for tests only.
package testuser

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// User is a user made for one test.
type User struct {
	Name string
	UID  int
	GID  int
}

// New makes a new user with a unique name (no home, no login shell) and
// removes it when t ends. It skips t, saying why, when the test does not
// run as root or useradd is missing.
func New(t testing.TB) *User {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: it makes a second user with useradd")
	}
	useradd, err := exec.LookPath("useradd")
	if err != nil {
		t.Skip("needs useradd to make a second user")
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "otpt" + hex.EncodeToString(b)
	if out, err := retry(useradd, "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group", name); err != nil {
		t.Fatalf("useradd %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := retry("userdel", name); err != nil {
			t.Errorf("userdel %s: %v: %s", name, err, out)
		}
	})
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("the user useradd made: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &User{Name: name, UID: uid, GID: gid}
}

// AddGroup makes a new group (groupadd), adds the user to it as a
// supplementary group (usermod -aG), and returns its name and gid. The
// group is removed when t ends.
func (u *User) AddGroup(t testing.TB) (string, int) {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	name := "otpg" + hex.EncodeToString(b)
	if out, err := retry("groupadd", name); err != nil {
		t.Fatalf("groupadd %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := retry("groupdel", name); err != nil {
			t.Errorf("groupdel %s: %v: %s", name, err, out)
		}
	})
	if out, err := retry("usermod", "-aG", name, u.Name); err != nil {
		t.Fatalf("usermod -aG %s %s: %v: %s", name, u.Name, err, out)
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		t.Fatalf("the group groupadd made: %v", err)
	}
	gid, _ := strconv.Atoi(g.Gid)
	return name, gid
}

// retry runs a useradd or userdel, again while /etc/passwd is locked by
// another one (other tests on the machine make users too), for at most
// about 10 s.
func retry(name string, args ...string) ([]byte, error) {
	for i := 0; ; i++ {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err == nil || i == 50 || !bytes.Contains(out, []byte("lock")) {
			return out, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Bait listens on a socket at path that the user owns, as an instance of
// theirs would, and counts the connections it gets (each is closed at
// once). It stops listening when t ends.
func (u *User) Bait(t testing.TB, path string) *atomic.Int32 {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	u.Chown(t, path)
	var hits atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			hits.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { l.Close(); <-done })
	return &hits
}

// Run runs a program as the user (its uid and gid, no other groups) and
// returns what it printed; it fails t if the program fails.
func (u *User) Run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GID), NoSetGroups: true}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s as %s: %v: %s", name, u.Name, err, out)
	}
	return out
}

// Stat describes each path as Lstat sees it (type, mode with setuid,
// setgid and sticky, owner), one line each, for a test to compare before
// and after: what another user made must not be changed or removed.
func Stat(paths ...string) string {
	var b strings.Builder
	for _, p := range paths {
		fi, err := os.Lstat(p)
		if err != nil {
			fmt.Fprintf(&b, "%s: missing\n", p)
			continue
		}
		st := fi.Sys().(*syscall.Stat_t)
		fmt.Fprintf(&b, "%s: %v %04o uid %d\n", p, fi.Mode().Type(), st.Mode&0o7777, st.Uid)
	}
	return b.String()
}

// Chown gives path (not following a symlink) to the user.
func (u *User) Chown(t testing.TB, path string) {
	t.Helper()
	if err := os.Lchown(path, u.UID, u.GID); err != nil {
		t.Fatal(err)
	}
}
