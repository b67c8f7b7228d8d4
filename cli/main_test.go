package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

var bin struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		if bin.dir != "" {
			os.RemoveAll(bin.dir)
		}
		os.Exit(code)
	}))
}

// otpctlBin builds cmd/otpctl once per test binary and returns its path:
// end-to-end tests drive the real binary as a user would.
func otpctlBin(t testing.TB) string {
	t.Helper()
	bin.once.Do(func() {
		bin.dir, bin.err = os.MkdirTemp("", "otpctl-bin-")
		if bin.err != nil {
			return
		}
		bin.path = filepath.Join(bin.dir, "otpctl")
		out, err := exec.Command("go", "build", "-race", "-o", bin.path, "github.com/otpctl/otpctl/cmd/otpctl").CombinedOutput()
		if err != nil {
			bin.err = &buildError{err, out}
		}
	})
	if bin.err != nil {
		t.Fatalf("building otpctl: %v", bin.err)
	}
	return bin.path
}

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + string(e.out) }

// raceNoExitSleep spares each command of the race-built binary the second
// the race detector sleeps before exiting by default (GORACE's
// atexit_sleep_ms), keeping the GORACE options the tests were given: the
// end-to-end tests run hundreds of commands.
var raceNoExitSleep = "GORACE=" + strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0")

// result is what a finished otpctl command printed and its exit status.
type result struct {
	stdout, stderr string
	code           int
}

// otpctl runs the binary with args and env (added to the test's), waits up
// to a minute, and returns what it printed and its exit status.
func otpctl(t testing.TB, env []string, args ...string) result {
	t.Helper()
	return runBinary(t, otpctlBin(t), env, args...)
}

// runBinary is otpctl with another binary built on cli.Main (a program
// with kinds of its own).
func runBinary(t testing.TB, bin string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(append(os.Environ(), raceNoExitSleep), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("otpctl %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return result{stdout.String(), stderr.String(), code}
}

func TestVersionAndHelp(t *testing.T) {
	r := otpctl(t, nil, "--version")
	if r.code != 0 || !bytes.Contains([]byte(r.stdout), []byte("otpctl version")) {
		t.Fatalf("--version: code %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = otpctl(t, nil, "--help")
	if r.code != 0 || !bytes.Contains([]byte(r.stdout), []byte("otpctl validate tree.yaml")) {
		t.Fatalf("--help: code %d, stdout %q", r.code, r.stdout)
	}
}
