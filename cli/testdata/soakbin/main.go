// Command soakbin is otpctl with one more kind, stats, for the chaos soak
// (cli/soak_test.go): {"op":"get"} replies with the instance's Go heap (after
// a GC) and goroutine count, read through the control API as anything else.
package main

import (
	"encoding/json"
	"os"
	goruntime "runtime"

	"github.com/otpctl/otpctl/cli"
	"github.com/otpctl/otpctl/workers"
	_ "github.com/otpctl/otpctl/workers/builtin"
)

func init() {
	workers.Register(workers.Kind{
		Name: "stats",
		Doc:  `the instance's Go heap and goroutines: {"op":"get"} replies {"heap":B,"goroutines":N}`,
		Start: workers.Actor[struct{}]{Ops: map[string]workers.Op[struct{}]{
			"get": func(_ *workers.Context, _ json.RawMessage, s struct{}) (any, struct{}, error) {
				goruntime.GC()
				goruntime.GC()
				var ms goruntime.MemStats
				goruntime.ReadMemStats(&ms)
				return map[string]uint64{"heap": ms.HeapAlloc, "goroutines": uint64(goruntime.NumGoroutine())}, s, nil
			},
		}}.Start,
	})
}

func main() { os.Exit(cli.Main(os.Args)) }
