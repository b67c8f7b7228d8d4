package spec

import "testing"

// TestAnEmptyKeyIsReportedWhereItIs: an unknown key "" is reported at that
// key, at the top of the file as in a nested supervisor (its JSON Pointer
// "/…/" was read as the mapping's own, found by FuzzValidateTree).
func TestAnEmptyKeyIsReportedWhereItIs(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"version: 1\nname: a\n\"\": 2\nsupervisor:\n  children: []\n",
			`a.yaml:3:1: unknown key ""; expected one of kinds, name, supervisor, version`},
		{"version: 1\nname: a\nsupervisor:\n  \"\": 1\n  children: []\n",
			`a.yaml:4:3: unknown key ""; expected one of auto_shutdown, backoff, children, max_frequency, period, strategy`},
		{"version: 1\nname: a\nsupervisor:\n  children:\n    - name: s\n      supervisor:\n        \"\": 1\n",
			`a.yaml:7:9: unknown key ""; expected one of auto_shutdown, backoff, children, max_frequency, period, strategy`},
	} {
		_, err := Parse("a.yaml", []byte(c.text), testKinds)
		if err == nil || err.Error() != c.want {
			t.Errorf("%q:\ngot  %v\nwant %s", c.text, err, c.want)
		}
	}
}
