// Package schema holds the JSON Schema of otpctl's tree files and checks
// documents against JSON Schemas, wording each violation for a person.
//
// The tree schema (draft 2020-12) is tree.schema.json, embedded in the
// binary: TreeSchema returns it (`otpctl schema` prints it) and
// ValidateTree applies it. A kind's args schema is compiled once by Args
// and applied the same way.
//
// A violation names the value at fault by its JSON Pointer, so a caller
// that kept positions (package spec keeps the YAML line and column of every
// node) can say where it is; its Message says what is wrong without saying
// where:
//
//	/supervisor/strategy: must be one of one_for_one, one_for_all, rest_for_one; got "one_for_any"
//	/supervisor/stratgy: unknown key "stratgy" (did you mean "strategy"?)
//
// The library's nested causes are followed to the leaves: through $ref and
// allOf, and into the branch of a oneOf or anyOf the author most likely
// meant (the one that got furthest into the value); branches that only
// differ in type are worded together ("must be a string or an integer").
// A schema object may carry an "x-message" that replaces the wording of
// all its keywords ("must be a duration such as 500ms, 5s or 2m").
//
// Schemas never load other documents: a $ref must stay inside its schema.
//
// The tree schema is also the one source of the rules that Go code checks
// outside the validator: ValidName and ValidKindName apply the patterns of
// its $defs/name and $defs/kindName, read from the embedded file, wherever
// a name comes from (a tree file, `otpctl start --name`). Package workers,
// which may not import this one, checks a kind's name when it registers
// against internal/names.KindPattern, a copy this package's tests hold
// equal to $defs/kindName.
package schema
