package builtin_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/otpctl/otpctl/workers"
	"github.com/otpctl/otpctl/workers/builtin"
)

func compile(t *testing.T, k workers.Kind) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	url := "kind:" + k.Name
	if err := c.AddResource(url, strings.NewReader(k.Args)); err != nil {
		t.Fatalf("%s: %v", k.Name, err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("%s: %v", k.Name, err)
	}
	return s
}

// Each kind's args schema compiles as draft 2020-12, forbids unknown
// fields, has a doc line, and agrees with what Start accepts.
func TestKindSchemas(t *testing.T) {
	cases := map[string]struct{ good, bad []string }{
		"exec": {
			good: []string{
				`{"command":["sleep","1"]}`,
				`{"command":["x"],"env":{"A":"1"},"dir":"/tmp","stop_signal":"INT"}`,
				`{"command":["x"],"ready":{"tcp":"localhost:80","timeout":"10s"}}`,
				`{"command":["x"],"ready":{"http":"http://localhost/health","timeout":5}}`,
				`{"command":["x"],"ready":{"log":"listening"}}`,
				`{"command":["x"],"ready":{"delay":"500ms"}}`,
				`{"command":["x"],"user":"postgres","group":"staff","umask":"027","env_file":"a.env"}`,
				`{"command":["x"],"user":1000,"group":0,"env_file":["a.env","-b.env"]}`,
				`{"command":["x"],"limits":{"nofile":65536,"nproc":100,"core":0,"memlock":"infinity","stack":8388608,"as":"infinity","cpu":60}}`,
				`{"command":["x"],"ready":{"tcp":":8080"}}`,
				`{"command":["x"],"ready":{"tcp":"[::1]:5432"}}`,
				`{"command":["x"],"ready":{"tcp":"db.internal:postgresql"}}`,
				`{"command":["x"],"ready":{"http":"https://[::1]:8443/ready?x=1"}}`,
				`{"command":["x"],"ready":{"log":"^listening on :[0-9]+$"}}`,
			},
			bad: []string{
				`{}`, `{"command":[]}`, `{"command":[""]}`, `{"command":"sleep 1"}`,
				`{"command":["x"],"stop_signal":"TERMINATE"}`,
				`{"command":["x"],"env":{"A":1}}`,
				`{"command":["x"],"ready":{}}`,
				`{"command":["x"],"ready":{"tcp":"a:1","log":"x"}}`,
				`{"command":["x"],"ready":{"delay":"soon"}}`,
				`{"command":["x"],"ready":{"http":"ftp://x"}}`,
				`{"command":["x"],"ready":{"http":"localhost:80"}}`,
				`{"command":["x"],"ready":{"tcp":"nocolon"}}`,
				`{"command":["x"],"ready":{"tcp":"a:b:1"}}`,
				`{"command":["x"],"ready":{"log":"("}}`,
				`{"command":["x"],"usr":"root"}`,
				`{"command":["x"],"user":-1}`,
				`{"command":["x"],"user":""}`,
				`{"command":["x"],"umask":"0999"}`,
				`{"command":["x"],"umask":27}`,
				`{"command":["x"],"limits":{"nofile":-1}}`,
				`{"command":["x"],"limits":{"nofile":"unlimited"}}`,
				`{"command":["x"],"limits":{"files":1}}`,
				`{"command":["x"],"env_file":[]}`,
				`{"command":["x"],"env_file":5}`,
			},
		},
		"counter": {good: []string{`{}`, `{"initial":-3}`}, bad: []string{`{"initial":1.5}`, `{"start":1}`}},
		"cache":   {good: []string{`{}`, `{"max_size":10}`}, bad: []string{`{"max_size":0}`, `{"size":1}`}},
		"echo":    {good: []string{`{}`}, bad: []string{`{"x":1}`}},
		"ticker":  {good: []string{`{}`, `{"interval":"250ms"}`, `{"interval":2}`, `{"interval":"0.5s"}`, `{"interval":"0s1ms"}`, `{"interval":"10s"}`}, bad: []string{`{"interval":"-1s"}`, `{"interval":"fast"}`, `{"interval":0}`, `{"interval":"0s"}`, `{"interval":"0h0m"}`}},
		"crash": {
			good: []string{`{}`, `{"after":"2s","reason":"normal"}`, `{"probability":0.1,"interval":"100ms","seed":1}`},
			bad:  []string{`{"probability":2}`, `{"reason":""}`, `{"after":"x"}`, `{"when":1}`, `{"probability":0.5,"interval":"0ms"}`},
		},
	}
	reg := workers.NewRegistry()
	builtin.Register(reg)
	if got := strings.Join(reg.Names(), " "); got != "cache counter crash echo exec ticker" {
		t.Fatalf("kinds %s", got)
	}
	for _, k := range reg.Kinds() {
		t.Run(k.Name, func(t *testing.T) {
			if k.Doc == "" || strings.Contains(k.Doc, "\n") {
				t.Errorf("doc %q is not one line", k.Doc)
			}
			s := compile(t, *k)
			var raw map[string]any
			json.Unmarshal([]byte(k.Args), &raw)
			if raw["additionalProperties"] != false {
				t.Errorf("args schema allows unknown fields")
			}
			// Every default written in the schema is valid for its
			// property.
			props, _ := raw["properties"].(map[string]any)
			for name, p := range props {
				if def, ok := p.(map[string]any)["default"]; ok {
					b, _ := json.Marshal(map[string]any{name: def})
					if k.Name == "exec" {
						b, _ = json.Marshal(map[string]any{"command": []string{"x"}, name: def})
					}
					if err := s.Validate(decode(b)); err != nil {
						t.Errorf("default of %s: %v", name, err)
					}
				}
			}
			c := cases[k.Name]
			if len(c.good) == 0 {
				t.Fatalf("no cases for %s", k.Name)
			}
			for _, g := range c.good {
				if err := s.Validate(decode([]byte(g))); err != nil {
					t.Errorf("%s rejected: %v", g, err)
				}
			}
			for _, b := range c.bad {
				if err := s.Validate(decode([]byte(b))); err == nil {
					t.Errorf("%s accepted", b)
				}
			}
		})
	}
}

func decode(b []byte) any {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		panic(fmt.Sprintf("%s: %v", b, err))
	}
	return v
}
