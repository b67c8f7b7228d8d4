package live_test

import (
	"encoding/json"
	"fmt"

	"github.com/otpctl/otpctl/live"
)

// A tree read back from the control API: find a node, walk the tree.
func Example() {
	var root live.Node
	_ = json.Unmarshal([]byte(`{"path":"shop","name":"shop","type":"supervisor","state":"running","restart":"permanent",
		"budget":{"used":1,"max":3,"period":"5s"},
		"children":[{"path":"shop/db","name":"db","type":"worker","kind":"exec","state":"running","restart":"permanent","restarts":1}]}`), &root)
	fmt.Println(root.IsSupervisor(), root.Budget)
	fmt.Println(root.Find("shop/db").Kind, root.Find("shop/db").Restarts)
	root.Walk(func(n *live.Node) { fmt.Println(n.Path, n.State) })
	// Output:
	// true budget 1/3 in 5s
	// exec 1
	// shop running
	// shop/db running
}

// The readiness rule of GET /readyz: a permanent child stopped is not
// ready; a temporary one that exited is done.
func ExampleNode_NotReady() {
	var root live.Node
	_ = json.Unmarshal([]byte(`{"path":"app","type":"supervisor","state":"running","restart":"permanent","children":[
		{"path":"app/web","type":"worker","state":"stopped","restart":"permanent"},
		{"path":"app/migrate","type":"worker","state":"stopped","restart":"temporary"},
		{"path":"app/db","type":"worker","state":"starting","restart":"permanent"}]}`), &root)
	for _, n := range root.NotReady() {
		fmt.Println(n.Path, n.State)
	}
	fmt.Println(root.Find("app/migrate").Ready())
	// Output:
	// app/web stopped
	// app/db starting
	// true
}
