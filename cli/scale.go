package cli

import (
	"fmt"
	"strconv"

	ucli "github.com/urfave/cli/v2"
)

func init() {
	register(&ucli.Command{
		Name:      "scale",
		Usage:     "resize a pool in place",
		ArgsUsage: "PATH N",
		Description: "Gives the pool at PATH N members, in place: new members start at the end\n" +
			"(PATH/4, PATH/5, …), surplus ones stop from the end, the others keep running.\n" +
			"N is 1 to 1024. The running tree keeps the new size until a reload sets the\n" +
			"file's. Prints `scaled PATH OLD → N`.",
		Flags: instanceFlags(),
		Action: func(c *ucli.Context) error {
			if c.NArg() != 2 {
				return exit(ExitUsage, "scale: PATH and a size are expected (otpctl scale PATH N)")
			}
			path := c.Args().Get(0)
			n, err := strconv.Atoi(c.Args().Get(1))
			if err != nil {
				return exit(ExitUsage, "scale: the size %q is not a whole number", c.Args().Get(1))
			}
			cl, err := client(c)
			if err != nil {
				return err
			}
			rep, err := cl.Scale(c.Context, path, n)
			if err != nil {
				return failed(err)
			}
			fmt.Fprintf(c.App.Writer, "scaled %s %d → %d\n", rep.Path, rep.Old, rep.Size)
			return nil
		},
	})
}
