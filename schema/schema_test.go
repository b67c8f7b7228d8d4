package schema

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

func decode(t *testing.T, src string) any {
	t.Helper()
	v, err := Decode([]byte(src))
	if err != nil {
		t.Fatalf("decoding %s: %v", src, err)
	}
	return v
}

func strs(vs []Violation) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.String()
		if v.AtKey {
			out[i] += " [key]"
		}
	}
	return out
}

func same(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestTreeSchemaIsValidJSON(t *testing.T) {
	var v map[string]any
	if err := json.Unmarshal([]byte(TreeSchema()), &v); err != nil {
		t.Fatal(err)
	}
	if v["$id"] != TreeURL {
		t.Errorf("$id is %v, want TreeURL %s", v["$id"], TreeURL)
	}
	if v["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema is %v, want draft 2020-12", v["$schema"])
	}
}

func TestValidateTree(t *testing.T) {
	for _, c := range []struct {
		name string
		doc  string
		want []string
	}{
		{"smallest", `{"version":1,"supervisor":{}}`, nil},
		{"full", `{"version":1,"name":"shop","x-common":{"a":1},
			"kinds":{"web":{"base":"exec","args":{"command":["x"]},"restart":"transient","shutdown":"10s"}},
			"supervisor":{"strategy":"rest_for_one","max_frequency":3,"period":60,"auto_shutdown":"any_significant","children":[
				{"name":"web","kind":"web","restart":"temporary","shutdown":"brutal_kill","significant":true,"args":{"a":1}},
				{"name":"sub","supervisor":{"children":[]},"shutdown":"infinity"},
				{"name":"pay.v2","include":"payments.yaml"},
				{"name":"jobs","dynamic":{"kind":"echo","args":{},"max_children":10,"restart":"transient","shutdown":"1s","max_frequency":5,"period":"1m30s"}},
				{"name":"pool","pool":{"kind":"echo","size":8,"args":{},"dispatch":"least_busy","restart":"transient","shutdown":"1s","strategy":"one_for_all","max_frequency":5,"period":"1m"}}]}}`, nil},
		{"not a mapping", `[]`, []string{`/: must be a mapping; got a list`}},
		{"nothing", `null`, []string{`/: must be a mapping; got nothing`}},
		{"missing keys", `{}`, []string{
			`/: missing required key "supervisor"`,
			`/: missing required key "version"`}},
		{"version", `{"version":"1","supervisor":{}}`, []string{
			`/version: must be 1, the tree-file format this otpctl reads; got "1"`}},
		{"enum", `{"version":1,"supervisor":{"strategy":"one_for_any","auto_shutdown":"always"}}`, []string{
			`/supervisor/auto_shutdown: must be one of never, any_significant, all_significant; got "always"`,
			`/supervisor/strategy: must be one of one_for_one, one_for_all, rest_for_one; got "one_for_any"`}},
		{"unknown keys", `{"version":1,"supervisor":{"stratgy":"one_for_one","zzz":1},"extra":true}`, []string{
			`/extra: unknown key "extra"; expected one of kinds, name, supervisor, version [key]`,
			`/supervisor/stratgy: unknown key "stratgy" (did you mean "strategy"?) [key]`,
			`/supervisor/zzz: unknown key "zzz"; expected one of auto_shutdown, backoff, children, max_frequency, period, strategy [key]`}},
		{"numbers and durations", `{"version":1,"supervisor":{"max_frequency":-1,"period":"5 s","children":[
			{"name":"a","kind":"k","shutdown":0},{"name":"b","kind":"k","shutdown":"soon"},{"name":"c","kind":"k","shutdown":1.5}]}}`, []string{
			`/supervisor/children/0/shutdown: must be a duration such as 500ms or 5s, a whole number of seconds, brutal_kill or infinity; got 0`,
			`/supervisor/children/1/shutdown: must be a duration such as 500ms or 5s, a whole number of seconds, brutal_kill or infinity; got "soon"`,
			`/supervisor/children/2/shutdown: must be a duration such as 500ms or 5s, a whole number of seconds, brutal_kill or infinity; got 1.5`,
			`/supervisor/max_frequency: must be at least 0; got -1`,
			`/supervisor/period: must be a duration such as 500ms, 5s or 2m, or a whole number of seconds; got "5 s"`}},
		{"child forms", `{"version":1,"supervisor":{"children":[{"name":"a"},{"name":"b","kind":"echo","include":"x.yaml"},{"name":"c","supervisor":{},"args":{}},{"kind":"echo"}]}}`, []string{
			`/supervisor/children/0: needs one of kind, supervisor, include, dynamic or pool`,
			`/supervisor/children/1/include: include is not allowed together with kind [key]`,
			`/supervisor/children/2/args: args is not allowed together with supervisor [key]`,
			`/supervisor/children/3: missing required key "name"`}},
		{"names", `{"version":1,"name":"Shop","kinds":{"Web":{"base":"exec"}},"supervisor":{"children":[{"name":"a/b","kind":"echo"},{"name":".x","kind":"Echo"}]}}`, []string{
			`/kinds/Web: must be a kind name: lower-case letters, digits, '_' and '-', starting with a letter; got "Web" [key]`,
			`/name: must be a name: lower-case letters, digits, '_', '.' and '-', starting with a letter or a digit; got "Shop"`,
			`/supervisor/children/0/name: must be a name: lower-case letters, digits, '_', '.' and '-', starting with a letter or a digit; got "a/b"`,
			`/supervisor/children/1/kind: must be a kind name: lower-case letters, digits, '_' and '-', starting with a letter; got "Echo"`,
			`/supervisor/children/1/name: must be a name: lower-case letters, digits, '_', '.' and '-', starting with a letter or a digit; got ".x"`}},
		{"types", `{"version":1,"kinds":{"k":{"args":[]}},"supervisor":{"children":{"a":1}}}`, []string{
			`/kinds/k: missing required key "base"`,
			`/kinds/k/args: must be a mapping; got a list`,
			`/supervisor/children: must be a list; got a mapping`}},
		{"empty values", `{"version":1,"supervisor":{"children":null,"strategy":null}}`, []string{
			`/supervisor/children: must be a list; got nothing`,
			`/supervisor/strategy: must be one of one_for_one, one_for_all, rest_for_one; got nothing`}},
		{"bool", `{"version":1,"supervisor":{"children":[{"name":"a","kind":"k","significant":"yes"}]}}`, []string{
			`/supervisor/children/0/significant: must be true or false; got "yes"`}},
		{"dynamic", `{"version":1,"supervisor":{"children":[{"name":"d","dynamic":{"max_children":-1,"strategy":"one_for_all"}}]}}`, []string{
			`/supervisor/children/0/dynamic: missing required key "kind"`,
			`/supervisor/children/0/dynamic/max_children: must be at least 0; got -1`,
			`/supervisor/children/0/dynamic/strategy: unknown key "strategy"; expected one of args, backoff, kind, max_children, max_frequency, period, restart, shutdown [key]`}},
		{"pool", `{"version":1,"supervisor":{"children":[{"name":"p","pool":{"kind":"echo","size":1025,"dispatch":"first"}},{"name":"q","pool":{"kind":"echo"},"args":{}}]}}`, []string{
			`/supervisor/children/0/pool/dispatch: must be one of round_robin, random, least_busy; got "first"`,
			`/supervisor/children/0/pool/size: must be at most 1024; got 1025`,
			`/supervisor/children/1/args: args is not allowed together with pool [key]`,
			`/supervisor/children/1/pool: missing required key "size"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			same(t, c.doc, strs(ValidateTree(decode(t, c.doc))), c.want)
		})
	}
}

func TestArgs(t *testing.T) {
	const counter = `{"type":"object","properties":{"initial":{"type":"integer","default":0},"step":{"type":"integer","minimum":1}},"additionalProperties":false}`
	const exec = `{"type":"object","required":["command"],"additionalProperties":false,"properties":{
		"command":{"type":"array","items":{"type":"string"},"minItems":1},
		"stop_signal":{"enum":["TERM","INT","HUP"]},
		"dir":{"type":"string","minLength":1},
		"ready":{"oneOf":[
			{"type":"object","required":["tcp"],"properties":{"tcp":{"type":"string"},"timeout":{"type":"string"}},"additionalProperties":false},
			{"type":"object","required":["http"],"properties":{"http":{"type":"string","format":"uri"}},"additionalProperties":false}]},
		"env":{"type":"object","additionalProperties":{"type":"string"}},
		"port":{"oneOf":[{"type":"string"},{"type":"integer"}]}}}`
	for _, c := range []struct {
		name, schema, args string
		want               []string
	}{
		{"valid", counter, `{"initial":3}`, nil},
		{"empty is valid", counter, `{}`, nil},
		{"wrong type", counter, `{"initial":"x","step":0}`, []string{
			`/initial: must be an integer; got "x"`,
			`/step: must be at least 1; got 0`}},
		{"unknown", counter, `{"inital":1}`, []string{
			`/inital: unknown key "inital" (did you mean "initial"?) [key]`}},
		{"keys that need escaping", counter, `{"a b/c~d%20":1}`, []string{
			`/a b~1c~0d%20: unknown key "a b/c~d%20"; expected one of initial, step [key]`}},
		{"values under such keys", exec, `{"command":["a"],"env":{"A B":1,"x/y":"ok","%":2}}`, []string{
			`/env/%: must be a string; got 2`,
			`/env/A B: must be a string; got 1`}},
		{"required", exec, `{}`, []string{`/: missing required key "command"`}},
		{"items", exec, `{"command":["a",2],"stop_signal":"KILL","dir":""}`, []string{
			`/command/1: must be a string; got 2`,
			`/dir: must not be empty; got ""`,
			`/stop_signal: must be one of TERM, INT, HUP; got "KILL"`}},
		{"empty list", exec, `{"command":[]}`, []string{`/command: must not be empty; got a list`}},
		{"oneOf picks the meant branch", exec, `{"command":["a"],"ready":{"tcp":5}}`, []string{
			`/ready/tcp: must be a string; got 5`}},
		{"oneOf of types", exec, `{"command":["a"],"port":[1]}`, []string{
			`/port: must be a string or an integer; got a list`}},
		{"map values", exec, `{"command":["a"],"env":{"A":"1","B":2}}`, []string{
			`/env/B: must be a string; got 2`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Args(c.schema)
			if err != nil {
				t.Fatal(err)
			}
			same(t, c.args, strs(s.Validate(decode(t, c.args))), c.want)
		})
	}
}

func TestArgsCompilesOnce(t *testing.T) {
	const text = `{"type":"object","properties":{"n":{"type":"integer"}}}`
	var wg sync.WaitGroup
	got := make([]*Schema, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Args(text)
			if err != nil {
				t.Error(err)
			}
			got[i] = s
		}()
	}
	wg.Wait()
	for _, s := range got[1:] {
		if s != got[0] {
			t.Fatal("the same args schema was compiled more than once")
		}
	}
}

func TestArgsBadSchema(t *testing.T) {
	for _, text := range []string{
		`not json`,
		`{"type":"objekt"}`,
		`{"$ref":"https://example.com/other.json"}`,
		`{"$ref":"file:///etc/passwd"}`,
	} {
		if _, err := Args(text); err == nil {
			t.Errorf("Args(%s) compiled; want an error", text)
		}
	}
}

func TestDecode(t *testing.T) {
	v, err := Decode([]byte(`{"n": 12345678901234567890}`))
	if err != nil {
		t.Fatal(err)
	}
	if n := v.(map[string]any)["n"].(json.Number); n != "12345678901234567890" {
		t.Errorf("number decoded as %v; want it kept exactly", n)
	}
	for _, bad := range []string{``, `{`, `{} {}`, `1 2`} {
		if _, err := Decode([]byte(bad)); err == nil {
			t.Errorf("Decode(%q) succeeded; want an error", bad)
		}
	}
}

func TestEscapeToken(t *testing.T) {
	for in, want := range map[string]string{"a": "a", "a/b": "a~1b", "~x": "~0x", "~/": "~0~1"} {
		if got := EscapeToken(in); got != want {
			t.Errorf("EscapeToken(%q) = %q, want %q", in, got, want)
		}
		if got := unescapeToken(EscapeToken(in)); got != in {
			t.Errorf("round trip of %q gave %q", in, got)
		}
	}
}
