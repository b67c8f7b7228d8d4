// Package names checks names (a child's, a tree's, a kind's) against the
// name patterns of the tree schema, fast enough for a file of a hundred
// thousand workers.
//
// The tree schema, schema/tree.schema.json, is the one source of every
// name rule: package schema reads its patterns from the embedded file and
// compiles them with Compile. The one exception is KindPattern, the
// kind-name pattern, which package workers needs to refuse a badly named
// kind when it registers, and which it cannot read from the schema
// (workers may not import schema, and the file cannot be embedded from
// outside its folder). KindPattern is therefore a copy, pinned to the
// schema's $defs/kindName by a test of package schema that fails when the
// two differ.
//
// This package embeds nothing and imports only the standard library, so
// any package may use it.
package names
