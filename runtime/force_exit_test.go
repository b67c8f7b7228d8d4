package runtime_test

import (
	"fmt"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

// ForceExit makes a process exit with a chosen reason even when it traps
// exits or the reason is normal: the fault injection behind `otpctl kill`.
func ExampleForceExit() {
	me, done := runtime.Attach()
	defer done()

	pid := runtime.Spawn(func(p *runtime.Process) {
		p.TrapExits(true)
		runtime.Receive(p, runtime.NewSubject[int](p), runtime.Forever)
	})
	mon := me.Monitor(pid)
	runtime.ForceExit(pid, runtime.Normal)
	d, _ := runtime.NewSelector[runtime.Down]().
		SelectingProcessDown(mon, func(d runtime.Down) runtime.Down { return d }).
		Select(me, time.Second)
	fmt.Println("down:", d.Reason)
	// Output:
	// down: normal
}
