package trust_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/otpctl/otpctl/internal/trust"
)

// A tree file that others may write is refused, and the error says which
// file and why; once its mode is fixed it passes.
func ExamplePath() {
	dir, _ := os.MkdirTemp("", "trust") // 0700, the user's own
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "tree.yaml")
	_ = os.WriteFile(file, []byte("version: 1\n"), 0o600)
	_ = os.Chmod(file, 0o666)
	uid := uint32(os.Geteuid())

	var te *trust.Error
	if err := trust.Path(file, uid); errors.As(err, &te) {
		fmt.Println(te.What, filepath.Base(te.Path), te.Problem)
	}
	_ = os.Chmod(file, 0o644)
	fmt.Println(trust.Path(file, uid))
	// Output:
	// file tree.yaml is writable by others
	// <nil>
}
