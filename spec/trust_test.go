package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otpctl/otpctl/internal/testuser"
)

const safeTree = "version: 1\nname: t\nsupervisor:\n  children:\n    - {name: a, kind: echo}\n"

// TestSafeFilesRefusesWhatOthersCanChange: with SafeFiles (otpctl run as
// root), a tree file, an include, or a folder above one that another user
// could change or replace is refused, naming what is at fault and its mode;
// a sticky folder and files of root's own are accepted; without SafeFiles
// everything is read.
func TestSafeFilesRefusesWhatOthersCanChange(t *testing.T) {
	other := testuser.New(t)
	mkdir := func(t *testing.T, dir string, mode os.FileMode) {
		t.Helper()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
	}
	write := func(t *testing.T, file, text string, mode os.FileMode) {
		t.Helper()
		mkdir(t, filepath.Dir(file), 0o755)
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(file, mode); err != nil {
			t.Fatal(err)
		}
	}
	includer := func(inc string) string {
		return "version: 1\nname: t\nsupervisor:\n  children:\n    - name: sub\n      include: " + inc + "\n"
	}
	cases := []struct {
		name string
		// setup lays out the files in d and returns the file to load and
		// the file or folder the refusal must name ("" if accepted).
		setup func(t *testing.T, d string) (file, fault string)
		want  string // in the message, with the fault's path
	}{
		{"file writable by others", func(t *testing.T, d string) (string, string) {
			f := filepath.Join(d, "t.yaml")
			write(t, f, safeTree, 0o666)
			return f, f
		}, "file %s is writable by others (mode 0666, owner root)"},
		{"file writable by its group", func(t *testing.T, d string) (string, string) {
			f := filepath.Join(d, "t.yaml")
			write(t, f, safeTree, 0o664)
			return f, f
		}, "file %s is writable by its group (mode 0664, owner root)"},
		{"file of another user", func(t *testing.T, d string) (string, string) {
			f := filepath.Join(d, "t.yaml")
			write(t, f, safeTree, 0o644)
			other.Chown(t, f)
			return f, f
		}, "file %s is owned by another user (mode 0644, owner uid " + fmt.Sprint(other.UID) + " (" + other.Name + "))"},
		{"folder writable by others", func(t *testing.T, d string) (string, string) {
			f := filepath.Join(d, "open", "t.yaml")
			write(t, f, safeTree, 0o644)
			mkdir(t, filepath.Dir(f), 0o777)
			return f, filepath.Dir(f)
		}, "folder %s is writable by others (mode 0777, owner root)"},
		{"folder of another user", func(t *testing.T, d string) (string, string) {
			f := filepath.Join(d, "theirs", "t.yaml")
			write(t, f, safeTree, 0o644)
			other.Chown(t, filepath.Dir(f))
			return f, filepath.Dir(f)
		}, "folder %s is owned by another user (mode 0755"},
		{"folder two up writable by its group", func(t *testing.T, d string) (string, string) {
			f := filepath.Join(d, "a", "b", "t.yaml")
			write(t, f, safeTree, 0o644)
			mkdir(t, filepath.Join(d, "a"), 0o775)
			return f, filepath.Join(d, "a")
		}, "folder %s is writable by its group (mode 0775, owner root)"},
		{"symlink into an open folder", func(t *testing.T, d string) (string, string) {
			real := filepath.Join(d, "open", "real.yaml")
			write(t, real, safeTree, 0o644)
			mkdir(t, filepath.Dir(real), 0o777)
			f := filepath.Join(d, "t.yaml")
			if err := os.Symlink(real, f); err != nil {
				t.Fatal(err)
			}
			return f, filepath.Dir(real)
		}, "folder %s is writable by others (mode 0777"},
		{"another user's symlink in a sticky folder", func(t *testing.T, d string) (string, string) {
			real := filepath.Join(d, "real.yaml")
			write(t, real, safeTree, 0o644)
			mkdir(t, filepath.Join(d, "tmp"), os.ModeSticky|0o777)
			f := filepath.Join(d, "tmp", "t.yaml")
			if err := os.Symlink(real, f); err != nil {
				t.Fatal(err)
			}
			other.Chown(t, f)
			return f, f
		}, "symlink %s is owned by another user"},
		{"include writable by others", func(t *testing.T, d string) (string, string) {
			f := filepath.Join(d, "t.yaml")
			write(t, f, includer("inc.yaml"), 0o644)
			write(t, filepath.Join(d, "inc.yaml"), safeTree, 0o646)
			return f, filepath.Join(d, "inc.yaml")
		}, "t.yaml:6:16: include: " + "%[1]s refused: file %[1]s is writable by others (mode 0646, owner root)"},
		{"include in another user's folder", func(t *testing.T, d string) (string, string) {
			f := filepath.Join(d, "t.yaml")
			write(t, f, includer("theirs/inc.yaml"), 0o644)
			write(t, filepath.Join(d, "theirs", "inc.yaml"), safeTree, 0o644)
			other.Chown(t, filepath.Join(d, "theirs"))
			return f, filepath.Join(d, "theirs")
		}, "t.yaml:6:16: include: "},
		{"sticky folder, root's file", func(t *testing.T, d string) (string, string) {
			f := filepath.Join(d, "tmp", "t.yaml")
			write(t, f, safeTree, 0o644)
			mkdir(t, filepath.Dir(f), os.ModeSticky|0o777)
			return f, ""
		}, ""},
		{"root's own files and an include", func(t *testing.T, d string) (string, string) {
			f := filepath.Join(d, "t.yaml")
			write(t, f, includer("sub/inc.yaml"), 0o600)
			write(t, filepath.Join(d, "sub", "inc.yaml"), safeTree, 0o444)
			return f, ""
		}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := t.TempDir()
			file, fault := c.setup(t, d)
			if _, err := LoadWith(file, testKinds, LoadOptions{}); err != nil {
				t.Fatalf("without SafeFiles: %v", err)
			}
			tree, err := LoadWith(file, testKinds, LoadOptions{SafeFiles: true})
			if fault == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			ds := diags(t, tree, err)
			want := c.want
			if strings.Contains(want, "%") {
				want = fmt.Sprintf(want, fault)
			} else {
				want += fault
			}
			if len(ds) != 1 || !strings.Contains(ds[0].Error(), want) || !strings.Contains(ds[0].Error(), "--allow-unsafe-files") {
				t.Errorf("got:\n%v\nwant one diagnostic with %q", err, want)
			}
			if !strings.HasPrefix(ds[0].Error(), file+":") && !strings.Contains(ds[0].Error(), filepath.Base(file)+":6:16:") {
				t.Errorf("the diagnostic does not name the file it loads: %v", ds[0])
			}
		})
	}
}
