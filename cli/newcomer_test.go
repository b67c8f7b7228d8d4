package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// poolYAML is a tree with the README tour's paths: shop/pool/w1..w3 under
// rest_for_one.
const poolYAML = `version: 1
name: shop
supervisor:
  strategy: one_for_one
  children:
    - {name: counter, kind: counter}
    - name: pool
      supervisor:
        strategy: rest_for_one
        children:
          - {name: w1, kind: echo}
          - {name: w2, kind: echo}
          - {name: w3, kind: echo}
`

// runPool runs poolYAML on its default socket, in a temp XDG_RUNTIME_DIR.
func runPool(t *testing.T) *runner {
	t.Helper()
	r := runYAML(t, "shop.yaml", poolYAML)
	r.waitEvent(0, "started shop boot")
	return r
}

// noInstance is the environment of a client with no instance to talk to.
func noInstance(t *testing.T) []string {
	return []string{"XDG_RUNTIME_DIR=" + t.TempDir(), "OTPCTL_SOCKET="}
}

// oneLine checks that a command exited with code and printed exactly the
// line want (or, want empty, one line) on stderr, and nothing on stdout.
func oneLine(t *testing.T, args []string, res result, code int, want string) {
	t.Helper()
	if res.code != code || strings.Count(res.stderr, "\n") != 1 || !strings.HasPrefix(res.stderr, "otpctl: ") ||
		(want != "" && res.stderr != want) || res.stdout != "" {
		t.Errorf("otpctl %s: status %d, stdout %q, stderr %q; want status %d and %q", strings.Join(args, " "), res.code, res.stdout, res.stderr, code, want)
	}
}

func TestUnknownCommandSaysTheLikelyOne(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"tre"}, "otpctl: unknown command \"tre\"; did you mean \"tree\"?\n"},
		{[]string{"kil", "shop/w"}, "otpctl: unknown command \"kil\"; did you mean \"kill\"?\n"},
		{[]string{"xyzzy"}, "otpctl: unknown command \"xyzzy\" (see otpctl --help)\n"},
		{[]string{"help", "tre"}, "otpctl: unknown command \"tre\"; did you mean \"tree\"?\n"},
		{[]string{"__complet"}, ""}, // the hidden command is not suggested
	} {
		res := otpctl(t, noInstance(t), c.args...)
		oneLine(t, c.args, res, ExitUsage, c.want)
		if strings.Contains(res.stderr, "__complete") {
			t.Errorf("otpctl %v suggests the hidden command: %q", c.args, res.stderr)
		}
	}
}

func TestHelpCommand(t *testing.T) {
	res := otpctl(t, nil, "help")
	if res.code != 0 || !strings.Contains(res.stdout, "COMMANDS:") || !strings.Contains(res.stdout, "otpctl validate tree.yaml") {
		t.Errorf("otpctl help: %+v", res)
	}
	for _, cmd := range []string{"run", "kill", "completion", "version", "socket"} {
		res := otpctl(t, nil, "help", cmd)
		if res.code != 0 || !strings.HasPrefix(res.stdout, "NAME:\n   otpctl "+cmd+" - ") || res.stderr != "" {
			t.Errorf("otpctl help %s: %+v", cmd, res)
		}
	}
	// A command's help lists no `help` subcommand, and `kill help` is a path.
	if res := otpctl(t, nil, "kill", "--help"); res.code != 0 || strings.Contains(res.stdout, "COMMANDS") {
		t.Errorf("otpctl kill --help: %+v", res)
	}
}

func TestFlagTypoSaysTheLikelyFlagOnce(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"tree", "--jsn"}, "otpctl: unknown flag --jsn; did you mean --json?\n"},
		{[]string{"kill", "shop/w1", "--reasn", "x"}, "otpctl: unknown flag --reasn; did you mean --reason?\n"},
		{[]string{"--verion"}, "otpctl: unknown flag --verion; did you mean --version?\n"},
		{[]string{"tree", "--zzzzzzzz"}, "otpctl: unknown flag --zzzzzzzz (see otpctl tree --help)\n"},
		{[]string{"wait", "shop/w1", "--timeout", "soon"}, "otpctl: invalid value \"soon\" for flag --timeout: parse error (see otpctl wait --help)\n"},
	} {
		oneLine(t, c.args, otpctl(t, noInstance(t), c.args...), ExitUsage, c.want)
	}
}

// Every command's wrong command line is exit status 2, one line, before
// it looks for an instance (none runs here).
func TestUsageErrorsAreStatus2(t *testing.T) {
	dir := t.TempDir()
	file := writeTree(t, dir, "shop.yaml", poolYAML)
	for _, args := range [][]string{
		{"run"}, {"run", file, file}, {"run", file, "--log-format", "xml"},
		{"validate"}, {"plan", file}, {"schema", "x"}, {"kinds", "x"},
		{"tree", "x"}, {"events", "x"}, {"reload", "x"}, {"shutdown", "x"}, {"socket", "x"},
		{"wait"}, {"wait", "a", "b"}, {"wait", "shop/w1", "--state", "asleep"},
		{"kill"}, {"kill", "a", "b"}, {"stop"}, {"restart", "a", "b"},
		{"start"}, {"start", "shop/jobs", "--args", "{"},
		{"call", "shop/counter"}, {"call", "shop/counter", "{bad"},
		{"completion"}, {"completion", "tcsh"}, {"version", "x"}, {"help", "a", "b"},
		{"tree", "--watch=maybe"}, {"--nosuch"}, {"tree", "--name"},
	} {
		oneLine(t, args, otpctl(t, noInstance(t), args...), ExitUsage, "")
	}
}

func TestVersionIsTheBuildInfos(t *testing.T) {
	bin := otpctlBin(t)
	a, b := otpctl(t, nil, "--version"), otpctl(t, nil, "version")
	if a.code != 0 || b.code != 0 || a.stdout != b.stdout || !strings.HasPrefix(a.stdout, "otpctl version ") {
		t.Fatalf("--version %+v, version %+v", a, b)
	}
	got := strings.TrimSpace(strings.TrimPrefix(a.stdout, "otpctl version "))
	if got == "dev" || got == "" {
		t.Fatalf("otpctl version %q", got)
	}
	// What `go version -m` reads from the binary is what it prints.
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	mod := regexp.MustCompile(`(?m)^\tmod\t\S+\t(\S+)`).FindSubmatch(out)
	if mod == nil || !strings.HasPrefix(got, string(mod[1])) {
		t.Errorf("otpctl version %q; go version -m says:\n%s", got, out)
	}
	if rev := regexp.MustCompile(`(?m)^\tbuild\tvcs.revision=(\S{12})`).FindSubmatch(out); rev != nil && !strings.Contains(got, "rev "+string(rev[1])) {
		t.Errorf("otpctl version %q lacks the revision %s", got, rev[1])
	}
}

// A `go build` in a clone (VCS stamping on) prints the clone's module
// pseudo-version and revision. It builds the commit checked out, so it
// tests what is committed.
func TestVersionOfACloneBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds otpctl once more")
	}
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	clone := filepath.Join(t.TempDir(), "otpctl")
	if out, err := exec.Command("git", "clone", "-q", strings.TrimSpace(string(top)), clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	// The clone at this checkout's commit (a clone of a worktree may check
	// out another branch).
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("git", "-C", clone, "checkout", "-q", strings.TrimSpace(string(head))).CombinedOutput(); err != nil {
		t.Fatalf("git checkout: %v\n%s", err, out)
	}
	bin := filepath.Join(t.TempDir(), "otpctl")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "./cmd/otpctl")
	build.Dir = clone
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build in the clone: %v\n%s", err, out)
	}
	res := runBinary(t, bin, nil, "version")
	want := "(rev " + string(head[:12]) + ")"
	if res.code != 0 || !strings.HasPrefix(res.stdout, "otpctl version v0.0.0-") || !strings.HasSuffix(strings.TrimSpace(res.stdout), want) {
		t.Errorf("otpctl version from a clone at %s: %+v; want a pseudo-version and %s", head[:12], res, want)
	}
}

func TestCompletionScripts(t *testing.T) {
	for _, sh := range []struct{ name, check string }{{"bash", "-n"}, {"zsh", "-n"}, {"fish", "--no-execute"}} {
		t.Run(sh.name, func(t *testing.T) {
			res := otpctl(t, nil, "completion", sh.name)
			if res.code != 0 || !strings.Contains(res.stdout, "__complete") {
				t.Fatalf("otpctl completion %s: %+v", sh.name, res)
			}
			path, err := exec.LookPath(sh.name)
			if err != nil {
				t.Skipf("%s is not installed: the script is not checked", sh.name)
			}
			script := filepath.Join(t.TempDir(), "otpctl."+sh.name)
			os.WriteFile(script, []byte(res.stdout), 0o644)
			if out, err := exec.Command(path, sh.check, script).CombinedOutput(); err != nil {
				t.Errorf("%s %s on the script: %v\n%s", sh.name, sh.check, err, out)
			}
		})
	}
}

func TestCompletionOfCommandsFlagsAndPaths(t *testing.T) {
	r := runPool(t)
	lines := func(args ...string) []string {
		t.Helper()
		return strings.Fields(r.mustCtl(append([]string{"__complete"}, args...)...))
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"k"}, []string{"kinds", "kill"}},
		{[]string{"kill", "--r"}, []string{"--reason"}},
		{[]string{"wait", "--state", "r"}, []string{"running", "restarting"}},
		{[]string{"kill", "shop/p"}, []string{"shop/pool", "shop/pool/w1", "shop/pool/w2", "shop/pool/w3"}},
		{[]string{"--name", "shop", "kill", "shop/pool/w"}, []string{"shop/pool/w1", "shop/pool/w2", "shop/pool/w3"}},
		{[]string{"kill", "--name", "nosuch", "shop/p"}, nil},
		{[]string{"validate", "sh"}, nil}, // files: the shell completes them
		{[]string{"signal", "shop/pool/w1", "U"}, []string{"USR1", "USR2"}},
		{[]string{"signal", "shop/pool/w"}, []string{"shop/pool/w1", "shop/pool/w2", "shop/pool/w3"}},
	} {
		if got := lines(c.args...); !slices.Equal(got, c.want) {
			t.Errorf("__complete %v = %v, want %v", c.args, got, c.want)
		}
	}
	// The bash script itself, as bash runs it on <TAB>.
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	script := filepath.Join(r.dir, "otpctl.bash")
	os.WriteFile(script, []byte(r.mustCtl("completion", "bash")), 0o644)
	sh := exec.Command("bash", "-c", `source "$1"; COMP_WORDS=("$2" kill shop/p); COMP_CWORD=2; _otpctl; printf '%s\n' "${COMPREPLY[@]}"`, "bash", script, r.bin)
	sh.Env = append(append(os.Environ(), raceNoExitSleep), r.env...)
	out, err := sh.CombinedOutput()
	if err != nil || !slices.Contains(strings.Fields(string(out)), "shop/pool/w1") {
		t.Errorf("bash completion of `otpctl kill shop/p`: %v\n%s", err, out)
	}
}

func TestGlobalFlagsInAnyPosition(t *testing.T) {
	r := runPool(t)
	sock := filepath.Join(r.dir, "otpctl", "shop.sock")
	for _, args := range [][]string{
		{"--name", "shop", "tree"}, {"tree", "--name", "shop"}, {"--name=shop", "tree"},
		{"--socket", sock, "tree"}, {"tree", "--socket", sock},
		{"--json", "tree"}, {"--json", "--name", "shop", "tree"}, {"tree", "--json", "--socket", sock},
	} {
		res := r.ctl(args...)
		if res.code != 0 || !strings.Contains(res.stdout, "w1") {
			t.Errorf("otpctl %s: %+v", strings.Join(args, " "), res)
		}
		if json := slices.Contains(args, "--json"); json != strings.HasPrefix(res.stdout, "{") {
			t.Errorf("otpctl %s printed JSON: %v\n%s", strings.Join(args, " "), !json, res.stdout)
		}
	}
	// --name before start picks the instance, not the new child's name.
	if res := r.ctl("--name", "nosuch", "tree"); res.code != 1 || !strings.Contains(res.stderr, "nosuch.sock") {
		t.Errorf("otpctl --name nosuch tree: %+v", res)
	}
}

func TestKillSaysWhatItDid(t *testing.T) {
	r := runPool(t)
	if got := r.mustCtl("kill", "shop/pool/w2"); got != "killed shop/pool/w2 (reason killed)\n" {
		t.Errorf("kill printed %q", got)
	}
	if got := r.mustCtl("kill", "shop/pool/w3", "--reason", "disk full"); got != "killed shop/pool/w3 (reason disk full)\n" {
		t.Errorf("kill --reason printed %q", got)
	}
}

func TestUnknownPathSaysTheLikelyOne(t *testing.T) {
	r := runPool(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"kill", "shop/pol/w1"}, "otpctl: kill shop/pol/w1: no such node; did you mean shop/pool/w1?\n"},
		{[]string{"stop", "shop/pool/w4"}, "otpctl: stop shop/pool/w4: no such node; did you mean shop/pool/w1?\n"},
		{[]string{"restart", "shop/countr"}, "otpctl: restart shop/countr: no such node; did you mean shop/counter?\n"},
		{[]string{"call", "shop/countr", `{"op":"get"}`}, "otpctl: call shop/countr: no such node; did you mean shop/counter?\n"},
		{[]string{"start", "shop/pol"}, "otpctl: start shop/pol: no such node; did you mean shop/pool?\n"},
		{[]string{"kill", "shop/database"}, "otpctl: kill shop/database: no such node\n"},
	} {
		oneLine(t, c.args, r.ctl(c.args...), ExitFailure, c.want)
	}
}

func TestWaitForAPathThatIsNot(t *testing.T) {
	r := runPool(t)
	start := time.Now()
	oneLine(t, []string{"wait"}, r.ctl("wait", "shop/pol/w1", "--timeout", "5m"), ExitFailure,
		"otpctl: wait shop/pol/w1: no such node; did you mean shop/pool/w1?\n")
	oneLine(t, []string{"wait"}, r.ctl("wait", "shop/nosuch", "--timeout", "5m"), ExitFailure,
		"otpctl: wait shop/nosuch: no such node (to wait for a node a reload will add, use --absent-ok)\n")
	if waited := time.Since(start); waited > 2*time.Minute {
		t.Errorf("wait on a path that is not took %v: it waited out its timeout", waited)
	}
	res := r.ctl("wait", "shop/nosuch", "--absent-ok", "--timeout", "300ms")
	if res.code != 1 || !strings.Contains(res.stderr, "not running") {
		t.Errorf("wait --absent-ok on a path that never comes: %+v", res)
	}
}

// With --absent-ok, wait waits for the node a reload adds.
func TestWaitAbsentOKForANodeAReloadAdds(t *testing.T) {
	dir := t.TempDir()
	file := writeTree(t, dir, "shop.yaml", poolYAML)
	r := startRun(t, dir, file, "--no-watch")
	r.waitEvent(0, "started shop boot")
	done, out := background(t, r.bin, r.env, "wait", "shop/late", "--absent-ok", "--timeout", "60s")
	writeTree(t, dir, "shop.yaml", poolYAML+"    - {name: late, kind: echo}\n")
	r.mustCtl("reload")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("wait --absent-ok: %v; it printed %q", err, out)
		}
	case <-time.After(e2eTimeout):
		t.Fatalf("wait --absent-ok still waiting after the reload added shop/late; it printed %q", out.String())
	}
}

func TestSocketCommand(t *testing.T) {
	r := runPool(t)
	want := filepath.Join(r.dir, "otpctl", "shop.sock")
	for _, args := range [][]string{{"socket"}, {"socket", "--name", "shop"}, {"--name", "shop", "socket"}} {
		if got := r.mustCtl(args...); got != want+"\n" {
			t.Errorf("otpctl %s = %q, want %q", strings.Join(args, " "), got, want)
		}
	}
	if res := otpctl(t, noInstance(t), "socket"); res.code != 1 || !strings.Contains(res.stderr, "no otpctl instance is running") {
		t.Errorf("otpctl socket with none running: %+v", res)
	}
}
