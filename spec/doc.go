// Package spec reads otpctl's tree files: YAML that declares a supervision
// tree, resolved into a Tree that the loader builds and a reload diffs.
//
// Load reads a file; Parse takes the bytes. Both resolve everything a file
// can say, so the Tree needs nothing more:
//
//   - include: a child whose subtree is another tree file, relative to the
//     including file's folder. Its root supervisor is mounted under the
//     child's name (its own name: is ignored); its kinds: apply in it
//     alone. A file may be included more than once, but not by itself,
//     directly or not.
//   - kinds: named kinds built on a registered kind, or on another kind of
//     the same file, with default args, restart and shutdown. A child's
//     args are merged over its kind's as a JSON Merge Patch (RFC 7386):
//     mappings merge key by key, a null removes a key the kind set, and
//     anything else replaces. A file kind may not reuse a registered
//     kind's name.
//   - defaults, OTP's: strategy one_for_one, max_frequency 1, period 5s,
//     auto_shutdown never, restart permanent, shutdown 5s for a worker
//     and infinity for a supervisor, significant false.
//   - durations: a Go duration ("500ms", "5s", "1h30m") or whole seconds;
//     a shutdown may also be brutal_kill or infinity. All must be more
//     than zero.
//   - paths: the tree's name (name:, else the file's base name without its
//     extension), then child names, joined by "/": shop/workers/w1. Names
//     are [a-z0-9][a-z0-9_.-]*, so a path splits back unambiguously.
//   - args: as canonical JSON (keys sorted, no spaces), so equal args are
//     equal bytes.
//
// Every problem of a file and its includes comes back at once, as the
// Diagnostics error: one FILE:LINE:COL: message per problem, sorted by
// position, each pointing at the value (or key) at fault:
//
//	shop.yaml:12:15: strategy: must be one of one_for_one, one_for_all, rest_for_one; got "one_for_any"
//	shop.yaml:17:13: kind: unknown kind "ecoh" (did you mean "echo"?)
//	shop.yaml:21:23: args.initial: must be an integer; got "ten"
//
// The checks, in order: YAML syntax (yaml.v3 reports lines badly and no
// columns, so a syntax error is located by re-parsing prefixes of the
// file), tabs, duplicate keys, tags JSON cannot hold; the JSON Schema of
// package schema, its violations mapped back from JSON pointers to YAML
// positions; then what a schema cannot say: unknown kinds and bases, kinds
// that build on each other in a cycle, duplicate sibling names, include
// cycles and files that cannot be read, a significant child that is
// permanent or whose supervisor's auto_shutdown is never (both refused by
// OTP), durations that overflow; and each worker's args against its kind's
// args schema (Kinds.ArgsSchema). A dynamic supervisor's template may leave
// out required args, since each child started at run time can bring them;
// a pool's args go to the kind's own check as its member 1 gets them, with
// IndexVar (${OTPCTL_INDEX}) replaced by 1.
// Args that a kind's schema marks with FilePathKeyword (exec's env_file)
// are made absolute against the folder of the file that holds the child,
// as includes are.
// A value gets one diagnostic: one that fails the schema is not checked
// again.
//
// Anchors, aliases and merge keys (<<) work as YAML defines them. Keys
// starting with x- are allowed at the top of a file, as a place for
// anchors. A file may not expand, through aliases, to more than a hundred
// times its own nodes (a "billion laughs" is refused after a few thousand),
// may not exceed MaxFileSize, and a tree, includes counted, may not exceed
// MaxNodes.
//
// A file that is not a tree file (not a YAML mapping with a version key at
// its top: an include of /etc/shadow) gets one diagnostic that quotes
// nothing of it. LoadWith with SafeFiles also refuses files and folders
// that another user could change (what `otpctl run` does as root).
//
// A Tree is immutable once returned: nothing in it is shared with another
// Tree or changed later, so it may be read from any goroutine.
package spec
