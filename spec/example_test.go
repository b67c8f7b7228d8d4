package spec_test

import (
	"fmt"
	"sort"

	"github.com/otpctl/otpctl/spec"
)

// kinds stands in for a workers.Registry: the registered kinds and the
// JSON Schema of their args.
type kinds map[string]string

func (k kinds) ArgsSchema(name string) (string, bool) { s, ok := k[name]; return s, ok }

func (k kinds) Names() []string {
	var names []string
	for n := range k {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

var registered = kinds{
	"echo":    `{"type": "object", "additionalProperties": false}`,
	"counter": `{"type": "object", "properties": {"initial": {"type": "integer"}}, "additionalProperties": false}`,
}

func ExampleParse() {
	tree, err := spec.Parse("shop.yaml", []byte(`
version: 1
kinds:
  tally: {base: counter, args: {initial: 10}, restart: transient}
supervisor:
  strategy: rest_for_one
  children:
    - {name: echo, kind: echo}
    - {name: tally, kind: tally}
    - name: workers
      supervisor:
        children:
          - {name: w1, kind: counter, args: {initial: 1}}
`), registered)
	if err != nil {
		fmt.Println(err)
		return
	}
	tree.Root.Walk(func(n *spec.Node) {
		switch {
		case n.Worker != nil:
			fmt.Println(n.Path, n.Worker.Base, string(n.Worker.Args), n.Restart, n.Shutdown)
		default:
			fmt.Println(n.Path, n.Supervisor.Strategy, n.Shutdown)
		}
	})
	// Output:
	// shop rest_for_one infinity
	// shop/echo echo {} permanent 5s
	// shop/tally counter {"initial":10} transient 5s
	// shop/workers one_for_one infinity
	// shop/workers/w1 counter {"initial":1} permanent 5s
}

func ExampleDiagnostics() {
	_, err := spec.Parse("shop.yaml", []byte(`version: 1
supervisor:
  strategy: one_for_any
  children:
    - {name: web, kind: ecoh}
    - {name: web, kind: counter, args: {initial: ten}}
`), registered)
	fmt.Println(err)
	// Output:
	// shop.yaml:3:13: strategy: must be one of one_for_one, one_for_all, rest_for_one; got "one_for_any"
	// shop.yaml:5:25: kind: unknown kind "ecoh" (did you mean "echo"?)
	// shop.yaml:6:14: name: "web" is already the name of a sibling (line 5); sibling names must be unique
	// shop.yaml:6:50: args.initial: must be an integer; got "ten"
}
