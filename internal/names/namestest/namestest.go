// Package namestest holds the names that tests of every place that checks
// a name (a tree file, otpctl start --name, the kind registry) try, to
// show that each refuses exactly what package schema's ValidName and
// ValidKindName refuse.
package namestest

import "strings"

// Edges are names at the edges of the name rules: valid and not, one
// character and a thousand, upper case, '/', '..', non-ASCII, the Kelvin
// sign (which folds to k), NUL and bytes that are not UTF-8.
var Edges = []string{
	"", "a", "0", "w1", "night", "9lives", "a.b-c_d", "my-kind_2", "a..b", "w-",
	"..", ".", ".hidden", "-w", "_w", "Night", "wEb", "W", "a/b", "/", "../x",
	"a b", " a", "a\n", "a:b", "a*", "wé", "é", "ｗ", "a\u212a", "a\x00", "a\xff",
	strings.Repeat("n", 1000),
}
