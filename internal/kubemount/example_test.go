package kubemount_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/otpctl/otpctl/internal/kubemount"
)

// A ConfigMap with one key, updated once: the file read through its link
// changes, the link itself does not, and the folder the old contents were
// in is gone.
func Example() {
	tmp, err := os.MkdirTemp("", "kubemount")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "otpctl") // as /etc/otpctl in a pod
	_ = os.Mkdir(dir, 0o755)
	v, _ := kubemount.Mount(dir, map[string]string{"tree.yaml": "version: 1\n"})
	link, _ := os.Readlink(filepath.Join(dir, "tree.yaml"))
	before, _ := os.Readlink(filepath.Join(dir, kubemount.Data))

	_ = v.Update(map[string]string{"tree.yaml": "version: 1 # new\n"})
	text, _ := os.ReadFile(filepath.Join(dir, "tree.yaml"))
	after, _ := os.Readlink(filepath.Join(dir, kubemount.Data))
	_, err = os.Stat(filepath.Join(dir, before))
	fmt.Println(link)
	fmt.Print(string(text))
	fmt.Println(before != after, os.IsNotExist(err))
	// Output:
	// ..data/tree.yaml
	// version: 1 # new
	// true true
}
