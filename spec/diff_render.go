package spec

import (
	"encoding/json"
	"io"
	"strconv"
	"strings"
)

// String reads as one line of `otpctl plan`:
//
//   - shop/jobs (added)
//   - shop/pool (added, 4 nodes)
//   - shop/old (removed)
//     ~ shop/web (kind echo → counter, args changed (initial): restart)
//     ~ shop/db (shutdown 5s → 10s: updated in place)
//     ~ shop (max_frequency 3 → 5, order changed (db moved): updated in place)
//
// The sign says what happens to the process (+ starts, - stops, ~ restarts or
// changes in place), the words after the colon say which.
func (c *Change) String() string {
	var b strings.Builder
	switch c.Op {
	case Added:
		b.WriteString("+ ")
	case Removed:
		b.WriteString("- ")
	default:
		b.WriteString("~ ")
	}
	b.WriteString(c.Path)
	b.WriteString(" (")
	for i := range c.Fields {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.Fields[i].String())
	}
	switch c.Op {
	case Added, Removed:
		b.WriteString(string(c.Op))
	case Changed:
		b.WriteString(": restart")
	case Updated:
		b.WriteString(": ")
		b.WriteString(c.updatedText())
	}
	if c.Nodes > 1 {
		b.WriteString(", ")
		b.WriteString(strconv.Itoa(c.Nodes))
		b.WriteString(" nodes")
	}
	b.WriteString(")")
	return b.String()
}

// updatedText says what an Updated change does: "updated in place", and
// for a pool's new size how many members it starts or stops ("5
// started"), or only that when the size is all that changed.
func (c *Change) updatedText() string {
	var resized string
	for _, f := range c.Fields {
		if f.Name != FieldSize {
			continue
		}
		o, _ := strconv.Atoi(f.Old)
		n, _ := strconv.Atoi(f.New)
		if n > o {
			resized = strconv.Itoa(n-o) + " started"
		} else {
			resized = strconv.Itoa(o-n) + " stopped"
		}
	}
	switch {
	case resized == "":
		return "updated in place"
	case len(c.Fields) == 1:
		return resized
	}
	return "updated in place, " + resized
}

// String reads as the field appears in a plan line: "shutdown 5s → 10s",
// "args changed (command, env)", "order changed (db moved)".
func (f Field) String() string {
	switch f.Name {
	case FieldArgs, FieldDynamicArgs, FieldPoolArgs:
		return f.Name + " changed" + keyList(f.Keys, "")
	case FieldOrder:
		return "order changed" + keyList(f.Keys, " moved")
	}
	return f.Name + " " + f.Old + " → " + f.New
}

func keyList(keys []string, suffix string) string {
	if len(keys) == 0 {
		return ""
	}
	return " (" + strings.Join(keys, ", ") + suffix + ")"
}

// String is the plan as `otpctl plan` prints it: one line per change, in
// plan order, then "N unchanged".
func (p *Plan) String() string {
	var b strings.Builder
	p.WriteText(&b)
	return b.String()
}

// WriteText writes the plan as String reads.
func (p *Plan) WriteText(w io.Writer) error {
	var b strings.Builder
	for i := range p.Changes {
		b.WriteString(p.Changes[i].String())
		b.WriteByte('\n')
	}
	b.WriteString(strconv.Itoa(p.Unchanged))
	b.WriteString(" unchanged\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonPlan, jsonChange and jsonField are the shape of `otpctl plan --json`:
//
//	{"changes":[{"op":"changed","path":"shop/web","fields":[{"field":"args",
//	  "old":{...},"new":{...},"keys":["command"]}],"nodes":1,"pos":"shop.yaml:9:7"}],
//	 "unchanged":12}
type jsonPlan struct {
	Changes   []jsonChange `json:"changes"`
	Unchanged int          `json:"unchanged"`
}

type jsonChange struct {
	Op     Op          `json:"op"`
	Path   string      `json:"path"`
	Fields []jsonField `json:"fields,omitempty"`
	Index  *int        `json:"index,omitempty"`
	Nodes  int         `json:"nodes,omitempty"`
	Pos    string      `json:"pos,omitempty"`
}

type jsonField struct {
	Field string          `json:"field"`
	Old   json.RawMessage `json:"old"`
	New   json.RawMessage `json:"new"`
	Keys  []string        `json:"keys,omitempty"`
}

// MarshalJSON writes the plan for machines: {"changes":[{"op", "path",
// "fields":[{"field", "old", "new", "keys"}], "index" (added: position
// among the parent's children), "nodes" (added, removed, changed: subtree
// size), "pos" (where the node is declared: in the new file, in the old
// one for removed)}], "unchanged":N}. Values keep their JSON type: numbers for max_frequency
// and max_children, a boolean for significant, the args themselves, a list
// of names for order, strings for the rest.
func (p *Plan) MarshalJSON() ([]byte, error) {
	out := jsonPlan{Changes: make([]jsonChange, len(p.Changes)), Unchanged: p.Unchanged}
	for i := range p.Changes {
		c := &p.Changes[i]
		jc := jsonChange{Op: c.Op, Path: c.Path, Nodes: c.Nodes}
		if c.Op == Added {
			jc.Index = &c.Index
		}
		if n := c.New; n != nil && n.Pos.File != "" {
			jc.Pos = n.Pos.String()
		} else if n := c.Old; n != nil && n.Pos.File != "" {
			jc.Pos = n.Pos.String()
		}
		for _, f := range c.Fields {
			jc.Fields = append(jc.Fields, jsonField{
				Field: f.Name, Old: jsonValue(f.Name, f.Old), New: jsonValue(f.Name, f.New), Keys: f.Keys,
			})
		}
		out.Changes[i] = jc
	}
	return json.Marshal(out)
}

// jsonValue types a field's text for JSON.
func jsonValue(field, s string) json.RawMessage {
	switch field {
	case FieldArgs, FieldDynamicArgs, FieldPoolArgs:
		if json.Valid([]byte(s)) {
			return json.RawMessage(s)
		}
	case FieldMaxFrequency, FieldMaxChildren, FieldSignificant, FieldSize:
		return json.RawMessage(s) // strconv.Itoa, strconv.FormatBool
	case FieldOrder:
		b, _ := json.Marshal(strings.Fields(s))
		return b
	}
	b, _ := json.Marshal(s)
	return b
}
