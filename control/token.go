package control

import (
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"github.com/otpctl/otpctl/internal/trust"
)

// TokenFile is where `otpctl run --http` keeps its token: NAME.token beside
// the socket NAME.sock.
func TokenFile(socket string) string {
	return strings.TrimSuffix(socket, ".sock") + ".token"
}

// WriteTokenFile writes token to a new file at path, mode 0600. A regular
// file of the effective user's already there (a run's that did not get to
// remove it) is removed first; anything else there (a symlink, another
// user's file, a folder) is refused and left as it is. The file is created
// with O_EXCL and O_NOFOLLOW, so a symlink put there in between is never
// followed. remove removes the file, if it is still the one written.
func WriteTokenFile(path, token string) (remove func(), err error) {
	if fi, err := os.Lstat(path); err == nil {
		if err := ownRegular(path, fi); err != nil {
			return nil, err
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("token file: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("token file: %w", err)
	}
	_, werr := f.WriteString(token + "\n")
	written, serr := f.Stat()
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = serr
	}
	if werr != nil {
		os.Remove(path)
		return nil, fmt.Errorf("token file: %w", werr)
	}
	return func() {
		if fi, err := os.Lstat(path); err == nil && os.SameFile(fi, written) {
			os.Remove(path)
		}
	}, nil
}

// ownRegular refuses a file at path that is not a regular file owned by
// the effective user.
func ownRegular(path string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("token file %s: there is a %s there; refusing to use or remove it", path, typeName(fi))
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != uint32(os.Geteuid()) {
		return fmt.Errorf("token file %s is owned by %s, not by %s: refusing to use or remove it", path, trust.UserName(st.Uid), trust.UserName(uint32(os.Geteuid())))
	}
	return nil
}
