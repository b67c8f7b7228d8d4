package builtin

import (
	"encoding/json"
	"strings"

	"github.com/otpctl/otpctl/workers"
)

// argsSchema is the args schema of a kind that takes the given properties
// and no others; each property is a JSON object member ("name": {...}).
func argsSchema(properties ...string) string {
	return "{\n  \"type\": \"object\",\n  \"additionalProperties\": false,\n  \"properties\": {\n    " +
		strings.Join(properties, ",\n    ") + "\n  }\n}"
}

// positiveArg refuses a duration arg (at pointer, as "/interval") that is
// not more than 0, which the kind's schema refuses too; nil otherwise.
func positiveArg(pointer string, d workers.Duration) error {
	if d <= 0 {
		return &workers.ArgError{Pointer: pointer, Message: "must be more than 0"}
	}
	return nil
}

// durationSchema is workers.DurationSchema with a default (JSON text, or
// "" for none) and a description.
func durationSchema(def, desc string) string {
	return durationSchemaOf(def, desc, false)
}

// positiveDurationSchema is durationSchema for a duration that must be more
// than 0 (an interval): a zero, however written (0, "0s", "0ms"), is refused
// by the schema, so `otpctl validate` reports it rather than the start.
func positiveDurationSchema(def, desc string) string {
	return durationSchemaOf(def, desc, true)
}

func durationSchemaOf(def, desc string, positive bool) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(workers.DurationSchema), &m); err != nil {
		panic(err)
	}
	if def != "" {
		m["default"] = json.RawMessage(def)
	}
	if positive {
		m["not"] = map[string]any{"anyOf": []any{
			map[string]any{"const": 0},
			map[string]any{"type": "string", "pattern": `^(0+(\.0+)?(ns|us|µs|ms|s|m|h)?)+$`},
		}}
		m["x-message"] = "must be a duration more than 0, such as 500ms, 5s or 2m, or a whole number of seconds"
	}
	m["description"] = desc
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}
