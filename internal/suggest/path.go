package suggest

import (
	"slices"
	"strings"
)

// Path returns the path of paths (slash-separated, as shop/pool/w1) that
// path most likely meant, or "" if none is close or path is one of them.
// It goes segment by segment: where a segment is not a child of the path
// so far, the closest child name takes its place if it is within a third of
// the segment's length (and one) edits, so that shop/pol/w1 finds
// shop/pool/w1 and shop/nope finds nothing, although jobs is 3 edits away.
func Path(path string, paths []string) string {
	if slices.Contains(paths, path) {
		return ""
	}
	children := map[string][]string{} // parent path ("" for the roots) → child names
	for _, p := range paths {
		i := strings.LastIndexByte(p, '/')
		children[p[:max(i, 0)]] = append(children[p[:max(i, 0)]], p[i+1:])
	}
	got := ""
	for _, seg := range strings.Split(path, "/") {
		kids := children[got]
		if !slices.Contains(kids, seg) {
			// Names in a tree are short: a third of a name's letters
			// changed (and one more) is a typo, more is another name.
			s := Closest(seg, kids)
			if s == "" || Distance(seg, s) > len(seg)/3+1 {
				return ""
			}
			seg = s
		}
		if got != "" {
			got += "/"
		}
		got += seg
	}
	return got
}
