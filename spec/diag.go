package spec

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Severity says how bad a Diagnostic is.
type Severity string

// SeverityError is a problem that makes the tree unusable: Load and Parse
// return no tree when there is one.
const SeverityError Severity = "error"

// SeverityWarning is something that would fail on this machine though the
// tree is valid (an exec program not found in PATH): only a load with
// LoadOptions.Warnings looks for them, and they do not stop Load.
const SeverityWarning Severity = "warning"

// Diagnostic is one problem in a tree file, with the place it was found.
type Diagnostic struct {
	// Pos is where the problem is: the value (or key) at fault. A file
	// that cannot be read at all has Line and Col 0.
	Pos      Pos
	Severity Severity
	// Summary is the one-line message: `strategy: must be one of
	// one_for_one, one_for_all, rest_for_one; got "one_for_any"`.
	Summary string
	// Detail, when set, says more (several lines are fine).
	Detail string
}

// Error reads FILE:LINE:COL: SUMMARY (FILE: SUMMARY when there is no line;
// LINE:COL: SUMMARY when there is no file); a warning's summary reads
// "warning: SUMMARY".
func (d *Diagnostic) Error() string {
	var b strings.Builder
	if d.Pos.File != "" {
		b.WriteString(d.Pos.File)
		b.WriteString(":")
	}
	if d.Pos.Line > 0 {
		fmt.Fprintf(&b, "%d:%d:", d.Pos.Line, d.Pos.Col)
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if d.Severity == SeverityWarning {
		b.WriteString("warning: ")
	}
	b.WriteString(d.Summary)
	return b.String()
}

// Diagnostics is every problem found in a tree file and its includes,
// sorted by file, line and column. It is the error Load and Parse return.
type Diagnostics []*Diagnostic

// HasErrors reports whether ds holds a diagnostic that is not a warning.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity != SeverityWarning {
			return true
		}
	}
	return false
}

// Error has one FILE:LINE:COL: message line per problem.
func (ds Diagnostics) Error() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.Error()
	}
	return strings.Join(lines, "\n")
}

// sorted orders ds by file, line, column and message, and drops repeats
// (an included file mounted twice is checked twice).
func (ds Diagnostics) sorted() Diagnostics {
	slices.SortStableFunc(ds, func(a, b *Diagnostic) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
			cmp.Compare(a.Summary, b.Summary),
		)
	})
	return slices.CompactFunc(ds, func(a, b *Diagnostic) bool {
		return a.Pos == b.Pos && a.Summary == b.Summary && a.Detail == b.Detail
	})
}
