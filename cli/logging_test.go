package cli

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/otpctl/otpctl/live"
)

func TestEventLogLines(t *testing.T) {
	at := time.Date(2026, 11, 24, 20, 36, 22, 0, time.UTC)
	cases := []struct {
		e    live.Event
		json string
		text string
	}{
		{
			live.Event{Time: at, Type: "started", Path: "shop/web", Kind: "web", Pid: "<0.12>", Cause: "boot"},
			`{"time":"2026-11-24T20:36:22Z","level":"INFO","msg":"started","event":"started","path":"shop/web","kind":"web","pid":"<0.12>","cause":"boot"}`,
			`time=2026-11-24T20:36:22.000Z level=INFO msg=started event=started path=shop/web kind=web pid=<0.12> cause=boot`,
		},
		{
			live.Event{Time: at, Type: "exited", Path: "shop/db", Kind: "exec", Pid: "<0.7>", OSPid: 4711, Reason: "exit status 2"},
			`{"time":"2026-11-24T20:36:22Z","level":"WARN","msg":"exited","event":"exited","path":"shop/db","kind":"exec","pid":"<0.7>","reason":"exit status 2","os_pid":4711}`,
			`time=2026-11-24T20:36:22.000Z level=WARN msg=exited event=exited path=shop/db kind=exec pid=<0.7> reason="exit status 2" os_pid=4711`,
		},
		{
			live.Event{Time: at, Type: "exited", Path: "shop/db", Reason: "normal"},
			`{"time":"2026-11-24T20:36:22Z","level":"INFO","msg":"exited","event":"exited","path":"shop/db","reason":"normal"}`,
			`time=2026-11-24T20:36:22.000Z level=INFO msg=exited event=exited path=shop/db reason=normal`,
		},
		{ // OTP's {shutdown, Term}: not abnormal
			live.Event{Time: at, Type: "exited", Path: "shop/db", Reason: "shutdown:maintenance"},
			`{"time":"2026-11-24T20:36:22Z","level":"INFO","msg":"exited","event":"exited","path":"shop/db","reason":"shutdown:maintenance"}`,
			`time=2026-11-24T20:36:22.000Z level=INFO msg=exited event=exited path=shop/db reason=shutdown:maintenance`,
		},
		{
			live.Event{Time: at, Type: "terminated", Path: "shop/w2", Pid: "<0.9>", Reason: "shutdown", Cause: "sibling", Trigger: "shop/w1"},
			`{"time":"2026-11-24T20:36:22Z","level":"INFO","msg":"terminated","event":"terminated","path":"shop/w2","pid":"<0.9>","reason":"shutdown","cause":"sibling","trigger":"shop/w1"}`,
			`time=2026-11-24T20:36:22.000Z level=INFO msg=terminated event=terminated path=shop/w2 pid=<0.9> reason=shutdown cause=sibling trigger=shop/w1`,
		},
		{
			live.Event{Time: at, Type: "give_up", Path: "shop", Kind: "one_for_one", Reason: "reached_max_restart_intensity", Trigger: "shop/web"},
			`{"time":"2026-11-24T20:36:22Z","level":"ERROR","msg":"give_up","event":"give_up","path":"shop","kind":"one_for_one","reason":"reached_max_restart_intensity","trigger":"shop/web"}`,
			`time=2026-11-24T20:36:22.000Z level=ERROR msg=give_up event=give_up path=shop kind=one_for_one reason=reached_max_restart_intensity trigger=shop/web`,
		},
		{
			live.Event{Time: at, Type: "reload", Added: []string{"shop/a"}, Changed: []string{"shop/b", "shop/c"}},
			`{"time":"2026-11-24T20:36:22Z","level":"INFO","msg":"reload","event":"reload","added":["shop/a"],"changed":["shop/b","shop/c"]}`,
			`time=2026-11-24T20:36:22.000Z level=INFO msg=reload event=reload added=[shop/a] changed="[shop/b shop/c]"`,
		},
	}
	for _, c := range cases {
		for _, format := range []string{"json", "text"} {
			var b bytes.Buffer
			l, err := newEventLogger(&b, format)
			if err != nil {
				t.Fatal(err)
			}
			l.push(c.e)
			l.close()
			want := c.json
			if format == "text" {
				want = c.text
			}
			if got := strings.TrimSuffix(b.String(), "\n"); got != want {
				t.Errorf("%s:\n got %s\nwant %s", format, got, want)
			}
		}
	}
	if _, err := newLogger(nil, "xml"); err == nil {
		t.Error("--log-format xml accepted")
	}
}

func TestEventLoggerKeepsOrderAndDrains(t *testing.T) {
	var b bytes.Buffer
	l, err := newEventLogger(&b, "json")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		l.push(live.Event{Type: "started", Path: fmt.Sprint("shop/w", i)})
		if i == 499 {
			l.say(slog.LevelInfo, "running", "tree", "shop")
		}
	}
	l.close()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 1001 {
		t.Fatalf("%d lines, want 1001", len(lines))
	}
	if !strings.Contains(lines[500], `"msg":"running","tree":"shop"`) {
		t.Fatalf("line 500 = %s, want run's own line between the events", lines[500])
	}
	lines = append(lines[:500], lines[501:]...)
	for i, line := range lines {
		if !strings.Contains(line, fmt.Sprintf(`"path":"shop/w%d"`, i)) {
			t.Fatalf("line %d = %s", i, line)
		}
	}
	l.push(live.Event{Type: "late"}) // after close: dropped, no panic
}
