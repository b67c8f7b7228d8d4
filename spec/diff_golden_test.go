package spec

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
)

// planKinds is the kinds the plan fixtures use, each taking any args.
type planKinds struct{}

var planKindNames = []string{"cache", "counter", "echo", "exec", "ticker"}

func (planKinds) ArgsSchema(name string) (string, bool) {
	if slices.Contains(planKindNames, name) {
		return `{"type":"object"}`, true
	}
	return "", false
}

func (planKinds) Names() []string { return planKindNames }

// TestDiffGolden diffs each testdata/plan/CASE/old.yaml against new.yaml
// (which may include other files of the folder) and compares the plan with
// plan.txt and plan.json. go test ./spec -run DiffGolden -update rewrites
// them; read the change before committing it.
func TestDiffGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/plan/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no plan fixtures: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			old, err := Load(filepath.Join(dir, "old.yaml"), planKinds{})
			if err != nil {
				t.Fatalf("old.yaml: %v", err)
			}
			new, err := Load(filepath.Join(dir, "new.yaml"), planKinds{})
			if err != nil {
				t.Fatalf("new.yaml: %v", err)
			}
			p := Diff(old, new)
			checkPlan(t, old, new, p)
			js, err := json.MarshalIndent(p, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join(dir, "plan.txt"), p.String())
			golden(t, filepath.Join(dir, "plan.json"), string(js)+"\n")
		})
	}
}
