package schema

import (
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/otpctl/otpctl/internal/names"
)

// The rules of the tree schema that Go code applies as well, outside the
// validator: the patterns of a name (a child's or the tree's), of a kind's
// name and of a shutdown. They are read from the embedded tree schema's
// $defs when the program starts, so tree.schema.json is their one source;
// ValidName and ValidKindName are the one way the rest of the program
// checks a name. (Package workers, which may not import schema, checks a
// kind's name with internal/names.KindPattern, a copy that
// TestKindNamePatternIsTheSchemas holds equal to $defs/kindName.)
var (
	treePatterns = patternsOf(treeSchema, "name", "kindName", "shutdown")
	nameRule     = names.MustCompile(treePatterns["name"])
	kindNameRule = names.MustCompile(treePatterns["kindName"])
	// shutdownRule is the string form of a shutdown: brutal_kill,
	// infinity or a Go duration. (Its integer form, whole seconds, is
	// a type and a minimum, not a pattern.)
	shutdownRule = regexp.MustCompile(treePatterns["shutdown"])
)

// patternsOf returns the pattern of each of the $defs of the schema text.
// A missing one is the program's error: it panics.
func patternsOf(text string, defs ...string) map[string]string {
	var sch struct {
		Defs map[string]struct {
			Pattern string `json:"pattern"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal([]byte(text), &sch); err != nil {
		panic(fmt.Sprintf("schema: the embedded tree schema is not JSON: %v", err))
	}
	out := make(map[string]string, len(defs))
	for _, d := range defs {
		p := sch.Defs[d].Pattern
		if p == "" {
			panic(fmt.Sprintf("schema: the embedded tree schema has no $defs/%s/pattern", d))
		}
		out[d] = p
	}
	return out
}

// ValidName reports whether s is a name the tree schema accepts for a
// child or a tree ($defs/name: lower-case letters, digits, '_', '.' and
// '-', starting with a letter or a digit). A name is a segment of a path,
// so it never holds a '/'.
func ValidName(s string) bool { return nameRule.Match(s) }

// NamePattern returns the pattern of $defs/name that ValidName applies,
// for messages that quote it.
func NamePattern() string { return nameRule.String() }

// ValidKindName reports whether s is a name the tree schema accepts for a
// kind ($defs/kindName: lower-case letters, digits, '_' and '-', starting
// with a letter).
func ValidKindName(s string) bool { return kindNameRule.Match(s) }

// validShutdown reports whether s is a shutdown's string form the tree
// schema accepts ($defs/shutdown/pattern).
func validShutdown(s string) bool { return shutdownRule.MatchString(s) }

// maxPoolSize is $defs/poolSize/maximum, read as the patterns are.
var maxPoolSize = func() int {
	var sch struct {
		Defs struct {
			PoolSize struct {
				Maximum int `json:"maximum"`
			} `json:"poolSize"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal([]byte(treeSchema), &sch); err != nil || sch.Defs.PoolSize.Maximum < 1 {
		panic("schema: the embedded tree schema has no $defs/poolSize/maximum")
	}
	return sch.Defs.PoolSize.Maximum
}()

// MaxPoolSize is the most members a pool may have ($defs/poolSize: 1 to
// this), for `otpctl scale` and POST /v1/scale, which check a new size as
// the schema checks a tree file's.
func MaxPoolSize() int { return maxPoolSize }
