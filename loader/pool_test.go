package loader

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/spec"
	"github.com/otpctl/otpctl/workers"
)

// poolFile writes a tree file of a worker a and a pool of echoes tagged
// with their index, of size members (and dispatch, if not empty), and
// returns its name.
func poolFile(t *testing.T, dir string, size int, dispatch string) string {
	t.Helper()
	d := ""
	if dispatch != "" {
		d = ", dispatch: " + dispatch
	}
	text := fmt.Sprintf(`version: 1
name: app
supervisor:
  children:
    - {name: a, kind: echo}
    - name: pool
      pool: {kind: echo, size: %d, args: {tag: "m${OTPCTL_INDEX}"}%s}
`, size, d)
	file := filepath.Join(dir, "app.yaml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// tag calls path with "args" and returns the tag the echo answering was
// started with.
func tag(t *testing.T, r *Running, path string) string {
	t.Helper()
	rep, err := r.Call(path, json.RawMessage(`"args"`), 0)
	if err != nil {
		t.Fatalf("call %s: %v", path, err)
	}
	var a struct{ Tag string }
	if err := json.Unmarshal(rep, &a); err != nil {
		t.Fatal(err)
	}
	return a.Tag
}

// members returns the pids of the pool's members by index, checking that
// they are 1 … n, in order.
func members(t *testing.T, r *Running, n int) map[string]runtime.Pid {
	t.Helper()
	p := node(t, r, "app/pool")
	if !p.Pool || p.Size != n || len(p.Children) != n {
		t.Fatalf("pool: pool=%v size=%d members=%d, want a pool of %d", p.Pool, p.Size, len(p.Children), n)
	}
	out := map[string]runtime.Pid{}
	for i, c := range p.Children {
		if c.Name != strconv.Itoa(i+1) || c.State != runtime.StateRunning || c.Kind != "echo" {
			t.Fatalf("member %d: %s %s %s", i+1, c.Name, c.State, c.Kind)
		}
		out[c.Name] = c.Proc
	}
	return out
}

func TestPoolDispatchesCallsAndReachesAMember(t *testing.T) {
	r, _ := startFile(t, poolFile(t, t.TempDir(), 3, ""))
	var got []string
	for range 4 {
		got = append(got, tag(t, r, "app/pool"))
	}
	if fmt.Sprint(got) != "[m1 m2 m3 m1]" {
		t.Fatalf("calls to the pool went to %v, want round robin m1 m2 m3 m1", got)
	}
	if got := tag(t, r, "app/pool/2"); got != "m2" {
		t.Fatalf("a call to app/pool/2 reached %s", got)
	}
	p := node(t, r, "app/pool")
	if p.Kind != "echo" || p.Dispatch != "round_robin" || p.Strategy != "one_for_one" {
		t.Fatalf("pool node: kind %q dispatch %q strategy %q", p.Kind, p.Dispatch, p.Strategy)
	}
	members(t, r, 3)
}

func TestPoolSkipsAStoppedMember(t *testing.T) {
	r, _ := startFile(t, poolFile(t, t.TempDir(), 3, ""))
	if err := r.Stop("app/pool/2"); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if got := tag(t, r, "app/pool"); got == "m2" {
			t.Fatal("a stopped member got a call")
		}
	}
	if _, err := r.Call("app/pool/2", json.RawMessage(`"args"`), 0); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("call to a stopped member: %v, want ErrNotRunning", err)
	}
}

func TestPoolScaleKeepsTheOtherMembers(t *testing.T) {
	r, rec := startFile(t, poolFile(t, t.TempDir(), 3, ""))
	before := members(t, r, 3)
	mark := rec.Len()
	if old, err := r.Scale("app/pool", 5); err != nil || old != 3 {
		t.Fatalf("Scale to 5: %d, %v", old, err)
	}
	rec.wait(t, mark, "started app/pool/4 operator") // an operator's, not a crash nor a reload
	rec.wait(t, mark, "started app/pool/5 operator")
	grown := members(t, r, 5)
	for i, pid := range before {
		if grown[i] != pid {
			t.Errorf("member %s restarted by a scale up", i)
		}
	}
	if got := tag(t, r, "app/pool/5"); got != "m5" {
		t.Fatalf("new member 5 started with tag %s", got)
	}
	if n := r.Spec().Find("app/pool").Supervisor.Pool.Size; n != 5 {
		t.Fatalf("the running spec says size %d after scaling to 5", n)
	}
	if old, err := r.Scale("app/pool", 2); err != nil || old != 5 {
		t.Fatalf("Scale to 2: %d, %v", old, err)
	}
	shrunk := members(t, r, 2)
	if shrunk["1"] != before["1"] || shrunk["2"] != before["2"] {
		t.Fatalf("members 1 and 2 restarted by a scale down")
	}
	for _, tc := range []struct {
		path string
		size int
		want error
	}{
		{"app/pool", 0, ErrInvalid},
		{"app/pool", 1025, ErrInvalid},
		{"app/a", 2, ErrRefused},
		{"app", 2, ErrRefused},
		{"app/nope", 2, ErrNotFound},
	} {
		if _, err := r.Scale(tc.path, tc.size); !errors.Is(err, tc.want) {
			t.Errorf("Scale(%s, %d) = %v, want %v", tc.path, tc.size, err, tc.want)
		}
	}
}

func TestPoolReloadOfSizeResizesInPlace(t *testing.T) {
	dir := t.TempDir()
	r, rec := startFile(t, poolFile(t, dir, 3, ""))
	before := members(t, r, 3)
	a := node(t, r, "app/a").Proc
	mark := rec.Len()

	poolFile(t, dir, 8, "")
	res, err := r.ReloadFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Plan.String(); got != "~ app/pool (size 3 → 8: 5 started)\n2 unchanged\n" {
		t.Fatalf("plan:\n%s", got)
	}
	grown := members(t, r, 8)
	for i, pid := range before {
		if grown[i] != pid {
			t.Errorf("member %s restarted by a reload of the size", i)
		}
	}
	rec.wait(t, mark, "started app/pool/8 reload")

	poolFile(t, dir, 2, "least_busy")
	if _, err := r.ReloadFile(); err != nil {
		t.Fatal(err)
	}
	shrunk := members(t, r, 2)
	if shrunk["1"] != before["1"] || shrunk["2"] != before["2"] || node(t, r, "app/a").Proc != a {
		t.Fatal("a reload of the size restarted what it kept")
	}
	if d := node(t, r, "app/pool").Dispatch; d != "least_busy" {
		t.Fatalf("dispatch %q after the reload, want least_busy", d)
	}

	// What every member is changed: the pool restarts, with the new args.
	file := poolFile(t, dir, 2, "least_busy")
	text, _ := os.ReadFile(file)
	if err := os.WriteFile(file, []byte(strings.Replace(string(text), `tag: "m`, `tag: "n`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err = r.ReloadFile()
	if err != nil || res.Plan.String() != "~ app/pool (pool.args changed (tag): restart)\n2 unchanged\n" {
		t.Fatalf("reload of the members' args: %v\n%s", err, res.Plan)
	}
	restarted := members(t, r, 2)
	if restarted["1"] == shrunk["1"] || restarted["2"] == shrunk["2"] {
		t.Fatal("members kept their process through a change of their args")
	}
	if got := tag(t, r, "app/pool/2"); got != "n2" {
		t.Fatalf("member 2 restarted with tag %s, want n2", got)
	}
}

func TestPoolOfMembersThatTakeNoRequests(t *testing.T) {
	st := tree(sup("app", spec.OneForOne, &spec.Node{Name: "pool", Restart: spec.Permanent, Shutdown: spec.Infinity,
		Supervisor: &spec.Supervisor{Strategy: spec.OneForOne, MaxFrequency: 3, Period: 5e9, AutoShutdown: spec.Never,
			Pool: &spec.Pool{Kind: "stubborn", Base: "stubborn", Args: json.RawMessage(`{}`), Size: 2, Dispatch: spec.Random,
				Restart: spec.Permanent, Shutdown: spec.BrutalKill}}}))
	r, _ := start(t, st, nil)
	if _, err := r.Call("app/pool", json.RawMessage(`{}`), 0); !errors.Is(err, workers.ErrNotCallable) {
		t.Fatalf("call to a pool of members that take no requests: %v, want ErrNotCallable", err)
	}
}
