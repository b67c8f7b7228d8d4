package spec

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestNonTreeFileQuotesNothing: an include (or a tree file) that is not a
// tree file, such as a password file, gets one diagnostic that quotes
// nothing of it, whatever YAML makes of it; a tree file's own mistakes are
// still quoted.
func TestNonTreeFileQuotesNothing(t *testing.T) {
	cases := []struct{ name, text string }{
		{"shadow", "root:$6$Qz8saltSECRET$hashSECRETaaaa/bbbb.cccc:19700:0:99999:7:::\n" +
			"daemon:*:19700:0:99999:7:::\nalice:$y$j9T$saltSECRET2$hashSECRETzzzz:19701:0:99999:7:::\n"},
		{"shadow with spaces", "root: $6$saltSECRET$hashSECRET\nbob: $6$salt2SECRET$hash2SECRET\n"},
		{"mapping without version", "db_password_SECRET: hunter2SECRET\nsupervisor: tokenSECRET\n"},
		{"json", `{"tokenSECRET": "ghp_valueSECRET", "n": [1, "twoSECRET"]}`},
		{"list", "- itemSECRET\n- {k: vSECRET}\n"},
		{"scalar", "just_a_SECRET_line\n"},
		{"unclosed quote", "password: \"unterminatedSECRET\nnext: lineSECRET\n"},
		{"unclosed flow", "keys: [aSECRET, bSECRET\nc: dSECRET\n"},
		{"tab", "a:\n\tkeySECRET: 1\n"},
		{"unknown anchor", "password: *anchorSECRET\n"},
		{"unsupported tag", "password: !tagSECRET valueSECRET\n"},
		{"duplicate keys", "keySECRET: 1\nkeySECRET: 2\n"},
		{"alias cycle", "a: &anchorSECRET\n  - *anchorSECRET\n"},
		{"two documents", "aSECRET: 1\n---\nbSECRET: 2\n"},
		{"version not at the top", "- version: 1\n  supervisor: {strategy: oneSECRET}\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := t.TempDir()
			secret := filepath.Join(d, "shadow")
			os.WriteFile(secret, []byte(c.text), 0o600)
			tree := filepath.Join(d, "t.yaml")
			os.WriteFile(tree, []byte("version: 1\nsupervisor:\n  children:\n    - {name: x, include: shadow}\n"), 0o644)
			for _, file := range []string{tree, secret} {
				ts, err := Load(file, testKinds)
				ds := diags(t, ts, err)
				msg := err.Error()
				if strings.Contains(msg, "SECRET") || strings.Contains(msg, "$6$") || strings.Contains(msg, "hunter2") {
					t.Errorf("Load(%s) quotes the file:\n%s", filepath.Base(file), msg)
				}
				if len(ds) != 1 || !strings.Contains(msg, secret+":") || !strings.Contains(msg, "not a tree file") {
					t.Errorf("Load(%s): want one diagnostic saying %s is not a tree file, got:\n%s", filepath.Base(file), secret, msg)
				}
			}
		})
	}

	// A tree file (a version key at its top) keeps its quoted diagnostics,
	// syntax errors after the version included.
	for _, text := range []string{
		"version: 1\nsupervisor:\n  strategy: one_for_any\n",
		"version: 1\nsupervisor:\n  children:\n    - {name: a, kind: ecoh}\n",
		"version: 1\nsupervisor:\n  children: *nowhere\n",
		"# a comment\nversion: 1\nx-a: &a\n  - *a\nsupervisor: {}\n",
	} {
		_, err := Parse("t.yaml", []byte(text), testKinds)
		if err == nil || !regexp.MustCompile(`one_for_any|"ecoh"|\*nowhere|\*a`).MatchString(err.Error()) {
			t.Errorf("%q: the tree file's mistake is not quoted: %v", text, err)
		}
	}
}
