package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestReadmeKinds checks README.md's "Worker kinds" section against the
// built-in kinds' args schemas, so the docs cannot drift from the code:
// each kind has a "### `name`" part, whose table names every arg (nested
// ones as `ready.tcp`) and no other, says "required" for a required arg and
// shows each default the schema writes; a kind without args has no table.
func TestReadmeKinds(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	parts, err := readmeKinds(string(data))
	if err != nil {
		t.Fatal(err)
	}
	reg := builtinKinds()
	var documented []string
	for name := range parts {
		documented = append(documented, name)
	}
	sort.Strings(documented)
	if !slices.Equal(documented, reg.Names()) {
		t.Errorf("README.md documents the kinds %v; the registry has %v", documented, reg.Names())
	}
	for _, k := range reg.Kinds() {
		rows, ok := parts[k.Name]
		if !ok {
			continue
		}
		var root argSchema
		if err := json.Unmarshal([]byte(k.Args), &root); err != nil {
			t.Fatalf("%s: %v", k.Name, err)
		}
		want := map[string]argSchema{}
		root.flatten("", want)
		for arg, s := range want {
			row, ok := rows[arg]
			if !ok {
				t.Errorf("README.md, kind %s: arg `%s` is not in its table", k.Name, arg)
				continue
			}
			if s.required && !strings.Contains(row.dflt, "required") {
				t.Errorf("README.md, kind %s: `%s` is required; its default column says %q", k.Name, arg, row.dflt)
			}
			if s.Default != nil {
				def := string(s.Default)
				var str string
				if json.Unmarshal(s.Default, &str) == nil {
					def = str
				}
				if !strings.Contains(row.dflt, "`"+def+"`") {
					t.Errorf("README.md, kind %s: `%s` defaults to %s; its default column says %q", k.Name, arg, def, row.dflt)
				}
			}
		}
		for arg := range rows {
			if _, ok := want[arg]; !ok {
				t.Errorf("README.md, kind %s: its table has `%s`, which is not one of its args", k.Name, arg)
			}
		}
	}
}

// argSchema is the part of an args schema the README documents.
type argSchema struct {
	Properties map[string]argSchema `json:"properties"`
	Required   []string             `json:"required"`
	Default    json.RawMessage      `json:"default"`
	required   bool
}

// flatten adds each property to out by its dotted name, nested objects'
// properties too ("ready", "ready.tcp").
func (s argSchema) flatten(prefix string, out map[string]argSchema) {
	for name, p := range s.Properties {
		p.required = slices.Contains(s.Required, name)
		out[prefix+name] = p
		p.flatten(prefix+name+".", out)
	}
}

// readmeRow is one row of a kind's args table.
type readmeRow struct{ typ, dflt, meaning string }

var (
	kindHeading = regexp.MustCompile("^### `([a-z][a-z0-9_-]*)`$")
	argRow      = regexp.MustCompile("^\\| `([a-z0-9_.]+)` \\|")
)

// readmeKinds returns the args table of each kind of the README's "Worker
// kinds" section, by kind and arg name (an empty map for a kind without a
// table).
func readmeKinds(readme string) (map[string]map[string]readmeRow, error) {
	_, section, ok := strings.Cut(readme, "\n## Worker kinds\n")
	if !ok {
		return nil, fmt.Errorf(`README.md has no "## Worker kinds" section`)
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	out := map[string]map[string]readmeRow{}
	var cur map[string]readmeRow
	for _, line := range strings.Split(section, "\n") {
		if m := kindHeading.FindStringSubmatch(line); m != nil {
			cur = map[string]readmeRow{}
			out[m[1]] = cur
			continue
		}
		m := argRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("an args row before any kind: %s", line)
		}
		cells := strings.Split(strings.Trim(strings.ReplaceAll(line, `\|`, "\x00"), "|"), "|")
		if len(cells) != 4 {
			return nil, fmt.Errorf("want | arg | type | default | meaning |, got: %s", line)
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(strings.ReplaceAll(cells[i], "\x00", "|"))
		}
		if _, dup := cur[m[1]]; dup {
			return nil, fmt.Errorf("`%s` twice in one table", m[1])
		}
		cur[m[1]] = readmeRow{typ: cells[1], dflt: cells[2], meaning: cells[3]}
	}
	return out, nil
}

// The parser finds the tables it must, and refuses a row it cannot read.
func TestReadmeKindsParser(t *testing.T) {
	doc := "# x\n\n## Worker kinds\n\ntext\n\n### `a`\n\n| arg | type | default | meaning |\n|---|---|---|---|\n" +
		"| `n` | integer | `0` | a number |\n| `r.x` | `a\\|b` | required | nested |\n\n### `b`\n\nNo args.\n\n## Next\n\n### `c`\n"
	got, err := readmeKinds(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]readmeRow{
		"a": {"n": {"integer", "`0`", "a number"}, "r.x": {"`a|b`", "required", "nested"}},
		"b": {},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	if _, err := readmeKinds(strings.Replace(doc, "| a number |", "| a | number |", 1)); err == nil {
		t.Error("a row of five cells was read")
	}
	if _, err := readmeKinds("# x\n"); err == nil {
		t.Error("no section, no error")
	}
}
