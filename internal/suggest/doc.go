// Package suggest finds the name a person most likely meant when they
// mistyped one: the "did you mean" of unknown kinds, keys and values.
// It is shared by workers, schema and spec, which may not import each
// other.
package suggest
