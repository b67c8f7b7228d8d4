package cli

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/otpctl/otpctl/control"
	ucli "github.com/urfave/cli/v2"
)

// instanceFlags pick the instance a command talks to (and the socket `run`
// serves): --socket, else --name, else OTPCTL_SOCKET, else the instance
// named like the path's root, or the only one running. (`start` spells
// --name --instance: its --name names a new child.)
func instanceFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "socket", Usage: "the control socket `PATH` (default: $OTPCTL_SOCKET, or the instance's socket in the socket folder)"},
		&ucli.StringFlag{Name: "name", Aliases: []string{"instance"}, Usage: "the instance `NAME` (default: the one named like PATH's root, or the only one running)"},
	}
}

// instanceName is the --name (or --instance) the command was given.
func instanceName(c *ucli.Context) string {
	if n := c.String("instance"); n != "" {
		return n
	}
	if c.Command.Name == "start" {
		return ""
	}
	return c.String("name")
}

// socketFor returns the control socket a client command uses: --socket,
// the socket of --name, $OTPCTL_SOCKET, or, in the socket folder, the
// live instance named like path's root (paths start with the tree's name),
// or the only live one.
func socketFor(c *ucli.Context, path string) (string, error) {
	return pickSocket(c.String("socket"), instanceName(c), path)
}

// pickSocket is socketFor given the --socket and --name (or --instance).
func pickSocket(socket, name, path string) (string, error) {
	if socket != "" {
		return socket, nil
	}
	if name != "" {
		return control.SocketPath(name), nil
	}
	if s := os.Getenv("OTPCTL_SOCKET"); s != "" {
		return s, nil
	}
	dir := filepath.Dir(control.SocketPath("x"))
	if err := control.CheckFolder(dir); err != nil {
		return "", err
	}
	live := liveInstances(dir)
	root, _, _ := strings.Cut(path, "/")
	switch {
	case root != "" && slices.Contains(live, root):
		return control.SocketPath(root), nil
	case len(live) == 1:
		return control.SocketPath(live[0]), nil
	case len(live) == 0:
		return "", fmt.Errorf("%w in %s (start one with `otpctl run FILE`, or pick one with --name or --socket)", control.ErrNotRunning, dir)
	}
	return "", fmt.Errorf("%d instances are running (%s): pick one with --name", len(live), strings.Join(live, ", "))
}

// liveInstances lists the names of the instances whose socket in dir
// (a folder CheckFolder accepted) is the user's own and answers.
func liveInstances(dir string) []string {
	socks, _ := filepath.Glob(filepath.Join(dir, "*.sock"))
	var names []string
	for _, s := range socks {
		if control.CheckSocket(s) != nil {
			continue // not ours: never talked to
		}
		c, err := net.DialTimeout("unix", s, time.Second)
		if err != nil {
			continue
		}
		c.Close()
		names = append(names, strings.TrimSuffix(filepath.Base(s), ".sock"))
	}
	sort.Strings(names)
	return names
}

// client returns a client for the instance the flags pick (path, if the
// command has one, helps pick it).
func client(c *ucli.Context) (*control.Client, error) {
	s, err := socketFor(c, c.Args().First())
	if err != nil {
		return nil, exit(ExitFailure, "%v", err)
	}
	return control.NewClient(s), nil
}

// failed turns a client error into the command's one line and exit status.
func failed(err error) error {
	var ec ucli.ExitCoder
	if errors.As(err, &ec) {
		return err // a usage error found on the way
	}
	var ce *control.Error
	if errors.As(err, &ce) {
		return exit(ExitFailure, "%s", ce.Message)
	}
	return exit(ExitFailure, "%v", err)
}

// onePath returns the command's single PATH argument.
func onePath(c *ucli.Context) (string, error) {
	if c.NArg() != 1 {
		return "", exit(ExitUsage, "%s: one PATH is expected (see otpctl %s --help)", c.Command.Name, c.Command.Name)
	}
	return c.Args().First(), nil
}
