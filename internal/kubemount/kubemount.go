package kubemount

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The names the kubelet gives the links of a volume.
const (
	// Data is the link to the current timestamped folder.
	Data = "..data"
	// DataTmp is the new link, renamed over Data.
	DataTmp = "..data_tmp"
)

// Volume is a mounted ConfigMap volume in the folder Dir.
type Volume struct {
	Dir string
}

// Mount lays out the volume in the folder dir (which must exist) with
// files (key -> contents) and returns it.
func Mount(dir string, files map[string]string) (*Volume, error) {
	v := &Volume{Dir: dir}
	return v, v.Update(files)
}

// Update replaces the volume's files by files, as the kubelet updates a
// ConfigMap: each file is written with mode 0644 into a new timestamped
// folder, and the folder is swapped in (see Swap).
func (v *Volume) Update(files map[string]string) error {
	return v.Swap(func(folder string) error {
		for k, text := range files {
			if err := os.WriteFile(filepath.Join(folder, k), []byte(text), 0o644); err != nil {
				return err
			}
		}
		return nil
	})
}

// Swap is Update with the files made by write, in the new timestamped
// folder whose path it is given (a test may put there what the kubelet
// would not: a FIFO, a file others may write). Then, in this order: the
// link ..data_tmp to the new folder is made and renamed over ..data; a
// link KEY -> ..data/KEY is made for each key that has none; the links of
// keys no longer in the folder are removed; the old folder is removed.
func (v *Volume) Swap(write func(folder string) error) error {
	folder, err := os.MkdirTemp(v.Dir, time.Now().UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		return err
	}
	if err := os.Chmod(folder, 0o755); err != nil {
		return err
	}
	if err := write(folder); err != nil {
		return fmt.Errorf("kubemount: writing %s: %w", folder, err)
	}
	old, err := os.Readlink(filepath.Join(v.Dir, Data))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	tmp := filepath.Join(v.Dir, DataTmp)
	if err := os.Symlink(filepath.Base(folder), tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(v.Dir, Data)); err != nil {
		return err
	}
	keys, err := os.ReadDir(folder)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, k := range keys {
		want[k.Name()] = true
		link := filepath.Join(v.Dir, k.Name())
		if _, err := os.Lstat(link); errors.Is(err, os.ErrNotExist) {
			if err := os.Symlink(filepath.Join(Data, k.Name()), link); err != nil {
				return err
			}
		}
	}
	links, err := os.ReadDir(v.Dir)
	if err != nil {
		return err
	}
	for _, l := range links {
		if !strings.HasPrefix(l.Name(), "..") && !want[l.Name()] && l.Type()&os.ModeSymlink != 0 {
			if err := os.Remove(filepath.Join(v.Dir, l.Name())); err != nil {
				return err
			}
		}
	}
	if old != "" {
		return os.RemoveAll(filepath.Join(v.Dir, old))
	}
	return nil
}
