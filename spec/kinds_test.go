package spec

import "sort"

// fakeKinds stands in for the registry: kind name → args schema.
type fakeKinds map[string]string

func (k fakeKinds) ArgsSchema(name string) (string, bool) {
	s, ok := k[name]
	return s, ok
}

func (k fakeKinds) Names() []string {
	out := make([]string, 0, len(k))
	for n := range k {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// testKinds are the kinds the spec tests know.
var testKinds = fakeKinds{
	"echo":    `{"type":"object","additionalProperties":false}`,
	"counter": `{"type":"object","properties":{"initial":{"type":"integer"}},"additionalProperties":false}`,
	"exec": `{"type":"object","required":["command"],"additionalProperties":false,"properties":{
		"command":{"type":"array","items":{"type":"string"},"minItems":1},
		"env":{"type":"object","additionalProperties":{"type":"string"}},
		"dir":{"type":"string"},
		"stop_signal":{"enum":["TERM","INT","HUP","QUIT"]},
		"ready":{"type":"object","additionalProperties":false,"properties":{
			"tcp":{"type":"string"},"timeout":{"type":"string"}}}}}`,
}
