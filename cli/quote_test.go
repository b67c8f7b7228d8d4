package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIncludeOfNonTreeFileQuotesNothing: an include of a file that is not
// a tree file (a password file) is refused without quoting it, by
// validate, run, a reload (its reload_failed event and its reply) and the
// event stream.
func TestIncludeOfNonTreeFileQuotesNothing(t *testing.T) {
	dir := t.TempDir()
	shadow := filepath.Join(dir, "shadow")
	os.WriteFile(shadow, []byte("root:$6$saltSECRET$hashSECRETQWERTY/asdf.zxcv:19700:0:99999:7:::\n"+
		"daemon:*:19700:0:99999:7:::\nalice:$y$j9T$salt2SECRET$hash2SECRET:19701:0:99999:7:::\n"), 0o640)
	leaks := func(s string) bool { return strings.Contains(s, "SECRET") || strings.Contains(s, "$6$") }
	const safe = "version: 1\nname: t\nsupervisor:\n  children:\n    - {name: a, kind: echo}\n"
	const bad = "version: 1\nname: t\nsupervisor:\n  children:\n    - {name: a, kind: echo}\n    - {name: s, include: shadow}\n"
	wantMsg := shadow + ":1:1: not a tree file"

	badFile := writeTree(t, dir, "bad.yaml", bad)
	xdg := t.TempDir()
	for _, args := range [][]string{{"validate", badFile}, {"validate", "--json", badFile}, {"run", badFile}} {
		res := otpctl(t, []string{"XDG_RUNTIME_DIR=" + xdg}, args...)
		if res.code != 1 || leaks(res.stdout+res.stderr) || !strings.Contains(res.stdout+res.stderr, "not a tree file") {
			t.Errorf("otpctl %s: status %d, want 1, %q and nothing of the file:\n%s%s", strings.Join(args, " "), res.code, wantMsg, res.stdout, res.stderr)
		}
	}

	file := writeTree(t, dir, "t.yaml", safe)
	r := startRun(t, xdg, file)
	r.waitEvent(0, "started t/a boot")
	r.mustCtl("tree") // answered once the files are watched
	mark := r.count()
	saveRenamed(t, file, bad)
	ev, mark := r.nextReload(mark)
	if ev.Event != "reload_failed" || len(ev.Errors) != 1 || !strings.Contains(ev.Errors[0], wantMsg) || leaks(strings.Join(ev.Errors, "\n")) {
		t.Errorf("the watcher's reload: %+v", ev)
	}
	res := r.ctl("reload")
	if res.code != 1 || leaks(res.stdout+res.stderr) || !strings.Contains(res.stderr, wantMsg) {
		t.Errorf("otpctl reload: status %d:\n%s%s", res.code, res.stdout, res.stderr)
	}
	r.nextReload(mark)
	if out := r.mustCtl("events", "--json"); leaks(out) || !strings.Contains(out, "not a tree file") {
		t.Errorf("otpctl events:\n%s", out)
	}
	r.mustCtl("shutdown")
	r.wait()
	if leaks(r.stderr()) {
		t.Errorf("run's log quotes the file:\n%s", r.stderr())
	}
}
