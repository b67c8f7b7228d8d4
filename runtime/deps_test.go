package runtime_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The runtime imports the standard library only: no YAML, no CLI, no
// logging choices (STYLE.md, "Which way imports may point").
func TestImportsStandardLibraryOnly(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps",
		"-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const self = "github.com/otpctl/otpctl/runtime"
	for _, path := range strings.Fields(string(out)) {
		if path != self && !strings.HasPrefix(path, self+"/") {
			t.Errorf("runtime depends on %s, which is not in the standard library", path)
		}
	}
}
