package otptest_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/otpctl/otpctl/loader"
	"github.com/otpctl/otpctl/otptest"
	"github.com/otpctl/otpctl/spec"
)

// A reload applies only the difference: unchanged nodes keep their pids.
func TestReload(t *testing.T) {
	tree := otptest.StartYAML(t, `
version: 1
name: r
supervisor:
  children:
    - {name: a, kind: echo}
    - {name: b, kind: echo}
    - {name: c, kind: echo}
`)
	before := tree.Snapshot()
	m := tree.Mark()
	res := tree.Reload(`
version: 1
name: r
supervisor:
  children:
    - {name: a, kind: echo, restart: transient}
    - {name: b, kind: counter}
    - {name: d, kind: echo}
`)
	tree.AssertTrace(m,
		"terminated r/c cause=reload reason=shutdown",
		"terminated r/b cause=reload reason=shutdown",
		"started r/b cause=reload",
		"started r/d cause=reload",
		"reload r added=r/d removed=r/c changed=r/b updated=r/a")
	if res.Plan.Empty() || len(res.Failed) != 0 {
		t.Errorf("result %+v", res)
	}
	after := tree.Snapshot()
	if after.Pid("r/a") != before.Pid("r/a") || after.Node("r/a").Restart != "transient" {
		t.Errorf("a was restarted or not updated:\n%s", after)
	}
	if got := string(tree.Call("r/b", `{"op":"get"}`)); got != `{"value":0}` {
		t.Errorf("b is not a counter: %s", got)
	}
}

// The YAML is read as the tree's own file: includes are found beside it.
func TestReloadFromAFile(t *testing.T) {
	tree := otptest.Start(t, "testdata/shop.yaml")
	data, err := os.ReadFile("testdata/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := tree.Mark()
	tree.Reload(strings.Replace(string(data), "initial: 40", "initial: 7", 1))
	tree.AssertTrace(m,
		"terminated shop/counter cause=reload reason=shutdown",
		"started shop/counter cause=reload",
		"reload shop changed=shop/counter")
	if got := string(tree.Call("shop/counter", `{"op":"get"}`)); got != `{"value":7}` {
		t.Errorf("counter %s", got)
	}
}

// A reload that cannot apply changes nothing and says why.
func TestReloadRefused(t *testing.T) {
	tree := otptest.StartYAML(t, pair)
	m := tree.Mark()
	_, err := tree.TryReload("version: 1\nname: r\nsupervisor:\n  strategy: one_for_any\n  children: [{name: a, kind: ech}]\n")
	var ds spec.Diagnostics
	if !errors.As(err, &ds) || len(ds) != 2 {
		t.Fatalf("err = %v, want two diagnostics", err)
	}
	e := tree.Await(otptest.ReloadFailed())
	if len(e.Errors) != 2 || !strings.HasPrefix(e.Errors[0], "inline.yaml:4:13: strategy: ") {
		t.Errorf("reload_failed errors %q", e.Errors)
	}
	_, err = tree.TryReload(strings.Replace(pair, "name: r", "name: q", 1))
	if !errors.Is(err, loader.ErrRefused) {
		t.Errorf("renaming the root: %v", err)
	}
	tree.AssertTrace(m, "reload_failed r errors=2", "reload_failed r errors=1")

	f := runFake(func(tb testing.TB) {
		otptest.StartYAML(tb, pair).Reload("version: 1\nname: r\nsupervisor: {children: [{name: a, kind: ech}]}\n")
	})
	want := "otptest: reload: the YAML is not a valid tree:\n\tinline.yaml:3:41: kind: unknown kind \"ech\" (did you mean \"echo\"?)"
	if f.failed() != want {
		t.Errorf("message:\n%s\nwant:\n%s", f.failed(), want)
	}
}
