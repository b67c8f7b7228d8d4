package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// A one_for_all supervisor of two actors: one crashes, both are restarted,
// then the tree is shut down in reverse start order. The Events hook runs on
// the supervisor's goroutine, in order.
func ExampleStartSupervisor() {
	worker := func(p *runtime.Process) (runtime.Pid, error) {
		s, err := runtime.StartLink(p, runtime.Spec[int, string]{
			Loop: func(_ *runtime.Process, _ string, n int) runtime.Next[int] { return runtime.Continue(n + 1) },
		})
		return s.Owner(), err
	}
	sup, err := runtime.StartSupervisor(nil, runtime.SupervisorSpec{
		Flags: runtime.Flags{Strategy: runtime.OneForAll, MaxFrequency: 3, Period: 5 * time.Second},
		Path:  "shop",
		Children: []runtime.ChildSpec{
			{ID: "db", Start: worker, Kind: "db"},
			{ID: "web", Start: worker, Kind: "web"},
		},
		Events: func(e runtime.Event) {
			fmt.Println(e.Type, e.Path, e.Cause, e.Trigger, e.Reason)
		},
	})
	if err != nil {
		panic(err)
	}
	kids, _ := sup.WhichChildren() // as OTP: the last started first
	runtime.Exit(kids[1].Pid, errors.New("disk full"))
	sup.WhichChildren() // a round trip: the crash has been handled
	sup.Shutdown(context.Background())
	fmt.Println("exit:", sup.Reason())
	// Output:
	// started shop/db boot  <nil>
	// started shop/web boot  <nil>
	// exited shop/db   disk full
	// terminated shop/web sibling shop/db shutdown
	// started shop/db crash shop/db <nil>
	// started shop/web sibling shop/db <nil>
	// terminated shop/web shutdown  shutdown
	// terminated shop/db shutdown  shutdown
	// exit: shutdown
}
