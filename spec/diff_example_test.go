package spec_test

import (
	"fmt"

	"github.com/otpctl/otpctl/spec"
)

// anyKinds registers echo and counter, taking any args.
type anyKinds struct{}

func (anyKinds) ArgsSchema(name string) (string, bool) {
	return `{"type":"object"}`, name == "echo" || name == "counter"
}
func (anyKinds) Names() []string { return []string{"counter", "echo"} }

func ExampleDiff() {
	old, err := spec.Parse("shop.yaml", []byte(`
version: 1
supervisor:
  max_frequency: 3
  children:
    - {name: db, kind: counter, args: {initial: 0}}
    - {name: web, kind: echo}
    - {name: old, kind: echo}
`), anyKinds{})
	if err != nil {
		fmt.Println(err)
		return
	}
	new, err := spec.Parse("shop.yaml", []byte(`
version: 1
supervisor:
  max_frequency: 5
  children:
    - {name: db, kind: counter, args: {initial: 7}}
    - {name: web, kind: echo, shutdown: 10s}
    - {name: jobs, kind: echo}
`), anyKinds{})
	if err != nil {
		fmt.Println(err)
		return
	}
	plan := spec.Diff(old, new)
	fmt.Print(plan)
	for _, c := range plan.Changes {
		// What a reload applier does with each change.
		switch {
		case c.Op == spec.Removed:
			fmt.Printf("RemoveChild(%s) on %s\n", c.Name, c.Parent)
		case c.Op == spec.Added:
			fmt.Printf("InsertChild(%d, %s) on %s\n", c.Index, c.Name, c.Parent)
		case c.Op == spec.Changed:
			fmt.Printf("ReplaceChild(%s) on %s\n", c.Name, c.Parent)
		case c.UpdatesFlags():
			fmt.Printf("SetFlags on %s\n", c.Path)
		case c.UpdatesChild():
			fmt.Printf("UpdateChild(%s) on %s\n", c.Name, c.Parent)
		}
	}
	fmt.Println(spec.Equal(old, new), spec.Equal(new, new))
	// Output:
	// - shop/old (removed)
	// ~ shop (max_frequency 3 → 5: updated in place)
	// ~ shop/db (args changed (initial): restart)
	// ~ shop/web (shutdown 5s → 10s: updated in place)
	// + shop/jobs (added)
	// 0 unchanged
	// RemoveChild(old) on shop
	// SetFlags on shop
	// ReplaceChild(db) on shop
	// UpdateChild(web) on shop
	// InsertChild(2, jobs) on shop
	// false true
}
