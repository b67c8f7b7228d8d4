package cli

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otpctl/otpctl/control"
)

// Issue 14 §7: a follower that falls behind the kept events is cut off
// with a last line saying why; `otpctl events --follow` reports it and
// exits 1 (it used to lose events without a word).
func TestEventsFollowCutOffExitsNonZero(t *testing.T) {
	r := runYAML(t, "shop.yaml", `version: 1
name: shop
supervisor:
  max_frequency: 1000000
  period: 1s
  children:
    - {name: c, kind: counter}
`)
	r.mustCtl("wait", "shop/c", "--timeout", "30s")

	// A follower whose output nobody reads for a while.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	ev := exec.Command(r.bin, "events", "--follow")
	ev.Env = append(append(os.Environ(), raceNoExitSleep), r.env...)
	var stderr bytes.Buffer
	ev.Stdout, ev.Stderr = pw, &stderr
	if err := ev.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	exited := make(chan error, 1)
	go func() { exited <- ev.Wait() }()
	waited := false
	defer func() {
		if !waited {
			ev.Process.Kill()
			<-exited
		}
	}()
	out := bufio.NewReader(pr)
	if _, err := out.ReadString('\n'); err != nil { // it follows
		t.Fatalf("events --follow printed nothing: %v, %s", err, stderr.String())
	}

	// More events than the instance keeps (10,000) come meanwhile.
	cl := control.NewClient(filepath.Join(r.dir, "otpctl", "shop.sock"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for r.count() < 12000 && ctx.Err() == nil {
		cl.Kill(ctx, "shop/c", "boom") // refused while it restarts: fine
	}
	if ctx.Err() != nil {
		t.Fatalf("only %d events logged", r.count())
	}
	go io.Copy(io.Discard, out)
	select {
	case err := <-exited:
		waited = true
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "the event stream") {
			t.Fatalf("events --follow cut off: %v, stderr %q; want exit 1 saying why", err, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("events --follow was never cut off; stderr %q", stderr.String())
	}
}
