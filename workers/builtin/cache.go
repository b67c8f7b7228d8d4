package builtin

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/otpctl/otpctl/workers"
)

// ErrCacheFull is the reply to a put of a new key into a full cache.
var ErrCacheFull = errors.New("cache is full")

// Cache is the cache kind: a map of string keys to JSON values, holding at
// most max_size keys. Ops and replies:
//
//	{"op":"put","key":K,"value":V}  {"size":N}  (error "cache is full" for a new key when full)
//	{"op":"get","key":K}            {"found":true,"value":V} or {"found":false}
//	{"op":"delete","key":K}         {"deleted":true} or {"deleted":false} (no such key)
//	{"op":"size"}                   {"size":N}
func Cache() workers.Kind {
	type args struct {
		MaxSize int `json:"max_size"`
	}
	type state struct {
		max int
		m   map[string]json.RawMessage
	}
	parse := func(raw json.RawMessage) (args, error) {
		a := args{MaxSize: 1000}
		if err := workers.DecodeArgs(raw, &a); err != nil {
			return a, err
		}
		if a.MaxSize < 1 {
			return a, &workers.ArgError{Pointer: "/max_size", Message: fmt.Sprintf("must be at least 1, not %d", a.MaxSize)}
		}
		return a, nil
	}
	type keyReq struct {
		Key string `json:"key"`
	}
	decodeKey := func(req json.RawMessage) (string, error) {
		var r keyReq
		if err := workers.DecodeRequest(req, &r); err != nil {
			return "", err
		}
		if r.Key == "" {
			return "", fmt.Errorf(`request: "key" is required`)
		}
		return r.Key, nil
	}
	return workers.Kind{
		Name: "cache",
		Doc:  "a key-value map of at most max_size keys: get, put, delete, size",
		Args: argsSchema(
			`"max_size": {"type": "integer", "minimum": 1, "default": 1000, "description": "how many keys it holds; a put of a new key beyond it is refused"}`,
		),
		Start: workers.Actor[*state]{
			Init: func(_ *workers.Context, w workers.Worker) (*state, error) {
				a, err := parse(w.Args)
				if err != nil {
					return nil, err
				}
				return &state{max: a.MaxSize, m: map[string]json.RawMessage{}}, nil
			},
			Ops: map[string]workers.Op[*state]{
				"get": func(_ *workers.Context, req json.RawMessage, s *state) (any, *state, error) {
					k, err := decodeKey(req)
					if err != nil {
						return nil, s, err
					}
					v, ok := s.m[k]
					if !ok {
						return map[string]bool{"found": false}, s, nil
					}
					return map[string]any{"found": true, "value": v}, s, nil
				},
				"put": func(_ *workers.Context, req json.RawMessage, s *state) (any, *state, error) {
					var r struct {
						Key   string          `json:"key"`
						Value json.RawMessage `json:"value"`
					}
					if err := workers.DecodeRequest(req, &r); err != nil {
						return nil, s, err
					}
					if r.Key == "" || r.Value == nil {
						return nil, s, fmt.Errorf(`request: "key" and "value" are required`)
					}
					if _, ok := s.m[r.Key]; !ok && len(s.m) >= s.max {
						return nil, s, ErrCacheFull
					}
					s.m[r.Key] = r.Value
					return map[string]int{"size": len(s.m)}, s, nil
				},
				"delete": func(_ *workers.Context, req json.RawMessage, s *state) (any, *state, error) {
					k, err := decodeKey(req)
					if err != nil {
						return nil, s, err
					}
					_, ok := s.m[k]
					delete(s.m, k)
					return map[string]bool{"deleted": ok}, s, nil
				},
				"size": func(_ *workers.Context, req json.RawMessage, s *state) (any, *state, error) {
					if err := workers.DecodeRequest(req, &struct{}{}); err != nil {
						return nil, s, err
					}
					return map[string]int{"size": len(s.m)}, s, nil
				},
			},
		}.Start,
		Check: checkWith(parse),
	}
}
