package spec

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestMergePatch(t *testing.T) {
	for _, c := range []struct{ base, patch, want string }{
		{`{}`, `{"a":1}`, `{"a":1}`},
		{`{"a":1,"b":2}`, `{"b":3,"c":4}`, `{"a":1,"b":3,"c":4}`},
		{`{"env":{"A":"1","B":"2"}}`, `{"env":{"B":"3"}}`, `{"env":{"A":"1","B":"3"}}`}, // objects merge key by key
		{`{"command":["a","b"]}`, `{"command":["c"]}`, `{"command":["c"]}`},             // lists replace
		{`{"a":{"x":1}}`, `{"a":5}`, `{"a":5}`},
		{`{"a":5}`, `{"a":{"x":1,"y":null}}`, `{"a":{"x":1}}`},
		{`{"a":1,"b":2}`, `{"a":null}`, `{"b":2}`}, // null removes
		{`{"a":1}`, `{"z":null}`, `{"a":1}`},
	} {
		var base, patch, want any
		json.Unmarshal([]byte(c.base), &base)
		json.Unmarshal([]byte(c.patch), &patch)
		json.Unmarshal([]byte(c.want), &want)
		before := string(canonical(base))
		got := mergePatch(base, patch)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("merge %s over %s = %s, want %s", c.patch, c.base, canonical(got), c.want)
		}
		if string(canonical(base)) != before {
			t.Errorf("merge %s changed its base %s", c.patch, c.base)
		}
	}
}

func TestCanonical(t *testing.T) {
	for _, c := range []struct {
		in   any
		want string
	}{
		{map[string]any{}, `{}`},
		{map[string]any{"b": json.Number("2"), "a": []any{true, nil, "x"}}, `{"a":[true,null,"x"],"b":2}`},
		{map[string]any{"z": map[string]any{"y": "1", "x": "2"}}, `{"z":{"x":"2","y":"1"}}`},
		{"quote \" backslash \\ nl \n tab \t cr \r bell \a", `"quote \" backslash \\ nl \n tab \t cr \r bell \u0007"`},
		{"<&> ünïcødé ☃", `"<&> ünïcødé ☃"`},
		{"bad \xff utf8", `"bad \ufffd utf8"`},
	} {
		got := string(canonical(c.in))
		if got != c.want {
			t.Errorf("canonical(%#v) = %s, want %s", c.in, got, c.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("canonical(%#v) = %s is not JSON", c.in, got)
		}
		// It means what encoding/json means.
		var a, b any
		json.Unmarshal([]byte(got), &a)
		std, _ := json.Marshal(c.in)
		json.Unmarshal(std, &b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("canonical(%#v) = %s decodes differently from encoding/json's %s", c.in, got, std)
		}
	}
}

func TestArgsAreCanonical(t *testing.T) {
	// The same args written differently are the same bytes: a reload's
	// diff compares them.
	a := "version: 1\nname: t\nsupervisor:\n  children:\n    - {name: w, kind: exec, args: {env: {B: \"2\", A: \"1\"}, command: [x]}}\n"
	b := "version: 1\nname: t\nsupervisor:\n  children:\n    - name: w\n      kind: exec\n      args:\n        command:\n          - x\n        env:\n          A: '1'\n          B: \"2\"\n"
	ta, err := Parse("a.yaml", []byte(a), testKinds)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := Parse("b.yaml", []byte(b), testKinds)
	if err != nil {
		t.Fatal(err)
	}
	wa, wb := ta.Find("t/w").Worker.Args, tb.Find("t/w").Worker.Args
	if string(wa) != string(wb) || string(wa) != `{"command":["x"],"env":{"A":"1","B":"2"}}` {
		t.Errorf("args %s and %s", wa, wb)
	}
}

func TestScalars(t *testing.T) {
	// YAML scalars become the JSON a person expects.
	src := `version: 1
name: t
supervisor:
  children:
    - name: w
      kind: exec
      args:
        command: [0x1F, 1_000, 1.5e3, -7, true, "true", ~, 2001-12-14, 12345678901234567890, 0o17]
`
	tree, err := Parse("s.yaml", []byte(src), fakeKinds{"exec": `{}`})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"command":[31,1000,1500,-7,true,"true",null,"2001-12-14",12345678901234567890,15]}`
	if got := string(tree.Find("t/w").Worker.Args); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestMergeArgs(t *testing.T) {
	cases := []struct{ base, over, want string }{
		{`{}`, ``, `{}`},
		{``, `null`, `{}`},
		{`{"a":1,"b":{"x":1,"y":2}}`, `{"b":{"y":3},"c":[1]}`, `{"a":1,"b":{"x":1,"y":3},"c":[1]}`},
		{`{"a":{"x":1}}`, `{"a":5}`, `{"a":5}`},
		{`{"big":12345678901234567890}`, `{}`, `{"big":12345678901234567890}`},
		{`{"a":1,"b":{"x":1,"y":2}}`, `{"a":null,"b":{"x":null}}`, `{"b":{"y":2}}`},
		{`{}`, `{"html":"<a&b>"}`, `{"html":"<a&b>"}`},
	}
	for _, c := range cases {
		got, err := MergeArgs(json.RawMessage(c.base), json.RawMessage(c.over))
		if err != nil || string(got) != c.want {
			t.Errorf("MergeArgs(%s, %s) = %s, %v; want %s", c.base, c.over, got, err, c.want)
		}
	}
	for _, bad := range []string{`[1]`, `"s"`, `{"a":`, `{} {}`} {
		if _, err := MergeArgs(json.RawMessage(`{}`), json.RawMessage(bad)); err == nil {
			t.Errorf("MergeArgs accepted %s", bad)
		}
	}
}
