package cli

import (
	"fmt"

	ucli "github.com/urfave/cli/v2"
)

func init() {
	register(&ucli.Command{
		Name:  "socket",
		Usage: "print the control socket's path",
		Description: "Prints the path of the control socket the other commands talk to: --socket,\n" +
			"the socket of --name, $OTPCTL_SOCKET, or that of the only instance running, for\n" +
			"the control API: curl --unix-socket \"$(otpctl socket)\" http://otpctl/v1/tree",
		Flags: instanceFlags(),
		Action: func(c *ucli.Context) error {
			if c.NArg() != 0 {
				return exit(ExitUsage, "socket: no arguments are expected")
			}
			s, err := socketFor(c, "")
			if err != nil {
				return failed(err)
			}
			fmt.Fprintln(c.App.Writer, s)
			return nil
		},
	})
}
