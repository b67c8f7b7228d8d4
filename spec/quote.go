package spec

import "gopkg.in/yaml.v3"

// mayQuote reports whether the diagnostics of doc may quote its text:
// only when it is a tree file, a YAML mapping with a version key at its
// top. Anything else may be a file that was never meant to be one (an
// include of /etc/shadow), whose lines must not end up in a log, an event
// or a reload's reply. A file with a YAML error is a tree file when the
// lines before the error are; one whose expansion was refused, when its
// YAML is. An empty file, or one too large to read, has nothing quoted in
// its diagnostic.
func mayQuote(doc *document) bool {
	if doc.top == nil && !doc.syntax {
		return true
	}
	return hasVersion(doc.top)
}

func hasVersion(root *yaml.Node) bool {
	root = deref(root)
	if root == nil || root.Kind != yaml.MappingNode {
		return false
	}
	k, _ := field(root, "version")
	return k != nil
}

// hideText replaces the diagnostics of a document that is not a tree file
// with one that quotes nothing of it (see mayQuote), at the place of the
// first, and leaves nothing of it to check.
func hideText(doc *document) {
	at := Pos{File: doc.name, Line: 1, Col: 1}
	if len(doc.diags) > 0 {
		at = doc.diags[0].Pos
	}
	var why string
	switch r := deref(doc.root); {
	case r == nil:
		why = "it is not valid YAML"
	case r.Kind != yaml.MappingNode:
		why = "it is not a YAML mapping"
	default:
		why = `it has no "version" key`
	}
	doc.diags = Diagnostics{{Pos: at, Severity: SeverityError,
		Summary: "not a tree file: " + why + "; a tree file starts with version: 1 (nothing of this file is quoted)"}}
	doc.root, doc.value = nil, nil
}
