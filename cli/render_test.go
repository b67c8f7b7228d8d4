package cli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/otpctl/otpctl/live"
	"github.com/otpctl/otpctl/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s--- want\n%s", name, got, want)
	}
}

// sampleTree is a live tree at a fixed time: a nested rest_for_one
// supervisor, an exec worker with its OS pid, one with a health check, a
// stopped and a failed child, a dynamic supervisor with two children; last
// exits, and an operator's restart beside crash restarts.
func sampleTree(now time.Time) *live.Node {
	at := func(ago time.Duration) *time.Time { t := now.Add(-ago); return &t }
	return &live.Node{Path: "shop", Name: "shop", Type: "supervisor", Strategy: "one_for_one", State: "running",
		Pid: "<0.3>", Started: at(2*time.Hour + 5*time.Minute), Budget: &live.Budget{Used: 1, Max: 3, Period: "5s"},
		Children: []*live.Node{
			{Path: "shop/web", Name: "web", Type: "worker", Kind: "web", State: "running", Pid: "<0.41>", OSPid: 48213,
				Restarts: 3, CrashRestarts: 2, LastRestart: at(3 * time.Second), Started: at(3 * time.Second),
				LastExit: &live.Exit{Reason: "exit status 1", At: *at(3 * time.Second)}},
			{Path: "shop/db", Name: "db", Type: "worker", Kind: "exec", State: "running", Pid: "<0.42>", OSPid: 3127,
				Started: at(2*time.Hour + 5*time.Minute), Health: &live.Health{Status: "healthy", Last: "ok", At: at(time.Second)}},
			{Path: "shop/counter", Name: "counter", Type: "worker", Kind: "counter", State: "running", Pid: "<0.5>",
				Mailbox: 12, Started: at(2*time.Hour + 5*time.Minute)},
			{Path: "shop/workers", Name: "workers", Type: "supervisor", Strategy: "rest_for_one", State: "running", Pid: "<0.6>",
				Started: at(65 * time.Minute), Restarts: 1, CrashRestarts: 1, LastRestart: at(65 * time.Minute),
				LastExit: &live.Exit{Reason: "shutdown", At: *at(65 * time.Minute)},
				Budget:   &live.Budget{Used: 0, Max: 5, Period: "1m"},
				Children: []*live.Node{
					{Path: "shop/workers/w1", Name: "w1", Type: "worker", Kind: "echo", State: "running", Pid: "<0.7>", Started: at(65 * time.Minute)},
					{Path: "shop/workers/w2", Name: "w2", Type: "worker", Kind: "echo", State: "stopped", Restarts: 4, CrashRestarts: 4, LastRestart: at(26 * time.Hour),
						LastExit: &live.Exit{Reason: "normal", At: *at(26 * time.Hour)}},
				}},
			{Path: "shop/mailer", Name: "mailer", Type: "worker", Kind: "exec", State: "failed"},
			{Path: "shop/jobs", Name: "jobs", Type: "supervisor", Strategy: "one_for_one", Kind: "echo", Dynamic: true, MaxChildren: 100,
				State: "running", Pid: "<0.9>", Started: at(2 * time.Hour), Budget: &live.Budget{Used: 0, Max: 1, Period: "5s"},
				Children: []*live.Node{
					{Path: "shop/jobs/echo-1", Name: "echo-1", Type: "worker", Kind: "echo", State: "running", Pid: "<0.12>", Started: at(42 * time.Second)},
					{Path: "shop/jobs/night", Name: "night", Type: "worker", Kind: "echo", State: "restarting", Restarts: 1, CrashRestarts: 1, LastRestart: at(time.Second),
						LastExit: &live.Exit{Reason: "panic: a very long reason that goes on and on past the end of the line", At: *at(time.Second)}},
				}},
			{Path: "shop/pool", Name: "pool", Type: "supervisor", Strategy: "one_for_one", Kind: "echo", Pool: true, Size: 2, Dispatch: "round_robin",
				State: "running", Pid: "<0.14>", Started: at(2 * time.Hour), Budget: &live.Budget{Used: 0, Max: 1, Period: "5s"},
				Children: []*live.Node{
					{Path: "shop/pool/1", Name: "1", Type: "worker", Kind: "echo", State: "running", Pid: "<0.15>", Started: at(2 * time.Hour), Mailbox: 3},
					{Path: "shop/pool/2", Name: "2", Type: "worker", Kind: "echo", State: "running", Pid: "<0.16>", Started: at(30 * time.Second)},
				}},
		}}
}

func TestTreeRendering(t *testing.T) {
	now := time.Date(2026, 11, 24, 20, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	renderTree(&b, sampleTree(now), now)
	golden(t, "tree.golden", b.Bytes())
	for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if n := utf8.RuneCountInString(line); n > 80 {
			t.Errorf("line of %d columns: %q", n, line)
		}
	}
}

// The INFO column's health: the state, and while probes fail how many
// and the last one's error, cut short (all of it is in --json).
func TestHealthCell(t *testing.T) {
	for _, c := range []struct {
		h    *live.Health
		want string
	}{
		{nil, ""},
		{&live.Health{Status: "starting"}, "starting"},
		{&live.Health{Status: "starting", Last: "dial tcp 127.0.0.1:5432: connect: connection refused"},
			"starting: dial tcp 127.0.0.1:5432: connect: conne…"},
		{&live.Health{Status: "healthy", Last: "ok"}, "healthy"},
		{&live.Health{Status: "healthy", Last: "GET http://127.0.0.1:8080/: 503 Service Unavailable", Failures: 2},
			"healthy 2 failed: GET http://127.0.0.1:8080/: 503 Service…"},
		{&live.Health{Status: "unhealthy", Last: "exec pg_isready: exit status 2", Failures: 3},
			"unhealthy 3 failed: exec pg_isready: exit status 2"},
	} {
		if got := healthCell(c.h); got != c.want {
			t.Errorf("healthCell(%+v) = %q, want %q", c.h, got, c.want)
		}
	}
}

func TestAgo(t *testing.T) {
	cases := map[time.Duration]string{
		-time.Second:                  "0s",
		0:                             "0s",
		999 * time.Millisecond:        "0s",
		42 * time.Second:              "42s",
		5 * time.Minute:               "5m",
		5*time.Minute + 3*time.Second: "5m3s",
		2*time.Hour + 5*time.Minute:   "2h5m",
		26 * time.Hour:                "1d2h",
		72 * time.Hour:                "3d",
	}
	for d, want := range cases {
		if got := ago(d); got != want {
			t.Errorf("ago(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestShortDuration(t *testing.T) {
	cases := map[time.Duration]string{
		5 * time.Second: "5s", time.Minute: "1m", 90 * time.Second: "1m30s", time.Hour: "1h",
		time.Hour + time.Minute: "1h1m", 500 * time.Millisecond: "500ms",
	}
	for d, want := range cases {
		got := spec.FormatDuration(d)
		if got != want {
			t.Errorf("spec.FormatDuration(%v) = %q, want %q", d, got, want)
		}
		if back, err := time.ParseDuration(got); err != nil || back != d {
			t.Errorf("%q does not read back as %v", got, d)
		}
	}
}
