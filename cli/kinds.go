package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	ucli "github.com/urfave/cli/v2"

	"github.com/otpctl/otpctl/workers"
)

func init() {
	register(&ucli.Command{
		Name:  "kinds",
		Usage: "list the registered worker kinds and their args",
		Description: "Lists the kinds a tree file's workers can use (kind: NAME), each with its\n" +
			"one-line description and its args: name, type, whether it is required, its\n" +
			"default and what it is for. A tree file's kinds: section builds named kinds\n" +
			"on these, and a pool runs N members of one (pool: {kind: NAME, size: N}), each\n" +
			"with ${OTPCTL_INDEX} in its args replaced by its index (1 … N), which an exec\n" +
			"member also gets as OTPCTL_INDEX in its environment.\n" +
			"With --json, prints an array of {name, doc, args, args_schema},\n" +
			"args_schema being the JSON Schema each worker's args are checked against." +
			examples("otpctl kinds", `otpctl kinds --json | jq '.[] | select(.name == "exec") | .args_schema'`),
		Flags: []ucli.Flag{jsonFlag("print the kinds as a JSON array")},
		Action: func(c *ucli.Context) error {
			if c.Args().Len() > 0 {
				return exit(ExitUsage, "kinds takes no arguments")
			}
			return printKinds(c.App.Writer, c.App.ErrWriter, workers.Default, c.Bool("json"))
		},
	})
}

// kindInfo is a kind as `kinds --json` prints it. The field names are
// public API.
type kindInfo struct {
	Name       string          `json:"name"`
	Doc        string          `json:"doc"`
	Args       []argInfo       `json:"args"`
	ArgsSchema json.RawMessage `json:"args_schema"`
}

// argInfo is one property of a kind's args schema.
type argInfo struct {
	Name        string          `json:"name"`
	Type        string          `json:"type"`
	Required    bool            `json:"required"`
	Default     json.RawMessage `json:"default,omitempty"`
	Description string          `json:"description,omitempty"`
}

func printKinds(stdout, stderr io.Writer, reg *workers.Registry, asJSON bool) error {
	var infos []kindInfo
	for _, k := range reg.Kinds() {
		info := kindInfo{Name: k.Name, Doc: k.Doc, Args: argsOf(k.Args), ArgsSchema: json.RawMessage(k.Args)}
		var compact bytes.Buffer
		if json.Compact(&compact, []byte(k.Args)) == nil {
			info.ArgsSchema = compact.Bytes()
		}
		if info.Args == nil {
			info.Args = []argInfo{}
		}
		infos = append(infos, info)
	}
	if asJSON {
		if infos == nil {
			infos = []kindInfo{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(infos)
	}
	if len(infos) == 0 {
		fmt.Fprintln(stderr, "otpctl: no kinds are registered")
		return nil
	}
	width := 0
	for _, k := range infos {
		width = max(width, len(k.Name))
	}
	for i, k := range infos {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		fmt.Fprintln(stdout, strings.TrimRight(fmt.Sprintf("%-*s  %s", width, k.Name, k.Doc), " "))
		var table bytes.Buffer
		tw := tabwriter.NewWriter(&table, 0, 4, 2, ' ', 0)
		for _, a := range k.Args {
			var notes []string
			if a.Required {
				notes = append(notes, "required")
			}
			if a.Default != nil {
				notes = append(notes, "default "+string(a.Default))
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", a.Name, a.Type, strings.Join(notes, ", "), a.Description)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for line := range strings.Lines(table.String()) {
			fmt.Fprintln(stdout, strings.TrimRight(line, " \n")) // empty cells leave spaces
		}
	}
	return nil
}

// argsOf lists the properties of an args schema in the order the schema
// writes them.
func argsOf(schemaText string) []argInfo {
	var top struct {
		Properties json.RawMessage `json:"properties"`
		Required   []string        `json:"required"`
	}
	if json.Unmarshal([]byte(schemaText), &top) != nil || len(top.Properties) == 0 {
		return nil
	}
	var props map[string]json.RawMessage
	if json.Unmarshal(top.Properties, &props) != nil {
		return nil
	}
	var out []argInfo
	for _, name := range objectKeys(top.Properties) {
		var p struct {
			Default     json.RawMessage `json:"default"`
			Description string          `json:"description"`
		}
		json.Unmarshal(props[name], &p)
		out = append(out, argInfo{
			Name:        name,
			Type:        typeOf(props[name]),
			Required:    slices.Contains(top.Required, name),
			Default:     p.Default,
			Description: p.Description,
		})
	}
	return out
}

// objectKeys returns the keys of a JSON object in the order written.
func objectKeys(obj json.RawMessage) []string {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return keys
		}
		key, _ := t.(string)
		keys = append(keys, key)
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return keys
		}
	}
	return keys
}

// typeOf words a property schema's type: "integer", "list of string",
// "map of string", "one of TERM, INT", "string | integer".
func typeOf(raw json.RawMessage) string {
	var s struct {
		Type                 any               `json:"type"`
		Items                json.RawMessage   `json:"items"`
		AdditionalProperties json.RawMessage   `json:"additionalProperties"`
		Enum                 []any             `json:"enum"`
		Const                any               `json:"const"`
		OneOf                []json.RawMessage `json:"oneOf"`
		AnyOf                []json.RawMessage `json:"anyOf"`
	}
	if json.Unmarshal(raw, &s) != nil {
		return "any"
	}
	if len(s.Enum) > 0 {
		vals := make([]string, len(s.Enum))
		for i, v := range s.Enum {
			vals[i] = fmt.Sprint(v)
		}
		return "one of " + strings.Join(vals, ", ")
	}
	if s.Const != nil {
		return fmt.Sprintf("%v", s.Const)
	}
	if alts := append(s.OneOf, s.AnyOf...); len(alts) > 0 && s.Type == nil {
		words := make([]string, 0, len(alts))
		for _, a := range alts {
			if w := typeOf(a); !slices.Contains(words, w) {
				words = append(words, w)
			}
		}
		return strings.Join(words, " | ")
	}
	var types []string
	switch t := s.Type.(type) {
	case string:
		types = []string{t}
	case []any:
		for _, x := range t {
			types = append(types, fmt.Sprint(x))
		}
	}
	if len(types) == 0 {
		return "any"
	}
	for i, t := range types {
		switch {
		case t == "array" && len(s.Items) > 0:
			types[i] = "list of " + typeOf(s.Items)
		case t == "array":
			types[i] = "list"
		case t == "object" && len(s.AdditionalProperties) > 0 && string(s.AdditionalProperties) != "false" && string(s.AdditionalProperties) != "true":
			types[i] = "map of " + typeOf(s.AdditionalProperties)
		case t == "object":
			types[i] = "mapping"
		case t == "boolean":
			types[i] = "bool"
		}
	}
	return strings.Join(types, " | ")
}
