package runtime_test

import (
	"testing"
	"time"

	"github.com/otpctl/otpctl/runtime"
)

func TestFakeClock(t *testing.T) {
	start := time.Unix(100, 0)
	c := runtime.NewFakeClock(start)
	if !c.Now().Equal(start) {
		t.Fatalf("Now() = %v, want %v", c.Now(), start)
	}
	t3 := c.NewTimer(3 * time.Second)
	t1 := c.NewTimer(time.Second)
	t2 := c.NewTimer(2 * time.Second)
	stopped := c.NewTimer(time.Second)
	if !stopped.Stop() {
		t.Error("Stop of a pending timer said false")
	}
	if stopped.Stop() {
		t.Error("a second Stop said true")
	}
	if n := c.Timers(); n != 3 {
		t.Errorf("Timers() = %d, want 3", n)
	}
	fired := func(tm runtime.Timer) bool {
		select {
		case <-tm.C():
			return true
		default:
			return false
		}
	}
	c.Advance(999 * time.Millisecond)
	if fired(t1) || fired(t2) || fired(t3) {
		t.Fatal("a timer fired early")
	}
	c.Advance(time.Millisecond + time.Second) // t1 and t2 are due
	if !fired(t1) || !fired(t2) || fired(t3) {
		t.Error("Advance fired the wrong timers")
	}
	if t1.Stop() {
		t.Error("Stop of a fired timer said true")
	}
	if fired(stopped) {
		t.Error("a stopped timer fired")
	}
	if got, want := c.Now(), start.Add(2*time.Second); !got.Equal(want) {
		t.Errorf("Now() = %v, want %v", got, want)
	}
	now := c.NewTimer(0) // due at once
	if !fired(now) {
		t.Error("a zero timer did not fire at once")
	}
	if c.AwaitTimers(2, time.Millisecond) {
		t.Error("AwaitTimers(2) saw two timers where there is one")
	}
	if !c.AwaitTimers(1, time.Millisecond) {
		t.Error("AwaitTimers(1) missed the pending timer")
	}
	t3.Stop()
}

func TestSendAfter(t *testing.T) {
	clock := runtime.NewFakeClock(time.Unix(0, 0))
	me := attach(t, runtime.WithClock(clock))
	s := runtime.NewSubject[string](me)
	runtime.SendAfter(s, "later", time.Minute)
	cancelled := runtime.SendAfter(s, "never", time.Minute)
	cancelled.Stop()
	clock.Advance(time.Minute)
	if got := recv(t, me, s); got != "later" {
		t.Errorf("got %q", got)
	}
	if _, err := runtime.Receive(me, s, 0); err == nil {
		t.Error("a cancelled SendAfter sent")
	}
}
