package builtin_test

import (
	"flag"
	"os"
	"testing"

	"github.com/otpctl/otpctl/spec"
	"github.com/otpctl/otpctl/workers"
	"github.com/otpctl/otpctl/workers/builtin"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from what the code says now")

// TestBadArgsWording loads testdata/bad-args.yaml, one mistake in the args
// of each built-in kind per line, and compares every diagnostic, exactly,
// with testdata/bad-args.golden: the words `otpctl validate` prints, which
// must read as a person wrote them (no raw pattern, no library jargon).
func TestBadArgsWording(t *testing.T) {
	const file, goldenFile = "testdata/bad-args.yaml", "testdata/bad-args.golden"
	reg := workers.NewRegistry()
	builtin.Register(reg)
	_, err := spec.Load(file, reg)
	if err == nil {
		t.Fatalf("%s validated", file)
	}
	got := err.Error() + "\n"
	if *update {
		if err := os.WriteFile(goldenFile, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatalf("%v (go test ./workers/builtin/ -run %s -update writes it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from what validate says:\n--- got ---\n%s--- want ---\n%s", goldenFile, got, want)
	}
}
