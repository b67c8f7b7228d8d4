package cli

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/otpctl/otpctl/spec"
	"github.com/otpctl/otpctl/workers"
	"github.com/otpctl/otpctl/workers/builtin"
	ucli "github.com/urfave/cli/v2"
)

// builtinKinds is a private registry of the built-in kinds, as the binary
// has them.
func builtinKinds() *workers.Registry {
	reg := workers.NewRegistry()
	builtin.Register(reg)
	return reg
}

// TestExamplesValidate validates every examples/*.yaml with the built-in
// kinds, so the examples cannot rot. None yet is not a failure.
func TestExamplesValidate(t *testing.T) {
	files, err := filepath.Glob("../examples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("../examples/*.yml")
	files = append(files, more...)
	if len(files) == 0 {
		t.Skip("no examples/*.yaml yet")
	}
	reg := builtinKinds()
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			if _, err := spec.Load(file, reg); err != nil {
				t.Errorf("%s does not validate:\n%v", file, err)
			}
		})
	}
}

// TestReadmeSnippets validates each ```yaml block of README.md that is a
// tree file (it starts with version:), so the docs cannot drift from the
// format. Diagnostics carry README.md's own line numbers.
func TestReadmeSnippets(t *testing.T) {
	const readme = "../README.md"
	blocks, err := yamlBlocks(readme)
	if err != nil {
		t.Fatal(err)
	}
	reg := builtinKinds()
	n := 0
	for _, b := range blocks {
		if !strings.HasPrefix(b.text, "version:") {
			continue
		}
		n++
		// Pad with empty lines so that positions are README.md's; a
		// snippet without name: gets one at its end, where it moves no
		// line (README.md would not be a valid name).
		data := strings.Repeat("\n", b.line-1) + b.text
		if !regexp.MustCompile(`(?m)^name:`).MatchString(b.text) {
			data += "\nname: readme\n"
		}
		if _, err := spec.Parse(readme, []byte(data), reg); err != nil {
			t.Errorf("the YAML block at README.md:%d does not validate:\n%v", b.line, err)
		}
	}
	if n == 0 {
		t.Skip("README.md has no tree-file snippet yet")
	}
}

type block struct {
	line int // of the block's first line of YAML
	text string
}

// yamlBlocks returns the ```yaml fenced blocks of a Markdown file.
func yamlBlocks(file string) ([]block, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []block
	var cur *block
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		trimmed := strings.TrimSpace(text)
		switch {
		case cur == nil && (trimmed == "```yaml" || trimmed == "```yml"):
			cur = &block{line: line + 1}
		case cur != nil && trimmed == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += text + "\n"
		}
	}
	return out, sc.Err()
}

func TestYAMLBlocks(t *testing.T) {
	file := filepath.Join(t.TempDir(), "doc.md")
	os.WriteFile(file, []byte("# t\n\n```yaml\nversion: 1\nsupervisor: {}\n```\n\ntext\n```sh\nls\n```\n```yaml\na: 1\n```\n"), 0o644)
	blocks, err := yamlBlocks(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 2 || blocks[0].line != 4 || blocks[0].text != "version: 1\nsupervisor: {}\n" || blocks[1].line != 13 || blocks[1].text != "a: 1\n" {
		t.Fatalf("%+v", blocks)
	}
}

// TestReadmeCommands checks README.md's command line against the binary's:
// the command table has a row for every command and no other, each row's
// and each shell line's flags are the command's, and every `otpctl …`
// line of a code block names a command.
func TestReadmeCommands(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	app := App(nil, nil)
	flagRe := regexp.MustCompile(`(?:^|[ \[])--([a-z][a-z-]*)`)
	check := func(where, line string) string {
		words := strings.Fields(line)
		_, rest := splitFlags(words[1:], map[string]bool{"name": true, "socket": true}, true)
		if len(rest) == 0 {
			return ""
		}
		cmd := app.Command(rest[0])
		if cmd == nil || cmd.Hidden {
			t.Errorf("%s: %q is not a command: %s", where, rest[0], line)
			return ""
		}
		for _, m := range flagRe.FindAllStringSubmatch(line, -1) {
			if !slices.ContainsFunc(append(cmd.Flags, app.Flags...), func(f ucli.Flag) bool { return slices.Contains(f.Names(), m[1]) }) {
				t.Errorf("%s: otpctl %s has no flag --%s: %s", where, cmd.Name, m[1], line)
			}
		}
		return cmd.Name
	}
	rowRe := regexp.MustCompile("^\\| `(otpctl [^`]*)` \\|")
	codeRe := regexp.MustCompile(`^    (?:\S+=\$\()?(otpctl [^#)]*)`)
	documented := map[string]bool{}
	for i, line := range strings.Split(string(data), "\n") {
		where := fmt.Sprintf("README.md:%d", i+1)
		if m := rowRe.FindStringSubmatch(line); m != nil {
			documented[check(where, strings.ReplaceAll(m[1], `\|`, "|"))] = true
		} else if m := codeRe.FindStringSubmatch(line); m != nil {
			check(where, m[1])
		}
	}
	for _, c := range app.VisibleCommands() {
		if !documented[c.Name] {
			t.Errorf("README.md's command table has no row for otpctl %s", c.Name)
		}
	}
	if len(documented) < 10 {
		t.Errorf("README.md's command table has %d commands", len(documented))
	}
}
