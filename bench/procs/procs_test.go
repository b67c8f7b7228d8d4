package procs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// W8 runs for otpctl alone with 10 children and a few kills, reports every
// figure, and leaves no process behind. It needs root (the proc connector).
func TestW8Otpctl(t *testing.T) {
	if err := Available(Otpctl); err != nil {
		t.Skip(err)
	}
	bin := filepath.Join(t.TempDir(), "otpctl")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/otpctl/otpctl/cmd/otpctl").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	res, err := W8(Options{System: Otpctl, N: 10, Kills: 3, Rest: 200 * time.Millisecond, Idle: 200 * time.Millisecond, Otpctl: bin, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"launch_s", "rss_bytes", "rss_per_child_bytes", "pss_bytes", "pss_per_child_bytes", "cpu_rest_pct", "kill_p50_ns", "kill_p99_ns"} {
		if _, ok := res[m]; !ok {
			t.Errorf("no %s in %v", m, res)
		}
	}
	if res["rss_bytes"] <= 0 || res["pss_bytes"] <= 0 || res["pss_bytes"] > res["rss_bytes"] || res["kill_p50_ns"] <= 0 {
		t.Errorf("figures %v: want an RSS, a PSS no larger and a restart time", res)
	}
	if left := sleeping(bin); len(left) > 0 {
		t.Errorf("left running: %v", left)
	}
}

// sleeping lists the processes that run sleep with this process's marker
// prefix, or the otpctl binary.
func sleeping(bin string) []string {
	var left []string
	prefix := "86400." + strconv.Itoa(os.Getpid())
	for _, pid := range allPids() {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err != nil {
			continue
		}
		if s := string(b); strings.Contains(s, prefix) || strings.HasPrefix(s, bin) {
			left = append(left, strings.ReplaceAll(s, "\x00", " "))
		}
	}
	return left
}
