package builtin_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otpctl/otpctl/internal/testuser"
	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/spec"
	"github.com/otpctl/otpctl/workers"
	"github.com/otpctl/otpctl/workers/builtin"
)

// procEnviron reads a process's environment.
func procEnviron(t *testing.T, pid int) map[string]string {
	t.Helper()
	// A process in the middle of an execve (the tests' `sh -c '…; exec
	// sleep'` just after the line they wait for) reads as an empty
	// environment for a moment; none of these children has an empty one.
	var b []byte
	for deadline := time.Now().Add(5 * time.Second); ; {
		var err error
		if b, err = os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid)); err != nil {
			t.Fatal(err)
		}
		if len(b) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	env := map[string]string{}
	for _, kv := range bytes.Split(b, []byte{0}) {
		if k, v, ok := strings.Cut(string(kv), "="); ok {
			env[k] = v
		}
	}
	return env
}

// procStatus reads one line of /proc/PID/status ("Uid", "Groups"): its
// fields.
func procStatus(t *testing.T, pid int, key string) []string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, key+":"); ok {
			return strings.Fields(v)
		}
	}
	t.Fatalf("no %s in /proc/%d/status", key, pid)
	return nil
}

// user runs the child as a real second user: its uid (real, effective,
// saved, fs), gid, supplementary groups as su sets them, HOME, USER and
// LOGNAME from its entry; its own children run as it too and are stopped
// with it.
func TestExecUser(t *testing.T) {
	u := testuser.New(t)
	extra, extraGID := u.AddGroup(t)
	checkNoOrphans(t)
	tr := mustStartTree(t, execKind, execArgs(t,
		[]string{"sh", "-c", "sleep 1000 & echo $!; wait"},
		map[string]any{"user": u.Name, "dir": "/", "env": map[string]string{"OTPCTL_TEST_HOME": "${HOME}"},
			"ready": map[string]any{"log": "^[0-9]+$"}}), treeOpt{})
	osPid := tr.instance().OSPid
	grandchild := pidLine(t, tr)
	uid, gid := strconv.Itoa(u.UID), strconv.Itoa(u.GID)
	for _, pid := range []int{osPid, grandchild} {
		if got := procStatus(t, pid, "Uid"); !slices.Equal(got, []string{uid, uid, uid, uid}) {
			t.Errorf("process %d Uid %v; want %s ×4", pid, got, uid)
		}
		if got := procStatus(t, pid, "Gid"); !slices.Equal(got, []string{gid, gid, gid, gid}) {
			t.Errorf("process %d Gid %v; want %s ×4", pid, got, gid)
		}
		groups := procStatus(t, pid, "Groups")
		slices.Sort(groups)
		want := []string{gid, strconv.Itoa(extraGID)}
		slices.Sort(want)
		if !slices.Equal(groups, want) {
			t.Errorf("process %d Groups %v; want %v (its own and %s)", pid, groups, want, extra)
		}
	}
	env := procEnviron(t, osPid)
	home := "/home/" + u.Name // useradd's default, made or not
	if env["USER"] != u.Name || env["LOGNAME"] != u.Name || env["HOME"] != home || env["OTPCTL_TEST_HOME"] != home {
		t.Errorf("USER %q LOGNAME %q HOME %q OTPCTL_TEST_HOME %q; want %s and %s", env["USER"], env["LOGNAME"], env["HOME"], env["OTPCTL_TEST_HOME"], u.Name, home)
	}
	if err := tr.sup.TerminateChild("w"); err != nil {
		t.Fatal(err)
	}
	awaitGone(t, osPid)
	awaitGone(t, grandchild)

	// group: replaces the user's own group; env overrides HOME.
	tr = mustStartTree(t, execKind, execArgs(t, []string{"sleep", "1000"},
		map[string]any{"user": strconv.Itoa(u.UID), "group": extra, "env": map[string]string{"HOME": "/srv"}}), treeOpt{})
	pid := tr.instance().OSPid
	if got := procStatus(t, pid, "Gid"); got[0] != strconv.Itoa(extraGID) {
		t.Errorf("with group %s: Gid %v; want %d", extra, got, extraGID)
	}
	if env := procEnviron(t, pid); env["HOME"] != "/srv" || env["USER"] != u.Name {
		t.Errorf("HOME %q USER %q; want /srv (env wins) and %s", env["HOME"], env["USER"], u.Name)
	}
	tr.stop()
	awaitGone(t, pid)

	// group alone: otpctl's uid, that gid, no supplementary group.
	tr = mustStartTree(t, execKind, execArgs(t, []string{"sleep", "1000"}, map[string]any{"group": extraGID}), treeOpt{})
	pid = tr.instance().OSPid
	if g, u, groups := procStatus(t, pid, "Gid"), procStatus(t, pid, "Uid"), procStatus(t, pid, "Groups"); g[0] != strconv.Itoa(extraGID) || u[0] != "0" || len(groups) != 0 {
		t.Errorf("group alone: Uid %v Gid %v Groups %v; want 0, %d, none", u, g, groups, extraGID)
	}
	tr.stop()
	awaitGone(t, pid)

	// A dir the user cannot enter fails the start, and says so.
	private := t.TempDir() // 0700, root's
	_, err := startTree(t, execKind, execArgs(t, []string{"sleep", "1000"}, map[string]any{"user": u.Name, "dir": private}), treeOpt{})
	if want := fmt.Sprintf("exec: dir %s as user %s: permission denied (the child must be able to enter it)", private, u.Name); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("start in a dir the user cannot enter: %v; want %q", err, want)
	}
}

// umask and limits are the child's from its first instruction: a file it
// creates has the umask's mode, /proc/PID/limits shows the limits (soft
// and hard), and what it does not set is otpctl's.
func TestExecUmaskLimits(t *testing.T) {
	checkNoOrphans(t)
	dir := t.TempDir()
	tr := mustStartTree(t, execKind, execArgs(t,
		[]string{"sh", "-c", "touch made; echo made; exec sleep 1000"},
		map[string]any{"dir": dir, "umask": "027", "limits": map[string]any{"nofile": 200, "core": 0, "cpu": "infinity"},
			"ready": map[string]any{"log": "^made$"}}), treeOpt{})
	fi, err := os.Stat(filepath.Join(dir, "made"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("a file the child made has mode %04o; want 0640 (0666 &^ 027)", fi.Mode().Perm())
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", tr.instance().OSPid))
	if err != nil {
		t.Fatal(err)
	}
	limits := string(b)
	for _, want := range []string{
		`Max open files\s+200\s+200\s+files`,
		`Max core file size\s+0\s+0\s+bytes`,
		`Max cpu time\s+unlimited\s+unlimited\s+seconds`,
	} {
		if !regexpMatch(want, limits) {
			t.Errorf("/proc/PID/limits has no line %q:\n%s", want, limits)
		}
	}
}

// env_file is read at each start: a changed file counts at the next
// restart, without a reload. Its variables are under env and over otpctl's,
// and command, env and dir expand from all of them.
func TestExecEnvFile(t *testing.T) {
	checkNoOrphans(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "app.env")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("# secrets\nexport SECRET='one'\nOTPCTL_TEST_OVER=from-file\nSUB=sub\n")
	t.Setenv("OTPCTL_TEST_OVER", "from-otpctl")
	t.Setenv("OTPCTL_TEST_KEPT", "kept")
	tr := mustStartTree(t, execKind, execArgs(t,
		[]string{"sh", "-c", "echo \"arg=${SECRET} $$HOME\"; exec sleep 1000"},
		map[string]any{
			"env_file": []string{file, "-" + filepath.Join(dir, "optional.env")},
			"env":      map[string]string{"FROM_ENV": "${SECRET}-${OTPCTL_TEST_KEPT}", "SUB": "env wins"},
			"dir":      dir + "/${NO_SUCH_VAR:-.}",
			"ready":    map[string]any{"log": "^arg="},
		}), treeOpt{restart: runtime.Permanent})
	home := os.Getenv("HOME")
	tr.logs.line(t, "stdout", func(l string) bool { return l == "arg=one "+home })
	pid := tr.instance().OSPid
	env := procEnviron(t, pid)
	for k, want := range map[string]string{"SECRET": "one", "OTPCTL_TEST_OVER": "from-file", "OTPCTL_TEST_KEPT": "kept", "FROM_ENV": "one-kept", "SUB": "env wins", "PWD": dir} {
		if env[k] != want {
			t.Errorf("%s=%q; want %q", k, env[k], want)
		}
	}
	write("SECRET=two\n")
	if err := tr.sup.TerminateChild("w"); err != nil {
		t.Fatal(err)
	}
	awaitGone(t, pid)
	if _, err := tr.sup.RestartChild("w"); err != nil {
		t.Fatal(err)
	}
	pid = tr.instance().OSPid
	if env := procEnviron(t, pid); env["SECRET"] != "two" || env["OTPCTL_TEST_OVER"] != "from-otpctl" {
		t.Errorf("after a restart SECRET=%q OTPCTL_TEST_OVER=%q; want two (the file changed) and from-otpctl", env["SECRET"], env["OTPCTL_TEST_OVER"])
	}
	tr.stop()

	// A missing file fails the start, as does a bad line.
	os.Remove(file)
	_, err := startTree(t, execKind, execArgs(t, []string{"sleep", "1"}, map[string]any{"env_file": file}), treeOpt{})
	if err == nil || !strings.Contains(err.Error(), "args.env_file: env file "+file+" does not exist") {
		t.Fatalf("a missing env file: %v", err)
	}
	write("A=1\nB\n")
	_, err = startTree(t, execKind, execArgs(t, []string{"sleep", "1"}, map[string]any{"env_file": file}), treeOpt{})
	if err == nil || !strings.Contains(err.Error(), "args.env_file: env file "+file+": line 2: not KEY=VALUE") {
		t.Fatalf("a bad env file: %v", err)
	}
	// As root, one that others may write is refused, as a tree file is.
	if os.Geteuid() == 0 {
		write("A=1\n")
		os.Chmod(file, 0o666)
		_, err = startTree(t, execKind, execArgs(t, []string{"sleep", "1"}, map[string]any{"env_file": file}), treeOpt{})
		if err == nil || !strings.Contains(err.Error(), "env file refused: file "+file+" is writable by others") {
			t.Fatalf("an env file others may write: %v", err)
		}
	}
}

// validate reads the env files that exist (relative to the tree file's
// folder) and reports a variable that nothing defines at its FILE:LINE:COL.
func TestValidateEnvFileAndVariables(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "app.env"), []byte("PORT=8080\n"), 0o600)
	reg := workers.NewRegistry()
	builtin.Register(reg)
	tree := `version: 1
name: t
supervisor:
  children:
    - name: a
      kind: exec
      args:
        env_file: [app.env, -gone.env]
        command: [server, "--port=${PORT}", "--host=${OTPCTL_TEST_HOST:-127.0.0.1}", "$${literal}"]
    - name: b
      kind: exec
      args:
        command: [server, "--port=${PORT}"]
`
	file := filepath.Join(dir, "t.yaml")
	os.WriteFile(file, []byte(tree), 0o600)
	_, err := spec.Load(file, reg)
	want := file + `:13:27: args.command[1]: undefined variable PORT (set it, give a default as ${PORT:-value}, or write $${PORT} for a literal) in "--port=${PORT}"`
	if err == nil || err.Error() != want {
		t.Fatalf("validate: %v\nwant: %s", err, want)
	}
	tree = strings.Replace(tree, `"--port=${PORT}"]`+"\n", `"--port=${PORT:-80}"]`+"\n", 1)
	os.WriteFile(file, []byte(tree), 0o600)
	loaded, err := spec.Load(file, reg)
	if err != nil {
		t.Fatal(err)
	}
	args := string(loaded.Find("t/a").Worker.Args)
	if !strings.Contains(args, `"env_file":["`+filepath.Join(dir, "app.env")+`","-`+filepath.Join(dir, "gone.env")+`"]`) {
		t.Fatalf("env_file not resolved against the tree file's folder: %s", args)
	}

	// In an include, relative to the included file's folder.
	os.Mkdir(filepath.Join(dir, "sub"), 0o700)
	os.WriteFile(filepath.Join(dir, "sub", "part.env"), []byte("PART=1\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "sub", "part.yaml"), []byte(`version: 1
name: part
supervisor:
  children:
    - {name: p, kind: exec, args: {env_file: part.env, command: [server, "${PART}"]}}
`), 0o600)
	os.WriteFile(file, []byte(tree+"    - {name: s, include: sub/part.yaml}\n"), 0o600)
	loaded, err = spec.Load(file, reg)
	if err != nil {
		t.Fatal(err)
	}
	if args := string(loaded.Find("t/s/p").Worker.Args); !strings.Contains(args, `"env_file":"`+filepath.Join(dir, "sub", "part.env")+`"`) {
		t.Fatalf("env_file of an included file not resolved against its folder: %s", args)
	}
}

// A pool member expands ${OTPCTL_INDEX} with the rest: one expander.
func TestExecPoolIndexExpands(t *testing.T) {
	checkNoOrphans(t)
	args := spec.MemberArgs([]byte(`{"command":["sh","-c","echo m${OTPCTL_INDEX}-${OTPCTL_TEST_X:-d}-'$$x'; exec sleep 1000"],"ready":{"log":"^m"}}`), 2)
	tr := mustStartTree(t, builtin.Exec(), string(args), treeOpt{})
	tr.logs.line(t, "stdout", func(l string) bool { return l == "m2-d-$x" })
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }

// checkEnv makes the test binary run exec's Check on the args it holds and
// print the error (see TestExecUserNotRoot).
const checkEnv = "OTPCTL_BUILTIN_TEST_CHECK"

func checkAs(args string) {
	fmt.Println(builtin.Exec().Check.Run(json.RawMessage(args)))
}

// otpctl that is not root cannot switch users: validate (the kind's Check)
// and the start refuse it, saying why; a user that is otpctl's own is fine.
func TestExecUserNotRoot(t *testing.T) {
	u := testuser.New(t)
	// The test binary, where the user may run it.
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Dir(dir), 0o755) // t.TempDir's own folder
	bin := filepath.Join(dir, "builtin.test")
	exe, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ args, want string }{
		{`{"command":["sleep"],"user":"root"}`, "args.user: otpctl runs as uid " + strconv.Itoa(u.UID) + " (" + u.Name + "), not root: it cannot run a child as user root"},
		{`{"command":["sleep"],"group":0}`, "args.group: otpctl runs as uid " + strconv.Itoa(u.UID) + " (" + u.Name + ") with gid " + strconv.Itoa(u.GID) + ", not root: it cannot run a child with group 0"},
		{`{"command":["sleep"],"user":"` + u.Name + `","group":` + strconv.Itoa(u.GID) + `}`, "<nil>"},
	} {
		out := strings.TrimSpace(string(u.Run(t, "/usr/bin/env", checkEnv+"="+c.args, bin, "-test.run=^$")))
		if out != c.want {
			t.Errorf("Check(%s) as %s: %s\nwant %s", c.args, u.Name, out, c.want)
		}
	}
}
