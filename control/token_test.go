package control

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTokenFile(t *testing.T) {
	if got := TokenFile("/run/otpctl/shop.sock"); got != "/run/otpctl/shop.token" {
		t.Errorf("TokenFile = %s", got)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "shop.token")

	t.Run("written 0600, removed by remove", func(t *testing.T) {
		remove, err := WriteTokenFile(file, "abc")
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Lstat(file)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != 0o600 {
			t.Errorf("mode %v, want -rw-------", fi.Mode())
		}
		if b, _ := os.ReadFile(file); string(b) != "abc\n" {
			t.Errorf("content %q", b)
		}
		remove()
		if _, err := os.Lstat(file); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("after remove: %v", err)
		}
	})

	t.Run("an old file of ours is replaced", func(t *testing.T) {
		os.WriteFile(file, []byte("old\n"), 0o644)
		remove, err := WriteTokenFile(file, "new")
		if err != nil {
			t.Fatal(err)
		}
		defer remove()
		fi, _ := os.Lstat(file)
		if b, _ := os.ReadFile(file); string(b) != "new\n" || fi.Mode() != 0o600 {
			t.Errorf("content %q mode %v", b, fi.Mode())
		}
	})

	t.Run("a symlink is refused, never followed", func(t *testing.T) {
		target := filepath.Join(dir, "target")
		os.WriteFile(target, []byte("keep\n"), 0o644)
		link := filepath.Join(dir, "link.token")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		if _, err := WriteTokenFile(link, "abc"); err == nil || !strings.Contains(err.Error(), "symlink") {
			t.Errorf("err %v, want a refusal naming the symlink", err)
		}
		if b, _ := os.ReadFile(target); string(b) != "keep\n" {
			t.Errorf("the symlink's target was written: %q", b)
		}
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("the symlink was removed: %v", err)
		}
	})

	t.Run("a folder is refused", func(t *testing.T) {
		sub := filepath.Join(dir, "sub.token")
		os.Mkdir(sub, 0o700)
		if _, err := WriteTokenFile(sub, "abc"); err == nil || !strings.Contains(err.Error(), "folder") {
			t.Errorf("err %v, want a refusal naming the folder", err)
		}
	})

	t.Run("remove leaves a file that replaced ours", func(t *testing.T) {
		remove, err := WriteTokenFile(file, "abc")
		if err != nil {
			t.Fatal(err)
		}
		other := filepath.Join(dir, "other")
		os.WriteFile(other, []byte("other\n"), 0o600) // another inode, while ours exists
		if err := os.Rename(other, file); err != nil {
			t.Fatal(err)
		}
		remove()
		if b, _ := os.ReadFile(file); string(b) != "other\n" {
			t.Errorf("remove removed a file it did not write")
		}
		os.Remove(file)
	})
}

func TestNewToken(t *testing.T) {
	a, b := NewToken(), NewToken()
	if len(a) != 2*TokenBytes || a == b {
		t.Errorf("tokens %q and %q: want two different %d hex digits", a, b, 2*TokenBytes)
	}
}
