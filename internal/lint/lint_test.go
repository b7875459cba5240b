package lint

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

const module = "github.com/samsa-streaming/samsa"

// brokerInternals are the packages that make up the broker. Services,
// user-facing libraries and cmd/ reach them only through a Kafka client
// (or, for cmd/, through internal/node).
var brokerInternals = []string{
	"internal/batch", "internal/broker", "internal/controller", "internal/coordinator", "internal/errcode",
	"internal/fs", "internal/group", "internal/log", "internal/metadata",
	"internal/partition", "internal/protocol", "internal/replication", "internal/txn",
}

// servicePkgs are packages under internal/ that are services or client-side
// libraries: they talk to brokers as Kafka clients only. (Packages outside
// internal/, cmd/ and test/ are checked the same way.)
var servicePkgs = []string{
	"internal/loadgen", "internal/registry", "internal/restproxy", "internal/connect",
	"internal/streamsql", "internal/console", "internal/exporter", "internal/httpserve",
}

// storagePkgs keep data on disk and must do file I/O through internal/fs.
var storagePkgs = []string{
	"internal/log", "internal/partition", "internal/controller", "internal/replication",
	"internal/coordinator", "internal/group", "internal/txn", "internal/metadata", "internal/batch",
}

// osFileAPIs are the os functions that touch the file system.
var osFileAPIs = []string{
	"Open", "OpenFile", "Create", "CreateTemp", "Rename", "Remove", "RemoveAll",
	"ReadFile", "WriteFile", "ReadDir", "Mkdir", "MkdirAll", "MkdirTemp", "Stat", "Lstat",
	"Truncate", "Chmod", "Link", "Symlink",
}

// goPackage is what `go list -json` says of a package.
type goPackage struct {
	Dir          string
	ImportPath   string
	Name         string
	Export       string
	GoFiles      []string
	TestGoFiles  []string
	XTestGoFiles []string
	Imports      []string
	Module       *struct{ Path string }
}

var (
	listOnce sync.Once
	listed   []*goPackage
	exports  map[string]string
	listErr  error
)

// modulePackages lists the module's packages with export data for every
// dependency (the go command builds what it must, from its cache).
func modulePackages(t *testing.T) []*goPackage {
	t.Helper()
	listOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			listErr = err
			return
		}
		cmd := exec.Command("go", "list", "-e", "-export", "-deps", "-json", "./...")
		cmd.Dir = root
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			listErr = fmt.Errorf("go list: %w: %s", err, stderr.String())
			return
		}
		exports = map[string]string{}
		dec := json.NewDecoder(bytes.NewReader(out))
		for {
			var p goPackage
			if err := dec.Decode(&p); err == io.EOF {
				break
			} else if err != nil {
				listErr = fmt.Errorf("go list output: %w", err)
				return
			}
			if p.Export != "" {
				exports[p.ImportPath] = p.Export
			}
			if p.Module != nil && p.Module.Path == module {
				listed = append(listed, &p)
			}
		}
	})
	if listErr != nil {
		t.Fatal(listErr)
	}
	return listed
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// rel is the import path without the module prefix ("internal/broker").
func rel(importPath string) string {
	return strings.TrimPrefix(strings.TrimPrefix(importPath, module), "/")
}

func under(p string, roots []string) bool {
	for _, r := range roots {
		if p == r || strings.HasPrefix(p, r+"/") {
			return true
		}
	}
	return false
}

// isService reports whether a package talks to brokers only as a client.
func isService(p string) bool {
	if under(p, servicePkgs) {
		return true
	}
	return p != "" && !under(p, []string{"internal", "cmd", "test"})
}

func TestImports(t *testing.T) {
	for _, p := range modulePackages(t) {
		from := rel(p.ImportPath)
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			to := rel(imp)
			switch {
			case to == "internal/broker" && from != "internal/node":
				t.Errorf("%s imports internal/broker: only internal/node composes the broker", from)
			case isService(from) && (under(to, brokerInternals) || to == "internal/node"):
				t.Errorf("%s is a service or client library and imports %s: it must reach brokers as a Kafka client", from, to)
			case under(from, []string{"cmd"}) && under(to, brokerInternals):
				t.Errorf("%s imports %s: commands reach the broker through internal/node or as a Kafka client", from, to)
			case from == "internal/txn" && to == "internal/group":
				t.Errorf("internal/txn imports internal/group: shared pieces live in internal/coordinator")
			}
		}
	}
}

// parsed is one package's parsed files, test files included.
type parsed struct {
	pkg     *goPackage
	fset    *token.FileSet
	files   []*ast.File // non-test files first
	nonTest int
}

func parseAll(t *testing.T) []*parsed {
	t.Helper()
	var out []*parsed
	for _, p := range modulePackages(t) {
		fset := token.NewFileSet()
		pp := &parsed{pkg: p, fset: fset}
		names := append(append(append([]string{}, p.GoFiles...), p.TestGoFiles...), p.XTestGoFiles...)
		for i, name := range names {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.ParseComments)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			pp.files = append(pp.files, f)
			if i < len(p.GoFiles) {
				pp.nonTest++
			}
		}
		out = append(out, pp)
	}
	return out
}

func TestStorageFileIO(t *testing.T) {
	for _, pp := range parseAll(t) {
		if !under(rel(pp.pkg.ImportPath), storagePkgs) {
			continue
		}
		for _, f := range pp.files[:pp.nonTest] {
			osName := importName(f, "os")
			if osName == "" {
				continue
			}
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == osName && slices.Contains(osFileAPIs, sel.Sel.Name) {
					t.Errorf("%s: os.%s in a storage package: use internal/fs so faults can be injected", pp.fset.Position(sel.Pos()), sel.Sel.Name)
				}
				return true
			})
		}
	}
}

// importName is the local name of an import of path in f, or "".
func importName(f *ast.File, path string) string {
	for _, imp := range f.Imports {
		if strings.Trim(imp.Path.Value, `"`) != path {
			continue
		}
		if imp.Name != nil {
			return imp.Name.Name
		}
		return filepath.Base(path)
	}
	return ""
}

func TestContextFirst(t *testing.T) {
	for _, pp := range parseAll(t) {
		for _, f := range pp.files {
			ctxName := importName(f, "context")
			if ctxName == "" {
				continue
			}
			ast.Inspect(f, func(n ast.Node) bool {
				var ft *ast.FuncType
				lit := false
				switch fn := n.(type) {
				case *ast.FuncDecl:
					ft = fn.Type
				case *ast.FuncLit:
					ft, lit = fn.Type, true
				}
				if ft == nil || ft.Params == nil {
					return true
				}
				pos := 0
				for _, field := range ft.Params.List {
					count := max(len(field.Names), 1)
					if isSel(field.Type, ctxName, "Context") && pos > 0 && !testingFirst(ft, pos) && !(lit && receiverFirst(ft, pos)) {
						t.Errorf("%s: context.Context is parameter %d; it goes first", pp.fset.Position(field.Pos()), pos+1)
					}
					pos += count
				}
				return true
			})
		}
	}
}

// receiverFirst allows a function literal standing in for a method
// expression, f(b *Broker, ctx, …): a pointer receiver precedes the context.
func receiverFirst(ft *ast.FuncType, ctxPos int) bool {
	_, ok := ft.Params.List[0].Type.(*ast.StarExpr)
	return ok && ctxPos == 1
}

func isSel(e ast.Expr, pkg, name string) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == pkg && sel.Sel.Name == name
}

// testingFirst allows the test helper convention f(t *testing.T, ctx, …):
// only a *testing.T/B/F or testing.TB precedes the context.
func testingFirst(ft *ast.FuncType, ctxPos int) bool {
	if ctxPos != 1 {
		return false
	}
	first := ft.Params.List[0].Type
	if star, ok := first.(*ast.StarExpr); ok {
		first = star.X
	}
	for _, n := range []string{"T", "B", "F", "TB"} {
		if isSel(first, "testing", n) {
			return true
		}
	}
	return false
}

func TestErrorfWraps(t *testing.T) {
	modulePackages(t)
	errType := types.Universe.Lookup("error").Type().Underlying().(*types.Interface)
	for _, pp := range parseAll(t) {
		files := pp.files[:pp.nonTest]
		if len(files) == 0 {
			continue
		}
		info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Uses: map[*ast.Ident]types.Object{}}
		conf := types.Config{
			Importer: importer.ForCompiler(pp.fset, "gc", func(path string) (io.ReadCloser, error) {
				exp, ok := exports[path]
				if !ok {
					return nil, fmt.Errorf("no export data for %s", path)
				}
				return os.Open(exp)
			}),
			Error: func(error) {},
		}
		if _, err := conf.Check(pp.pkg.ImportPath, pp.fset, files, info); err != nil {
			t.Fatalf("type-check %s: %v", pp.pkg.ImportPath, err)
		}
		for _, f := range files {
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) < 2 || !isFunc(info, call.Fun, "fmt", "Errorf") {
					return true
				}
				tv := info.Types[call.Args[0]]
				if tv.Value == nil || tv.Value.Kind() != constant.String {
					return true
				}
				format := constant.StringVal(tv.Value)
				if strings.Contains(format, "%w") {
					return true
				}
				for _, a := range call.Args[1:] {
					if at := info.Types[a].Type; at != nil && types.Implements(at, errType) {
						t.Errorf("%s: fmt.Errorf(%q) formats an error without %%w", pp.fset.Position(call.Pos()), format)
						break
					}
				}
				return true
			})
		}
	}
}

func isFunc(info *types.Info, fun ast.Expr, pkg, name string) bool {
	sel, ok := fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	fn, ok := info.Uses[sel.Sel].(*types.Func)
	return ok && fn.Pkg() != nil && fn.Pkg().Path() == pkg && fn.Name() == name
}

func TestLayout(t *testing.T) {
	for _, p := range modulePackages(t) {
		r := rel(p.ImportPath)
		if len(p.GoFiles) > 0 && !slices.Contains(p.GoFiles, "doc.go") {
			t.Errorf("%s has no doc.go", r)
		}
		switch filepath.Base(r) {
		case "util", "utils", "common", "helpers", "helper", "base", "misc":
			t.Errorf("%s: no util/common/helpers/base packages; put a helper next to its caller", r)
		}
		for _, name := range slices.Concat(p.GoFiles, p.TestGoFiles, p.XTestGoFiles) {
			if n := countLines(t, filepath.Join(p.Dir, name)); n > 1500 {
				t.Errorf("%s/%s has %d lines; keep files under 1,500", r, name, n)
			}
		}
	}
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		n++
	}
	return n
}

// notYet are the words of a skip that hides a missing capability.
var notYet = []string{"yet", "not served", "not supported", "not implemented", "unsupported"}

func TestNoSkipForMissingFeatures(t *testing.T) {
	for _, pp := range parseAll(t) {
		for _, f := range pp.files[pp.nonTest:] {
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || (sel.Sel.Name != "Skip" && sel.Sel.Name != "Skipf") || len(call.Args) == 0 {
					return true
				}
				lit, ok := call.Args[0].(*ast.BasicLit)
				if !ok {
					return true
				}
				msg := strings.ToLower(lit.Value)
				for _, w := range notYet {
					if strings.Contains(msg, w) {
						t.Errorf("%s: a skip for a missing capability (%s): a missing feature must fail", pp.fset.Position(call.Pos()), lit.Value)
						break
					}
				}
				return true
			})
		}
	}
}
