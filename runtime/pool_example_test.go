package runtime_test

import (
	"context"
	"fmt"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// A pool of three squarers: calls go round robin, and a resize grows the
// pool at its end without touching the members it has.
func ExampleStartPool() {
	type square struct {
		n     int
		reply runtime.Subject[string]
	}
	pool, err := runtime.StartPool(nil, runtime.PoolSpec[square]{
		Flags: runtime.DefaultFlags(), Path: "squarers", Size: 3,
		Start: func(parent *runtime.Process, index int) (runtime.Member[square], error) {
			s, err := runtime.StartLink(parent, runtime.Spec[struct{}, square]{
				Loop: func(_ *runtime.Process, m square, st struct{}) runtime.Next[struct{}] {
					m.reply.Send(fmt.Sprintf("member %d: %d", index, m.n*m.n))
					return runtime.Continue(st)
				},
			})
			return runtime.Member[square]{Pid: s.Owner(), Subject: s}, err
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Shutdown(context.Background())
	me, detach := runtime.Attach()
	defer detach()
	for n := 1; n <= 4; n++ {
		rep, _ := runtime.CallPool(me, pool, func(r runtime.Subject[string]) square { return square{n, r} }, time.Second)
		fmt.Println(rep)
	}
	pool.Resize(5, runtime.CauseOperator)
	fmt.Println("size", pool.Size(), "running", len(pool.Members()))
	// Output:
	// member 1: 1
	// member 2: 4
	// member 3: 9
	// member 1: 16
	// size 5 running 5
}
