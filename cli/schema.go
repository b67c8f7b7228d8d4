package cli

import (
	"fmt"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/otpctl/otpctl/schema"
)

func init() {
	register(&ucli.Command{
		Name:  "schema",
		Usage: "print the JSON Schema of tree files",
		Description: "Prints the JSON Schema (draft 2020-12) that tree files are checked against,\n" +
			"for editors and other tools. Each key has a description with its default.\n" +
			"A kind's args have their own schema: see otpctl kinds --json." +
			examples("otpctl schema > tree.schema.json",
				"",
				"then, first line of a tree file, for editors that use yaml-language-server:",
				"# yaml-language-server: $schema=./tree.schema.json",
				"",
				"or point it at the published copy:",
				"# yaml-language-server: $schema="+schema.TreeURL),
		Action: func(c *ucli.Context) error {
			if c.Args().Len() > 0 {
				return exit(ExitUsage, "schema takes no arguments")
			}
			_, err := fmt.Fprintln(c.App.Writer, strings.TrimRight(schema.TreeSchema(), "\n"))
			return err
		},
	})
}
