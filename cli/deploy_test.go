package cli

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/otpctl/otpctl/spec"
	"github.com/otpctl/otpctl/workers"
)

// The recipes of deploy/ and the Dockerfile, tested as far as this machine
// can: no systemd runs here as PID 1, no docker, no cluster. What is not
// tested is said in README.md, section Deploy.

// worstShutdown is the longest a tree can take to stop in order: its
// children stop one after the other, a worker within its shutdown (none for
// brutal_kill), a supervisor within its own timeout or, for infinity, the
// time its children take.
func worstShutdown(t *testing.T, file string) time.Duration {
	t.Helper()
	tree, err := spec.Load(file, workers.Default)
	if err != nil {
		t.Fatal(err)
	}
	var took func(n *spec.Node) time.Duration
	took = func(n *spec.Node) time.Duration {
		if n.Supervisor == nil {
			return max(0, time.Duration(n.Shutdown))
		}
		var sum time.Duration
		for _, c := range n.Supervisor.Children {
			sum += took(c)
		}
		if n.Shutdown > 0 {
			return min(sum, time.Duration(n.Shutdown))
		}
		return sum
	}
	return took(tree.Root)
}

// unitSettings reads a systemd unit file: KEY -> values, in order.
func unitSettings(t *testing.T, file string) map[string][]string {
	t.Helper()
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, l := range strings.Split(string(text), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "[") {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("%s: not KEY=VALUE: %q", file, l)
		}
		out[k] = append(out[k], v)
	}
	return out
}

// TestSystemdUnit checks deploy/systemd/otpctl@.service: the settings the
// notify protocol and an ordered stop depend on, its command lines against
// the real binary, and, when systemd-analyze is installed, the whole unit
// with `systemd-analyze verify` (any warning fails).
func TestSystemdUnit(t *testing.T) {
	const unit = "../deploy/systemd/otpctl@.service"
	set := unitSettings(t, unit)
	for k, want := range map[string]string{
		"Type": "notify", "NotifyAccess": "main", "KillMode": "mixed", "Restart": "on-failure",
		"ExecStart":  "/usr/local/bin/otpctl run --name %i /etc/otpctl/%i.yaml",
		"ExecReload": "/usr/local/bin/otpctl reload --name %i",
	} {
		if !slices.Equal(set[k], []string{want}) {
			t.Errorf("%s=%q, want %q", k, set[k], want)
		}
	}
	stop, err := time.ParseDuration(strings.Join(set["TimeoutStopSec"], ""))
	if worst := worstShutdown(t, "../examples/stack.yaml"); err != nil || stop <= worst {
		t.Errorf("TimeoutStopSec=%q does not cover examples/stack.yaml's shutdown (%v)", set["TimeoutStopSec"], worst)
	}

	// The command lines parse: with instance shop and no such tree, run
	// fails on the file (1), reload on the missing instance (1), neither on
	// its flags (2).
	bin := otpctlBin(t)
	dir := t.TempDir()
	env := []string{"XDG_RUNTIME_DIR=" + dir, "OTPCTL_SOCKET="}
	for _, k := range []string{"ExecStart", "ExecReload"} {
		line := strings.ReplaceAll(set[k][0], "%i", "shop")
		line = strings.Replace(line, "/etc/otpctl/", dir+"/", 1)
		args := strings.Fields(line)[1:]
		res := runBinary(t, bin, env, args...)
		if res.code != ExitFailure {
			t.Errorf("%s as otpctl %s: status %d, want 1; stderr %q", k, strings.Join(args, " "), res.code, res.stderr)
		}
	}

	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: the unit file was not verified by systemd (apt-get install systemd)")
	}
	// verify checks that ExecStart's program exists: this machine's otpctl
	// is not in /usr/local/bin, so the copy verified names the test's binary
	// instead; nothing else is changed. A template is verified through an
	// instance of it.
	text, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	vdir := t.TempDir()
	if err := os.WriteFile(filepath.Join(vdir, "otpctl@.service"), bytes.ReplaceAll(text, []byte("/usr/local/bin/otpctl"), []byte(bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, sa, "verify", "--man=no", filepath.Join(vdir, "otpctl@shop.service")).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// instruction is one line of a Dockerfile: its keyword and the rest.
type instruction struct {
	cmd  string
	args string
}

// readDockerfile reads the instructions of a Dockerfile (comments dropped,
// continued lines joined).
func readDockerfile(t *testing.T, file string) []instruction {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []instruction
	var cur string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "#") || (l == "" && cur == "") {
			continue
		}
		if s, ok := strings.CutSuffix(l, `\`); ok {
			cur += s + " "
			continue
		}
		cur += l
		cmd, args, _ := strings.Cut(cur, " ")
		out = append(out, instruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur = ""
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// jsonArgs reads an exec-form argument list (["a", "b"]).
func jsonArgs(t *testing.T, in instruction) []string {
	t.Helper()
	var out []string
	if err := json.Unmarshal([]byte(in.args), &out); err != nil {
		t.Fatalf("%s %s: not the exec form: %v", in.cmd, in.args, err)
	}
	return out
}

// ignored reports whether .dockerignore's patterns leave the path rel (of
// the build context) out: a pattern matches the path or a folder above it;
// one that starts with **/ matches at any depth. (The patterns used here
// only: no ! exceptions.)
func ignored(patterns []string, rel string) bool {
	parts := strings.Split(rel, "/")
	for _, p := range patterns {
		p = strings.TrimPrefix(p, "/")
		anyDepth := strings.HasPrefix(p, "**/")
		p = strings.TrimPrefix(p, "**/")
		for i := range parts {
			for j := i + 1; j <= len(parts); j++ {
				if !anyDepth && i > 0 {
					break
				}
				if ok, _ := filepath.Match(p, strings.Join(parts[i:j], "/")); ok {
					return true
				}
			}
		}
	}
	return false
}

// copyTree copies the files of src into dst, but those skip reports.
func copyTree(t *testing.T, src, dst string, skip func(rel string) bool) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if rel == "." {
			return nil
		}
		if skip(filepath.ToSlash(rel)) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return copyFile(path, to)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// TestDockerfileBuildSteps does by hand what `docker build` does with the
// Dockerfile, each stage's file system a folder here: the build context is
// the repository without what .dockerignore leaves out; the build stage's
// COPY and RUN lines run as written (only its absolute paths are moved into
// the stage's folder); the runtime stage gets the COPY lines, and its
// ENTRYPOINT's binary must be static and validate the tree its CMD names.
//
// Not tested: the base images (golang:…, debian:bookworm-slim), the
// runtime stage's RUN (apt-get install python3, useradd), USER, the
// HEALTHCHECK's timing, and running as PID 1 in a container (run_test's
// PID 1 tests cover the reaping itself).
func TestDockerfileBuildSteps(t *testing.T) {
	if testing.Short() {
		t.Skip("builds otpctl from a copy of the repository")
	}
	steps := readDockerfile(t, "../Dockerfile")
	ign, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, l := range strings.Split(string(ign), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, l)
		}
	}
	for _, keep := range []string{"go.mod", "cmd/otpctl/main.go", "examples/stack.yaml"} {
		if ignored(patterns, keep) {
			t.Fatalf(".dockerignore leaves out %s, which the build needs", keep)
		}
	}
	root := t.TempDir()
	context := filepath.Join(root, "context")
	copyTree(t, "..", context, func(rel string) bool { return ignored(patterns, rel) })

	stages := map[string]string{} // stage name -> its folder
	var stage, workdir string
	args := map[string]string{}
	in := func(p string) string { return filepath.Join(stage, p) }
	var entrypoint, cmd, health []string
	for _, s := range steps {
		switch s.cmd {
		case "FROM":
			f := strings.Fields(s.args)
			stage = filepath.Join(root, "stage"+string(rune('0'+len(stages))))
			name := stage
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				name = f[2]
			}
			stages[name] = stage
			workdir = "/"
		case "WORKDIR":
			workdir = s.args
		case "ARG":
			k, v, _ := strings.Cut(s.args, "=")
			args[k] = strings.Trim(v, `"`)
		case "COPY":
			f := strings.Fields(s.args)
			src := context
			if from, ok := strings.CutPrefix(f[0], "--from="); ok {
				src, f = stages[from], f[1:]
			}
			dst := f[len(f)-1]
			if !filepath.IsAbs(dst) {
				dst = filepath.Join(workdir, dst)
			}
			for _, p := range f[:len(f)-1] {
				from := filepath.Join(src, p)
				if st, err := os.Stat(from); err == nil && st.IsDir() {
					copyTree(t, from, in(dst), func(string) bool { return false })
					continue
				}
				to := in(dst)
				if strings.HasSuffix(f[len(f)-1], "/") {
					to = filepath.Join(to, filepath.Base(p))
				}
				if err := copyFile(from, to); err != nil {
					t.Fatalf("COPY %s: %v", s.args, err)
				}
			}
		case "RUN":
			if stage != stages["build"] {
				t.Logf("not run (the runtime image's packages and user): RUN %s", s.args)
				continue
			}
			line := strings.ReplaceAll(s.args, " /out/", " "+in("/out")+"/")
			c := exec.Command("sh", "-c", line)
			c.Dir = in(workdir)
			c.Env = os.Environ()
			for k, v := range args {
				c.Env = append(c.Env, k+"="+v)
			}
			if out, err := c.CombinedOutput(); err != nil {
				t.Fatalf("RUN %s: %v\n%s", line, err, out)
			}
		case "ENTRYPOINT":
			entrypoint = jsonArgs(t, s)
		case "CMD":
			cmd = jsonArgs(t, s)
		case "HEALTHCHECK":
			i := strings.Index(s.args, "CMD ")
			health = jsonArgs(t, instruction{"CMD", s.args[i+4:]})
		}
	}
	if len(entrypoint) < 2 || entrypoint[1] != "run" || len(cmd) != 1 {
		t.Fatalf("ENTRYPOINT %q CMD %q: want otpctl run FILE", entrypoint, cmd)
	}
	bin := in(entrypoint[0])
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("the ENTRYPOINT's binary: %v", err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s is linked dynamically: a minimal image may have no libc for it", entrypoint[0])
		}
	}
	f.Close()
	res := runBinary(t, bin, nil, "validate", in(cmd[0]))
	if res.code != 0 {
		t.Fatalf("otpctl validate of the image's tree: %d %q %q", res.code, res.stdout, res.stderr)
	}
	if len(health) == 0 || health[0] != entrypoint[0] {
		t.Fatalf("HEALTHCHECK %q: want the image's otpctl", health)
	}
	// `otpctl health` is added with the health endpoints (issue 16, part
	// 3); until it is on this branch the line is only read.
	if res := runBinary(t, bin, nil, append(health[1:], "--help")...); res.code != 0 {
		if res.code == ExitUsage && strings.Contains(res.stderr, `unknown command "`+health[1]+`"`) {
			t.Logf("HEALTHCHECK %q: this otpctl has no such command yet", health)
		} else {
			t.Errorf("HEALTHCHECK %q --help: %d %q", health, res.code, res.stderr)
		}
	}
}

// TestKubernetesManifests reads deploy/kubernetes as the YAML documents
// kubectl would apply (no cluster here): the ConfigMap holds
// examples/stack.yaml as tree.yaml, the Deployment runs one otpctl as the
// container's PID 1 on it, mounts the ConfigMap as a folder (so that its
// updates reach the watcher), probes it with `otpctl health`, and gives
// the tree time to stop.
func TestKubernetesManifests(t *testing.T) {
	docs := map[string]map[string]any{} // kind -> document
	files, _ := filepath.Glob("../deploy/kubernetes/*.yaml")
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(f)
		for {
			var d map[string]any
			if err := dec.Decode(&d); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			kind, _ := d["kind"].(string)
			if d["apiVersion"] == nil || kind == "" || docs[kind] != nil {
				t.Fatalf("%s: a document with no apiVersion or kind, or a second %q", file, kind)
			}
			docs[kind] = d
		}
		f.Close()
	}
	get := func(d any, path ...any) any {
		for _, p := range path {
			switch k := p.(type) {
			case string:
				m, _ := d.(map[string]any)
				d = m[k]
			case int:
				l, _ := d.([]any)
				if k >= len(l) {
					return nil
				}
				d = l[k]
			}
		}
		return d
	}
	cm, dep := docs["ConfigMap"], docs["Deployment"]
	if cm == nil || dep == nil {
		t.Fatalf("want a ConfigMap and a Deployment, got %v", slices.Collect(func(yield func(string) bool) {
			for k := range docs {
				yield(k)
			}
		}))
	}
	stack, err := os.ReadFile("../examples/stack.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if get(cm, "data", "tree.yaml") != string(stack) {
		t.Error("the ConfigMap's tree.yaml is not examples/stack.yaml")
	}
	if get(dep, "apiVersion") != "apps/v1" || get(dep, "spec", "replicas") != 1 {
		t.Errorf("want apps/v1 with 1 replica: %v %v", get(dep, "apiVersion"), get(dep, "spec", "replicas"))
	}
	pod := get(dep, "spec", "template", "spec")
	c := get(pod, "containers", 0)
	if get(pod, "containers", 1) != nil || get(c, "command") != nil {
		t.Error("want one container, whose command is the image's ENTRYPOINT (otpctl run, as PID 1)")
	}
	if a := get(c, "args"); a == nil || get(a, 0) != "/etc/otpctl/tree.yaml" {
		t.Errorf("args %v: want the mounted tree", a)
	}
	probe := func(which string) string {
		var s []string
		for _, a := range get(c, which, "exec", "command").([]any) {
			s = append(s, a.(string))
		}
		return strings.Join(s, " ")
	}
	if p := probe("livenessProbe"); p != "/usr/local/bin/otpctl health" {
		t.Errorf("livenessProbe %q", p)
	}
	if p := probe("readinessProbe"); p != "/usr/local/bin/otpctl health --ready" {
		t.Errorf("readinessProbe %q", p)
	}
	if get(c, "resources", "requests") == nil || get(c, "resources", "limits") == nil {
		t.Error("no resources")
	}
	grace, _ := get(pod, "terminationGracePeriodSeconds").(int)
	if worst := worstShutdown(t, "../examples/stack.yaml"); time.Duration(grace)*time.Second <= worst {
		t.Errorf("terminationGracePeriodSeconds %d does not cover the tree's shutdown (%v)", grace, worst)
	}
	var mounted bool
	for _, m := range get(c, "volumeMounts").([]any) {
		if get(m, "mountPath") != "/etc/otpctl" {
			continue
		}
		mounted = get(m, "subPath") == nil
		for _, v := range get(pod, "volumes").([]any) {
			if get(v, "name") == get(m, "name") && get(v, "configMap", "name") != get(cm, "metadata", "name") {
				t.Errorf("the volume at /etc/otpctl is not the ConfigMap: %v", v)
			}
		}
	}
	if !mounted {
		t.Error("the ConfigMap is not mounted as the folder /etc/otpctl (a subPath mount is never updated)")
	}
}
