package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otpctl/otpctl/internal/testuser"
)

// TestRunRefusesTreeFilesOthersCanChange: run as root, a tree file, an
// include, or a folder holding one that another user could change is
// refused, naming it and its mode; --allow-unsafe-files runs it, with a
// warning in the log.
func TestRunRefusesTreeFilesOthersCanChange(t *testing.T) {
	other := testuser.New(t)
	const root = "version: 1\nname: t\nsupervisor:\n  children:\n    - {name: a, kind: echo}\n    - {name: sub, include: inc/sub.yaml}\n"
	const sub = "version: 1\nsupervisor:\n  children:\n    - {name: b, kind: echo}\n"
	cases := []struct {
		name string
		// spoil makes one file or folder of the tree in dir unsafe and
		// returns the message that names it.
		spoil func(dir string) string
	}{
		{"tree file writable by others", func(dir string) string {
			f := filepath.Join(dir, "t.yaml")
			os.Chmod(f, 0o646)
			return "file " + f + " is writable by others (mode 0646, owner root)"
		}},
		{"include of another user", func(dir string) string {
			f := filepath.Join(dir, "inc", "sub.yaml")
			other.Chown(t, f)
			return fmt.Sprintf("t.yaml:6:28: include: %[1]s refused: file %[1]s is owned by another user (mode 0644, owner uid %d (%s))", f, other.UID, other.Name)
		}},
		{"include's folder writable by others", func(dir string) string {
			d := filepath.Join(dir, "inc")
			os.Chmod(d, 0o777)
			return "folder " + d + " is writable by others (mode 0777, owner root)"
		}},
		{"tree's folder writable by its group", func(dir string) string {
			os.Chmod(dir, 0o775)
			return "folder " + dir + " is writable by its group (mode 0775, owner root)"
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			file := writeTree(t, dir, "t.yaml", root)
			os.Mkdir(filepath.Join(dir, "inc"), 0o755)
			writeTree(t, dir, "inc/sub.yaml", sub)
			xdg := t.TempDir()
			want := c.spoil(dir)

			r := startRun(t, xdg, file)
			if code := r.exitsWithoutStarting(); code != 1 || !strings.Contains(r.stderr(), want) || !strings.Contains(r.stderr(), "--allow-unsafe-files") {
				t.Fatalf("run: status %d, want 1 and %q; stderr:\n%s", code, want, r.stderr())
			}

			r = startRun(t, xdg, file, "--allow-unsafe-files")
			r.waitEvent(0, "started t/sub/b boot")
			if first, _, _ := strings.Cut(r.stderr(), "\n"); !strings.Contains(first, `"level":"WARN"`) || !strings.Contains(first, "--allow-unsafe-files") {
				t.Errorf("the first line is not a warning about --allow-unsafe-files:\n%s", r.stderr())
			}
			r.mustCtl("shutdown")
			if code := r.wait(); code != 0 {
				t.Errorf("run --allow-unsafe-files: status %d\n%s", code, r.stderr())
			}
		})
	}
}

// TestReloadRefusesTreeFilesOthersCanChange is the attack: a running
// tree's include folder is given to another user, who renames a new
// include over the old one that adds a child writing `id -u`. The watcher,
// `otpctl reload` and SIGHUP all refuse it, naming the file and its mode,
// and nothing runs it; with --allow-unsafe-files it runs, as root.
func TestReloadRefusesTreeFilesOthersCanChange(t *testing.T) {
	other := testuser.New(t)
	dir := t.TempDir()
	// The other user must reach the include folder.
	for _, d := range []string{filepath.Dir(dir), dir} {
		os.Chmod(d, 0o755)
	}
	file := writeTree(t, dir, "t.yaml", "version: 1\nname: t\nsupervisor:\n  children:\n    - {name: sub, include: inc/sub.yaml}\n")
	inc := filepath.Join(dir, "inc")
	os.Mkdir(inc, 0o755)
	writeTree(t, dir, "inc/sub.yaml", "version: 1\nsupervisor:\n  children:\n    - {name: a, kind: echo}\n")
	pwned := filepath.Join(dir, "pwned")
	evil := fmt.Sprintf("version: 1\nsupervisor:\n  children:\n    - {name: a, kind: echo}\n"+
		"    - {name: pwn, kind: exec, args: {command: [sh, -c, 'id -u > %s; exec sleep 600']}}\n", pwned)
	xdg := t.TempDir()

	r := startRun(t, xdg, file)
	r.waitEvent(0, "started t/sub/a boot")
	r.mustCtl("tree") // answered once the files are watched
	mark := r.count()
	other.Chown(t, inc)
	other.Run(t, "sh", "-c", `printf '%s' "$1" > "$2.new" && mv "$2.new" "$2"`, "sh", evil, filepath.Join(inc, "sub.yaml"))
	// Their new file is what is at fault first (the folder above it is too).
	want := fmt.Sprintf("include: %[1]s refused: file %[1]s is owned by another user (mode 0644, owner uid %[2]d (%[3]s))", filepath.Join(inc, "sub.yaml"), other.UID, other.Name)

	refused := func(how string, ev logLine) {
		t.Helper()
		if ev.Event != "reload_failed" || len(ev.Errors) != 1 || !strings.Contains(ev.Errors[0], want) {
			t.Errorf("%s: %+v, want reload_failed saying %q\n%s", how, ev, want, r.stderr())
		}
	}
	ev, mark := r.nextReload(mark)
	refused("the watcher", ev)
	res := r.ctl("reload")
	if res.code != 1 || !strings.Contains(res.stderr, want) {
		t.Errorf("otpctl reload: status %d, stderr %q; want 1 and %q", res.code, res.stderr, want)
	}
	ev, mark = r.nextReload(mark)
	refused("otpctl reload", ev)
	r.sig(syscall.SIGHUP)
	ev, _ = r.nextReload(mark)
	refused("SIGHUP", ev)
	if n := r.tree().Find("t/sub/pwn"); n != nil {
		t.Errorf("the other user's child is in the tree: %+v", n)
	}
	if b, err := os.ReadFile(pwned); err == nil {
		t.Errorf("the other user's child ran as uid %s", b)
	}
	r.mustCtl("shutdown")
	if code := r.wait(); code != 0 {
		t.Fatalf("run: status %d\n%s", code, r.stderr())
	}

	// The operator opts out: it runs, as root, and says so.
	r = startRun(t, xdg, file, "--allow-unsafe-files")
	r.waitEvent(0, "started t/sub/pwn boot")
	if !strings.Contains(r.stderr(), "--allow-unsafe-files") {
		t.Errorf("no warning about --allow-unsafe-files:\n%s", r.stderr())
	}
	deadline := time.Now().Add(e2eTimeout)
	for {
		if b, _ := os.ReadFile(pwned); strings.TrimSpace(string(b)) == "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the child accepted with --allow-unsafe-files did not run")
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.mustCtl("shutdown")
	r.wait()
}
