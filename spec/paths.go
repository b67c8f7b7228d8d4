package spec

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
)

// FilePathKeyword marks, in a kind's args schema, a top-level property that
// names files ("x-file-path": true): its value, a string or an array of
// strings, is resolved when the tree file is read: a relative path is made
// relative to the folder of the tree file that holds the child (as an
// include is), so that the kind gets an absolute one. A leading "-" (the
// mark of an optional file, as systemd writes it) stays in front. The
// exec kind's env_file is one.
const FilePathKeyword = "x-file-path"

// filePathProps caches the file-path properties of each args schema text.
var filePathProps sync.Map // schema text → []string

// pathProps returns the properties of a kind's args schema marked with
// FilePathKeyword.
func pathProps(schemaText string) []string {
	if v, ok := filePathProps.Load(schemaText); ok {
		return v.([]string)
	}
	var s struct {
		Properties map[string]map[string]any `json:"properties"`
	}
	var props []string
	if json.Unmarshal([]byte(schemaText), &s) == nil {
		for name, p := range s.Properties {
			if b, _ := p[FilePathKeyword].(bool); b {
				props = append(props, name)
			}
		}
	}
	filePathProps.Store(schemaText, props)
	return props
}

// resolvePaths returns args with props, the file-path properties of its
// kind (pathProps), resolved against dir (see FilePathKeyword); args is
// not modified.
func resolvePaths(props []string, args map[string]any, dir string) map[string]any {
	if dir == "" {
		return args
	}
	var out map[string]any
	for _, p := range props {
		v, ok := args[p]
		if !ok {
			continue
		}
		if out == nil {
			out = make(map[string]any, len(args))
			for k, x := range args {
				out[k] = x
			}
		}
		switch v := v.(type) {
		case string:
			out[p] = resolvePath(v, dir)
		case []any:
			list := make([]any, len(v))
			for i, x := range v {
				if s, ok := x.(string); ok {
					list[i] = resolvePath(s, dir)
				} else {
					list[i] = x
				}
			}
			out[p] = list
		}
	}
	if out == nil {
		return args
	}
	return out
}

// resolvePath makes a relative path (after an optional "-") relative to
// dir.
func resolvePath(p, dir string) string {
	mark, rest := "", p
	if strings.HasPrefix(p, "-") {
		mark, rest = "-", p[1:]
	}
	if rest == "" || filepath.IsAbs(rest) {
		return p
	}
	return mark + filepath.Join(dir, rest)
}
