package loader

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/otpctl/otpctl/workers"
)

// MergeArgs merges over onto base as tree files merge a child's args over
// its kind's: objects key by key, recursively; any other value replaces.
// Both must be JSON objects (empty or null counts as {}). The result is
// canonical JSON: keys sorted, no spaces, numbers as written.
func MergeArgs(base, over json.RawMessage) (json.RawMessage, error) {
	b, err := decodeObject(base)
	if err != nil {
		return nil, err
	}
	o, err := decodeObject(over)
	if err != nil {
		return nil, err
	}
	return json.Marshal(mergeValue(b, o))
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
	bm, ok1 := base.(map[string]any)
	om, ok2 := over.(map[string]any)
	if !ok1 || !ok2 {
		return over
	}
	out := make(map[string]any, len(bm)+len(om))
	for k, v := range bm {
		out[k] = v
	}
	for k, v := range om {
		if bv, ok := out[k]; ok {
			out[k] = mergeValue(bv, v)
		} else {
			out[k] = v
		}
	}
	return out
}

// checkArgs checks args against the kind's args schema before a dynamic
// child is started from them.
//
// TODO(loader): validate with the schema package once it is on main; until
// then the kind's own strict decoding (workers.DecodeArgs) refuses bad args
// when the child starts.
func checkArgs(k *workers.Kind, args json.RawMessage) error {
	_, err := decodeObject(args)
	return err
}
