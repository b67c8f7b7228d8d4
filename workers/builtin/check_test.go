package builtin_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
	"github.com/otpctl/otpctl/spec"
	"github.com/otpctl/otpctl/workers"
	"github.com/otpctl/otpctl/workers/builtin"
)

// Regression (issue 14, 8): validate passed args that the kind's start
// refuses (counter initial 99999999999999999999, a NUL in an exec command),
// so a hot reload stopped a running child and left it failed. For every
// built-in kind, args are refused by validation exactly when the start
// refuses them, and the diagnostic points at the arg at fault.
func TestValidateRefusesWhatStartRefuses(t *testing.T) {
	cases := []struct {
		kind, args string
		at         string // "": accepted; else the text the diagnostic points at
		label      string // the arg the diagnostic names
	}{
		{"counter", `{initial: -9223372036854775808}`, "", ""},
		{"counter", `{initial: 99999999999999999999}`, "99999999999999999999", "args.initial"},
		{"counter", `{initial: 9223372036854775808}`, "9223372036854775808", "args.initial"},
		{"cache", `{max_size: 1}`, "", ""},
		{"cache", `{max_size: 99999999999999999999}`, "99999999999999999999", "args.max_size"},
		{"cache", `{max_size: 0}`, "0", "args.max_size"},
		{"ticker", `{interval: "2562047h"}`, "", ""},
		{"ticker", `{interval: "2562048h"}`, `"2562048h"`, "args.interval"},
		{"ticker", `{interval: 9223372036}`, "", ""},
		{"ticker", `{interval: 9223372037}`, "9223372037", "args.interval"},
		{"crash", `{after: "1h", seed: 18446744073709551615}`, "", ""},
		{"crash", `{after: "1h", seed: 18446744073709551616}`, "18446744073709551616", "args.seed"},
		{"crash", `{after: 9223372037}`, "9223372037", "args.after"},
		{"crash", `{probability: 0.5, interval: "9999999999h"}`, `"9999999999h"`, "args.interval"},
		{"echo", `{}`, "", ""},
		{"echo", `{x: 1}`, "x", "args"},
		{"exec", `{command: [sleep, "60"], env: {A: "1"}, dir: "/", stop_signal: INT}`, "", ""},
		{"exec", `{command: [sleep, "6\u00000"]}`, `"6\u00000"`, "args.command[1]"},
		{"exec", `{command: ["sle\u0000ep", "60"]}`, `"sle\u0000ep"`, "args.command[0]"},
		{"exec", `{command: [sleep, "60"], env: {A: "x\u0000y"}}`, `"x\u0000y"`, "args.env.A"},
		{"exec", `{command: [sleep, "60"], env: {"A\u0000B": "1"}}`, `"1"`, "args.env.A\x00B"},
		{"exec", `{command: [sleep, "60"], dir: "/tmp\u0000"}`, `"/tmp\u0000"`, "args.dir"},
		{"exec", `{command: [sleep, "60"], ready: {delay: "10ms", timeout: 9223372037}}`, "9223372037", "args.ready.timeout"},
		{"exec", `{command: [sleep, "60"], ready: {delay: "99999999h"}}`, `"99999999h"`, "args.ready.delay"},
		{"exec", `{command: [sleep, "60"], ready: {delay: "10ms"}}`, "", ""},
		{"exec", `{command: [sleep, "60"], ready: {log: "(?=x)"}}`, `"(?=x)"`, "args.ready.log"},
	}
	reg := workers.NewRegistry()
	builtin.Register(reg)
	for _, c := range cases {
		t.Run(c.kind+" "+c.args, func(t *testing.T) {
			const argsLine = 7
			yaml := fmt.Sprintf("version: 1\nname: t\nsupervisor:\n  children:\n    - name: c\n      kind: %s\n      args: %s\n", c.kind, c.args)
			tree, verr := spec.Parse("t.yaml", []byte(yaml), reg)
			var raw json.RawMessage
			if verr == nil {
				raw = tree.Root.Supervisor.Children[0].Worker.Args
			} else {
				raw = yamlFlowToJSON(t, c.args)
			}
			serr := start(t, reg, c.kind, raw)
			switch {
			case c.at == "" && verr != nil:
				t.Fatalf("validate refused what start accepts: %v", verr)
			case c.at == "" && serr != nil:
				t.Fatalf("start refused what validate accepted: %v", serr)
			case c.at == "":
				return
			case verr == nil:
				t.Fatalf("validate accepted what start refuses (%v)", serr)
			case serr == nil:
				t.Fatalf("start accepted what validate refuses (%v)", verr)
			}
			col := strings.Index(fmt.Sprintf("      args: %s", c.args), c.at) + 1
			want := fmt.Sprintf("t.yaml:%d:%d: %s", argsLine, col, c.label)
			if !strings.HasPrefix(verr.Error(), want) {
				t.Errorf("validate says\n\t%v\nwant it to begin %q", verr, want)
			}
		})
	}
}

// yamlFlowToJSON reads args the test wrote as YAML (a flow mapping) the way
// the tree file would give them to the start, for args that do not
// validate.
func yamlFlowToJSON(t *testing.T, args string) json.RawMessage {
	t.Helper()
	yaml := "version: 1\nname: t\nsupervisor:\n  children:\n    - {name: c, kind: k, args: " + args + "}\n"
	reg := workers.NewRegistry()
	reg.Register(workers.Kind{Name: "k", Args: `{"type":"object"}`, Start: func(*runtime.Process, workers.Worker) (workers.Instance, error) {
		return workers.Instance{}, errors.New("not started")
	}})
	tree, err := spec.Parse("t.yaml", []byte(yaml), reg)
	if err != nil {
		t.Fatalf("args %s: %v", args, err)
	}
	return tree.Root.Supervisor.Children[0].Worker.Args
}

// start starts the kind with args under a process of the test and stops
// it again; it returns the start's error.
func start(t *testing.T, reg *workers.Registry, kind string, args json.RawMessage) error {
	t.Helper()
	k, err := reg.Lookup(kind)
	if err != nil {
		t.Fatal(err)
	}
	parent, detach := runtime.Attach()
	defer detach()
	parent.TrapExits(true)
	inst, err := k.Start(parent, workers.Worker{Path: "t/c", Args: args, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	m := parent.Monitor(inst.Pid)
	runtime.Exit(inst.Pid, runtime.Killed)
	if _, err := runtime.NewSelector[runtime.Down]().SelectingProcessDown(m, func(d runtime.Down) runtime.Down { return d }).Select(parent, 10*time.Second); err != nil {
		t.Fatalf("%s did not stop: %v", kind, err)
	}
	return nil
}
