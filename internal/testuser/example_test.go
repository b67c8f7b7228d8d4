package testuser_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/otpctl/otpctl/internal/testuser"
)

// Stat is what a failing test prints about the files at issue: each one's
// type, permission bits and owner, or that it is missing.
func ExampleStat() {
	dir, _ := os.MkdirTemp("", "testuser")
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "tree.yaml")
	_ = os.WriteFile(file, nil, 0o600)
	_ = os.Chmod(file, 0o640)
	out := testuser.Stat(file, filepath.Join(dir, "gone.yaml"))
	out = strings.ReplaceAll(out, dir, "DIR")
	// The owner is whoever runs the example.
	out = strings.ReplaceAll(out, fmt.Sprintf("uid %d", os.Getuid()), "uid ME")
	fmt.Print(out)
	// Output:
	// DIR/tree.yaml: ---------- 0640 uid ME
	// DIR/gone.yaml: missing
}
