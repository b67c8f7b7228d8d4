package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// planTree is the tree of the plan tests, with what differs between its
// two versions left as verbs: max_frequency, db's initial, web's shutdown
// and the last child.
const planTree = `version: 1
name: shop
supervisor:
  max_frequency: %d
  children:
    - name: db
      kind: counter
      args: {initial: %d}
    - name: web
      kind: echo
      shutdown: %s
    - name: workers
      supervisor:
        strategy: rest_for_one
        children:
          - {name: w1, kind: echo}
          - {name: w2, kind: echo}
%s`

var (
	planOld = fmt.Sprintf(planTree, 3, 0, "5s", `    - name: old
      kind: echo
`)
	// planNew: old removed, max_frequency 3 → 5, db's args changed, web's
	// shutdown changed, jobs added.
	planNew = fmt.Sprintf(planTree, 5, 7, "10s", `    - name: jobs
      dynamic:
        kind: echo
`)
)

const planWant = `- shop/old (removed)
~ shop (max_frequency 3 → 5: updated in place)
~ shop/db (args changed (initial): restart)
~ shop/web (shutdown 5s → 10s: updated in place)
+ shop/jobs (added)
3 unchanged
`

// writeFiles writes name → content into a new temporary folder and returns
// the paths by name.
func writeFiles(t *testing.T, files map[string]string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	paths := map[string]string{}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		paths[name] = p
	}
	return paths
}

func TestPlan(t *testing.T) {
	f := writeFiles(t, map[string]string{"old.yaml": planOld, "new.yaml": planNew, "same.yaml": planOld})

	t.Run("changes: exit 1 and the plan", func(t *testing.T) {
		r := otpctl(t, nil, "plan", f["old.yaml"], f["new.yaml"])
		if r.code != ExitFailure || r.stdout != planWant || r.stderr != "" {
			t.Fatalf("code %d, stdout:\n%s\nwant:\n%s\nstderr: %s", r.code, r.stdout, planWant, r.stderr)
		}
	})
	t.Run("no change: exit 0", func(t *testing.T) {
		r := otpctl(t, nil, "plan", f["old.yaml"], f["same.yaml"])
		if r.code != ExitOK || r.stdout != "7 unchanged\n" || r.stderr != "" {
			t.Fatalf("code %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
	for _, args := range [][]string{
		{"plan", "--json", f["old.yaml"], f["new.yaml"]},
		{"plan", f["old.yaml"], f["new.yaml"], "--json"},
	} {
		t.Run("json "+strings.Join(args[1:], " "), func(t *testing.T) {
			r := otpctl(t, nil, args...)
			if r.code != ExitFailure {
				t.Fatalf("code %d, stderr %s", r.code, r.stderr)
			}
			var got struct {
				Changes []struct {
					Op, Path string
					Fields   []struct {
						Field    string
						Old, New any
					}
				}
				Unchanged int
			}
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatalf("%v: %s", err, r.stdout)
			}
			var lines []string
			for _, c := range got.Changes {
				l := c.Op + " " + c.Path
				for _, f := range c.Fields {
					b, _ := json.Marshal([]any{f.Old, f.New})
					l += " " + f.Field + string(b)
				}
				lines = append(lines, l)
			}
			want := []string{
				"removed shop/old",
				"updated shop max_frequency[3,5]",
				`changed shop/db args[{"initial":0},{"initial":7}]`,
				`updated shop/web shutdown["5s","10s"]`,
				"added shop/jobs",
			}
			if strings.Join(lines, "\n") != strings.Join(want, "\n") || got.Unchanged != 3 {
				t.Errorf("changes:\n%s\nunchanged %d; want:\n%s\nunchanged 3", strings.Join(lines, "\n"), got.Unchanged, strings.Join(want, "\n"))
			}
		})
	}
}

func TestPlanErrors(t *testing.T) {
	bad := `version: 1
name: shop
supervisor:
  children:
    - name: db
      kind: countr
    - name: db
      kind: echo
`
	f := writeFiles(t, map[string]string{"old.yaml": planOld, "bad.yaml": bad, "bad2.yaml": bad})
	diag := regexp.MustCompile(`(?m)^(.+bad2?\.yaml):(\d+):(\d+): `)

	t.Run("a bad file: exit 2, every problem at its place", func(t *testing.T) {
		r := otpctl(t, nil, "plan", f["old.yaml"], f["bad.yaml"])
		if r.code != ExitPlanError || r.stdout != "" {
			t.Fatalf("code %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		var where []string
		for _, m := range diag.FindAllStringSubmatch(r.stderr, -1) {
			if m[1] != f["bad.yaml"] {
				t.Errorf("diagnostic names %s, want %s", m[1], f["bad.yaml"])
			}
			where = append(where, m[2])
		}
		// The unknown kind (line 6) and the duplicate name (line 7).
		if !slices.Contains(where, "6") || !slices.Contains(where, "7") {
			t.Errorf("want diagnostics at lines 6 and 7, got lines %q:\n%s", where, r.stderr)
		}
	})
	t.Run("both bad: the problems of both", func(t *testing.T) {
		r := otpctl(t, nil, "plan", f["bad.yaml"], f["bad2.yaml"])
		if r.code != ExitPlanError || !strings.Contains(r.stderr, f["bad.yaml"]+":") || !strings.Contains(r.stderr, f["bad2.yaml"]+":") {
			t.Fatalf("code %d, stderr:\n%s", r.code, r.stderr)
		}
	})
	t.Run("a missing file: exit 2", func(t *testing.T) {
		r := otpctl(t, nil, "plan", f["old.yaml"], f["old.yaml"]+".missing")
		if r.code != ExitPlanError || !strings.Contains(r.stderr, ".missing") {
			t.Fatalf("code %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("one file: exit 2", func(t *testing.T) {
		r := otpctl(t, nil, "plan", f["old.yaml"])
		if r.code != ExitPlanError || !strings.Contains(r.stderr, "OLD and NEW") {
			t.Fatalf("code %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("help explains the exit statuses", func(t *testing.T) {
		r := otpctl(t, nil, "plan", "--help")
		if r.code != ExitOK || !strings.Contains(r.stdout, "0  no change") || !strings.Contains(r.stdout, "2  an error") {
			t.Fatalf("code %d, stdout:\n%s", r.code, r.stdout)
		}
	})
}
