package envfile

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want map[string]string
		err  string
	}{
		{in: "", want: map[string]string{}},
		{in: "A=1\nB=two words\n", want: map[string]string{"A": "1", "B": "two words"}},
		{in: "# comment\n\n  # indented comment\nA=1", want: map[string]string{"A": "1"}},
		{in: "export A=1\nexport\tB=2\n", want: map[string]string{"A": "1", "B": "2"}},
		{in: "export=1\n", want: map[string]string{"export": "1"}},
		{in: "  A = spaced  \r\n", want: map[string]string{"A": "spaced"}},
		{in: "A=\nB=", want: map[string]string{"A": "", "B": ""}},
		{in: "A=x # not a comment", want: map[string]string{"A": "x # not a comment"}},
		{in: "A=p@ss=w#rd$HOME", want: map[string]string{"A": "p@ss=w#rd$HOME"}},
		{in: "A='single $HOME \\n \"x\"'", want: map[string]string{"A": `single $HOME \n "x"`}},
		{in: `A="double \"q\" \\ \$ a\nb\tc"`, want: map[string]string{"A": "double \"q\" \\ $ a\nb\tc"}},
		{in: "A='' # comment\nB=\"\"", want: map[string]string{"A": "", "B": ""}},
		{in: "A=\"line1\nline2\"\nB=3", want: map[string]string{"A": "line1\nline2", "B": "3"}},
		{in: "A='l1\nl2'\nB=3", want: map[string]string{"A": "l1\nl2", "B": "3"}},
		{in: "A=1\nA=2", want: map[string]string{"A": "2"}},
		{in: "_a1=x", want: map[string]string{"_a1": "x"}},
		{in: "A", err: "line 1: not KEY=VALUE: no = after A"},
		{in: "A=1\n1A=2", err: "line 2: not KEY=VALUE: a KEY is"},
		{in: "A-B=1", err: "line 1: not KEY=VALUE: no = after A"},
		{in: "=1", err: "line 1: not KEY=VALUE"},
		{in: "A='open", err: "line 1: a ' that is never closed"},
		{in: "X=1\nA=\"open\nmore", err: `line 2: a " that is never closed`},
		{in: `A="a\q"`, err: `line 1: unknown escape \q`},
		{in: "A='x' y", err: `line 1: unexpected "y" after the value`},
		{in: "A=1\nB=\x00", err: "line 2: a NUL byte"},
	} {
		vars, err := Parse(c.in)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Parse(%q) = %v, %v; want an error with %q", c.in, vars, err, c.err)
			}
		case err != nil:
			t.Errorf("Parse(%q): %v", c.in, err)
		case !reflect.DeepEqual(Map(vars), c.want):
			t.Errorf("Parse(%q) = %q; want %q", c.in, Map(vars), c.want)
		}
	}
}

func TestParseLines(t *testing.T) {
	vars, err := Parse("# c\nA=1\nB=\"x\ny\"\n\nC=3\n")
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, v := range vars {
		lines = append(lines, v.Line)
	}
	if !reflect.DeepEqual(lines, []int{2, 3, 6}) {
		t.Fatalf("lines %v; want [2 3 6]", lines)
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.env")
	os.WriteFile(good, []byte("A=1\n"), 0o600)
	if vars, err := Read(good); err != nil || len(vars) != 1 {
		t.Fatalf("Read: %v, %v", vars, err)
	}
	if _, err := Read(filepath.Join(dir, "gone.env")); !IsNotExist(err) {
		t.Fatalf("a missing file: %v", err)
	}
	big := filepath.Join(dir, "big.env")
	os.WriteFile(big, []byte("A="+strings.Repeat("x", MaxSize)), 0o600)
	if _, err := Read(big); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("a file over MaxSize: %v", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(fifo); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("a FIFO: %v", err)
	}
	if _, err := Read(dir); err == nil {
		t.Fatal("a folder was read")
	}
	bad := filepath.Join(dir, "bad.env")
	os.WriteFile(bad, []byte("A=1\nnope\n"), 0o600)
	if _, err := Read(bad); err == nil || err.Error() != "env file "+bad+": line 2: not KEY=VALUE: no = after nope" {
		t.Fatalf("a bad line: %v", err)
	}
}

// quote writes a value so that Parse reads it back.
func quote(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", `\r`, "$", `\$`)
	return `"` + r.Replace(v) + `"`
}

// FuzzParse: Parse never panics; what it reads has valid keys and lines
// in order; written back in double quotes it reads the same.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"A=1\n", "export A='x'\n# c\n", "A=\"a\\nb\"\r\nB=", "A='\n'", "A=\"\\", "A=\"x\" # c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		vars, err := Parse(s)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("%T %v", err, err)
			}
			return
		}
		var b strings.Builder
		last := 0
		for _, v := range vars {
			if v.Key == "" || !isKeyByte(v.Key[0], true) || v.Line < last {
				t.Fatalf("Parse(%q): bad %+v", s, v)
			}
			last = v.Line
			b.WriteString(v.Key + "=" + quote(v.Value) + "\n")
		}
		again, err := Parse(b.String())
		if err != nil {
			t.Fatalf("Parse(%q) of Parse(%q): %v", b.String(), s, err)
		}
		if !reflect.DeepEqual(Map(again), Map(vars)) {
			t.Fatalf("written back %q, read %q; first %q", b.String(), Map(again), Map(vars))
		}
	})
}
