package loader

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/otpctl/otpctl/schema"
	"github.com/otpctl/otpctl/workers"
)

// MergeArgs merges over onto base as tree files merge a child's args over
// its kind's, as a JSON Merge Patch (RFC 7386): objects key by key,
// recursively; null removes a key; any other value replaces. Both must be
// JSON objects (empty or null counts as {}). The result is canonical JSON,
// as spec.Worker.Args: keys sorted, no spaces, numbers as written.
func MergeArgs(base, over json.RawMessage) (json.RawMessage, error) {
	b, err := decodeObject(base)
	if err != nil {
		return nil, err
	}
	o, err := decodeObject(over)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(mergeValue(b, o)); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func decodeObject(raw json.RawMessage) (map[string]any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("not valid JSON: data after the object")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("a JSON object is expected")
	}
	return m, nil
}

func mergeValue(base, over any) any {
	om, ok := over.(map[string]any)
	if !ok {
		return over
	}
	bm, _ := base.(map[string]any)
	out := make(map[string]any, len(bm)+len(om))
	for k, v := range bm {
		out[k] = v
	}
	for k, v := range om {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = mergeValue(out[k], v)
	}
	return out
}

// checkArgs checks a dynamic child's merged args against its kind's args
// schema before it is started, as the tree file's children are checked
// when the file is loaded. The error lists every violation
// ("/color: unknown key ...").
func checkArgs(k *workers.Kind, args json.RawMessage) error {
	doc, err := schema.Decode(args)
	if err != nil {
		return err
	}
	sch, err := schema.Args(k.Args)
	if err != nil {
		return fmt.Errorf("kind %q has an args schema that does not compile: %w", k.Name, err)
	}
	vs := sch.Validate(doc)
	if len(vs) == 0 {
		return nil
	}
	msgs := make([]string, len(vs))
	for i, v := range vs {
		msgs[i] = v.String()
	}
	return errors.New(strings.Join(msgs, "; "))
}
