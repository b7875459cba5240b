package broker

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestAPIVersionNotes keeps the habit of issue #10: every NN_name.go file
// that registers an API key has, directly above its func init, a comment
// block with "Version notes" saying what each served version changes.
func TestAPIVersionNotes(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	apiFile := regexp.MustCompile(`^[0-9][0-9]_.*\.go$`)
	checked := 0
	for _, e := range entries {
		name := e.Name()
		if !apiFile.MatchString(name) || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || fn.Name.Name != "init" || !callsRegister(fn) {
				continue
			}
			checked++
			if fn.Doc == nil || !strings.Contains(fn.Doc.Text(), "Version notes") {
				t.Errorf("%s: the comment block directly above func init (the register call) lacks \"Version notes\"", name)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no NN_*.go file with a register call found")
	}
}

// callsRegister reports whether fn's body calls register(...).
func callsRegister(fn *ast.FuncDecl) bool {
	found := false
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok {
			if id, ok := c.Fun.(*ast.Ident); ok && id.Name == "register" {
				found = true
			}
		}
		return !found
	})
	return found
}
