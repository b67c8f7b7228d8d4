// Package docs checks the house rule that every package of the module is
// documented: a package comment that names the package ("Package x ..." or,
// for a command, "Command x ..."), a doc comment on every exported name, and
// a runnable Example (one with an "// Output:" comment) in the package's
// tests. Its own test runs Check over the whole module, so `go test ./...`
// fails when a change leaves a package or a name undocumented.
//
// It reads source files with go/parser only; it builds and runs nothing.
package docs

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Check reads the Go package in dir and returns what it lacks, one line
// each, as "FILE:LINE: problem" (or "DIR: problem" for the package as a
// whole); none means it is documented. A command (package main) needs no
// Example. A folder with no Go files returns nothing.
func Check(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var src, tests []*ast.File
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		if strings.HasSuffix(name, "_test.go") {
			tests = append(tests, f)
		} else {
			src = append(src, f)
		}
	}
	if len(src) == 0 {
		return nil, nil
	}
	var problems []string
	pkg := src[0].Name.Name
	if !hasPackageDoc(src, pkg, filepath.Base(dir)) {
		want := "Package " + pkg
		if pkg == "main" {
			want = "Command " + filepath.Base(dir)
		}
		problems = append(problems, fmt.Sprintf("%s: no package comment that starts %q", dir, want))
	}
	for _, f := range src {
		for _, d := range f.Decls {
			for _, what := range undocumented(d) {
				problems = append(problems, fmt.Sprintf("%s: %s has no doc comment", fset.Position(what.pos), what.name))
			}
		}
	}
	if pkg != "main" && !hasRunnableExample(tests) {
		problems = append(problems, fmt.Sprintf("%s: no runnable Example (a func Example… with an // Output: comment)", dir))
	}
	sort.Strings(problems)
	return problems, nil
}

// hasPackageDoc reports whether one of the files carries the package
// comment. Go joins every file's package comment, so a second one (or a
// blank line that cuts one off its package clause) shows up as a doc that
// does not start with the package's name.
func hasPackageDoc(files []*ast.File, pkg, folder string) bool {
	for _, f := range files {
		if f.Doc == nil {
			continue
		}
		text := f.Doc.Text()
		if strings.HasPrefix(text, "Package "+pkg+" ") || pkg == "main" && strings.HasPrefix(text, "Command "+folder+" ") {
			return true
		}
	}
	return false
}

type named struct {
	pos  token.Pos
	name string
}

// undocumented lists the exported names d declares without a doc comment:
// functions, methods of exported types, types, constants and variables (a
// trailing line comment counts for one of a group). Struct fields are left
// to review: many are plain enough that their type's doc covers them.
func undocumented(d ast.Decl) []named {
	var out []named
	switch d := d.(type) {
	case *ast.FuncDecl:
		if !d.Name.IsExported() || d.Doc != nil {
			return nil
		}
		if d.Recv != nil && !exportedReceiver(d.Recv.List[0].Type) {
			return nil
		}
		out = append(out, named{d.Pos(), d.Name.Name})
	case *ast.GenDecl:
		for _, spec := range d.Specs {
			switch s := spec.(type) {
			case *ast.TypeSpec:
				if s.Name.IsExported() && s.Doc == nil && d.Doc == nil {
					out = append(out, named{s.Pos(), "type " + s.Name.Name})
				}
			case *ast.ValueSpec:
				for _, n := range s.Names {
					if n.IsExported() && s.Doc == nil && s.Comment == nil && d.Doc == nil {
						out = append(out, named{n.Pos(), n.Name})
					}
				}
			}
		}
	}
	return out
}

func exportedReceiver(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.StarExpr:
		return exportedReceiver(x.X)
	case *ast.IndexExpr:
		return exportedReceiver(x.X)
	case *ast.IndexListExpr:
		return exportedReceiver(x.X)
	case *ast.Ident:
		return x.IsExported()
	}
	return false
}

// hasRunnableExample reports whether a test file has an Example function
// with an output comment, which `go test` runs and checks.
func hasRunnableExample(tests []*ast.File) bool {
	for _, f := range tests {
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !strings.HasPrefix(fn.Name.Name, "Example") || fn.Body == nil {
				continue
			}
			for _, cg := range f.Comments {
				if cg.Pos() < fn.Body.Lbrace || cg.End() > fn.Body.Rbrace {
					continue
				}
				if t := strings.TrimSpace(cg.Text()); strings.HasPrefix(t, "Output:") || strings.HasPrefix(t, "Unordered output:") {
					return true
				}
			}
		}
	}
	return false
}
