package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/otpctl/otpctl/schema"
	"github.com/otpctl/otpctl/workers"
	"github.com/otpctl/otpctl/workers/builtin"
)

func testRegistry() *workers.Registry {
	reg := workers.NewRegistry()
	reg.Register(workers.Kind{Name: "echo", Doc: "replies with what it got", Start: noStart})
	reg.Register(workers.Kind{Name: "runner", Doc: "runs a program", Start: noStart, Args: `{
		"type": "object",
		"required": ["command"],
		"additionalProperties": false,
		"properties": {
			"command": {"type": "array", "items": {"type": "string"}, "description": "argv"},
			"stop_signal": {"enum": ["TERM", "INT"], "default": "TERM"},
			"env": {"type": "object", "additionalProperties": {"type": "string"}},
			"port": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
			"verbose": {"type": "boolean", "default": false},
			"ready": {"type": "object", "oneOf": [{"required": ["tcp"]}, {"required": ["log"]}]}
		}}`})
	return reg
}

func TestKindsText(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := printKinds(&stdout, &stderr, testRegistry(), false); err != nil {
		t.Fatal(err)
	}
	// Kinds sorted by name; args in the order their schema writes them.
	want := `echo    replies with what it got

runner  runs a program
  command      list of string    required        argv
  stop_signal  one of TERM, INT  default "TERM"
  env          map of string
  port         string | integer
  verbose      bool              default false
  ready        mapping
`
	if got := stdout.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", strings.ReplaceAll(got, " ", "·"), strings.ReplaceAll(want, " ", "·"))
	}
	stdout.Reset()
	printKinds(&stdout, &stderr, workers.NewRegistry(), false)
	if stdout.Len() != 0 || !strings.Contains(stderr.String(), "no kinds are registered") {
		t.Errorf("no kinds: stdout %q stderr %q", stdout.String(), stderr.String())
	}
}

func TestKindsJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := printKinds(&stdout, &stderr, testRegistry(), true); err != nil {
		t.Fatal(err)
	}
	var got []kindInfo
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	json.Compact(&compact, got[0].ArgsSchema)
	if len(got) != 2 || got[0].Name != "echo" || len(got[0].Args) != 0 || compact.String() != workers.NoArgs {
		t.Fatalf("echo: %+v", got[0])
	}
	r := got[1]
	if r.Name != "runner" || r.Doc != "runs a program" || len(r.Args) != 6 {
		t.Fatalf("runner: %+v", r)
	}
	if a := r.Args[0]; a.Name != "command" || a.Type != "list of string" || !a.Required || a.Description != "argv" || a.Default != nil {
		t.Errorf("command: %+v", a)
	}
	if a := r.Args[1]; a.Name != "stop_signal" || a.Required || string(a.Default) != `"TERM"` {
		t.Errorf("stop_signal: %+v", a)
	}
	// The schema printed is the one args are checked against.
	if _, err := schema.Args(string(r.ArgsSchema)); err != nil {
		t.Errorf("args_schema does not compile: %v", err)
	}
}

func TestKindsCommand(t *testing.T) {
	r := otpctl(t, nil, "kinds", "--json")
	var got []kindInfo
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &got) != nil {
		t.Fatalf("code %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	// The binary lists exactly the built-in kinds, with their schemas.
	builtins := builtin.Kinds()
	if len(got) != len(builtins) {
		t.Fatalf("kinds --json lists %d kinds, the built-in ones are %d", len(got), len(builtins))
	}
	for _, k := range builtins {
		found := false
		for _, g := range got {
			if g.Name == k.Name {
				found = true
				if g.Doc != k.Doc {
					t.Errorf("%s: doc %q, want %q", k.Name, g.Doc, k.Doc)
				}
			}
		}
		if !found {
			t.Errorf("kinds --json does not list %s", k.Name)
		}
	}
	r = otpctl(t, nil, "kinds")
	if r.code != 0 {
		t.Fatalf("kinds: code %d, stderr %s", r.code, r.stderr)
	}
	for _, k := range builtins {
		if !strings.Contains(r.stdout, k.Name) {
			t.Errorf("kinds does not list %s:\n%s", k.Name, r.stdout)
		}
	}
	r = otpctl(t, nil, "kinds", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "otpctl kinds --json") {
		t.Errorf("kinds --help:\n%s", r.stdout)
	}
}

func TestSchemaCommand(t *testing.T) {
	r := otpctl(t, nil, "schema")
	if r.code != 0 || r.stdout != strings.TrimRight(schema.TreeSchema(), "\n")+"\n" {
		t.Fatalf("code %d\nstdout %.200s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	if !json.Valid([]byte(r.stdout)) {
		t.Fatal("otpctl schema does not print JSON")
	}
	r = otpctl(t, nil, "schema", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "yaml-language-server") {
		t.Errorf("schema --help:\n%s", r.stdout)
	}
}
