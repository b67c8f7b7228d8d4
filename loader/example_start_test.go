package loader_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/loader"
	"github.com/otpctl/otpctl/spec"
	"github.com/otpctl/otpctl/workers"
	_ "github.com/otpctl/otpctl/workers/builtin" // the built-in kinds, in workers.Default
)

// A Go program runs a tree file inside itself, without the command line:
// spec reads and checks the file against the registered kinds (your own
// included, registered in init), Start runs it, and the program steers it
// by path until it shuts it down.
func ExampleStart() {
	// spec.Load("shop.yaml", workers.Default) reads it from a file.
	tree, err := spec.Parse("shop.yaml", []byte(`
version: 1
supervisor:
  strategy: one_for_all
  children:
    - {name: counter, kind: counter, args: {initial: 41}}
    - {name: cache, kind: cache, args: {max_size: 10}}
`), workers.Default)
	if err != nil {
		fmt.Println(err) // every problem, as FILE:LINE:COL: message
		return
	}
	ctx := context.Background()
	r, err := loader.Start(ctx, tree, loader.Options{}) // workers.Default, slog.Default()
	if err != nil {
		fmt.Println(err)
		return
	}
	reply, _ := r.Call("shop/counter", json.RawMessage(`{"op":"increment"}`), time.Second)
	fmt.Println("shop/counter:", string(reply))
	reply, _ = r.Call("shop/cache", json.RawMessage(`{"op":"put","key":"a","value":1}`), time.Second)
	fmt.Println("shop/cache:", string(reply))

	snap, _ := r.Snapshot()
	snap.Walk(func(n *live.Node) { fmt.Println(n.Path, n.Kind+n.Strategy, n.State) })

	if err := r.Shutdown(ctx); err != nil {
		fmt.Println(err)
	}
	<-r.Done()
	fmt.Println("stopped:", loader.ReasonText(r.Reason()))
	// Output:
	// shop/counter: {"value":42}
	// shop/cache: {"size":1}
	// shop one_for_all running
	// shop/counter counter running
	// shop/cache cache running
	// stopped: shutdown
}
