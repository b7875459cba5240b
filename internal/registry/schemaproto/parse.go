package schemaproto

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"

	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/linker"
	"github.com/bufbuild/protocompile/reporter"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
)

// Limits on what Parse accepts, so that an untrusted schema cannot make
// the parser, the printer or the checker use unbounded time or memory.
const (
	maxFileBytes  = 1 << 20 // one .proto text
	maxTotalBytes = 8 << 20 // the schema and all its references
	maxDeps       = 1024    // references
	maxNesting    = 64      // nested {, [ and ( in one text
	maxErrors     = 8       // errors reported by one Parse
)

// mainFileName is the path under which the schema itself is compiled, and
// so the file name its error messages carry, unless a reference already
// uses that name.
const mainFileName = "schema.proto"

type handler struct{}

// New returns the PROTOBUF schema handler.
func New() schema.Handler { return handler{} }

func (handler) Type() schema.Type { return schema.Protobuf }

// Parse compiles text as one .proto file whose imports are resolved from
// deps (by import path), from the Confluent well-known files and from the
// google/protobuf standard imports, in that order.
func (handler) Parse(text string, deps []schema.Dep) (schema.Schema, error) {
	files, name, err := sources(text, deps)
	if err != nil {
		return nil, err
	}
	compiled, err := compile(files, name)
	if err != nil {
		return nil, err
	}
	return newSchema(compiled)
}

// sources checks the limits and returns the texts by import path with the
// name the main text gets.
func sources(text string, deps []schema.Dep) (map[string]string, string, error) {
	if len(deps) > maxDeps {
		return nil, "", fmt.Errorf("protobuf schema has %d references, more than the limit of %d", len(deps), maxDeps)
	}
	files := builtinFiles()
	total := 0
	for _, d := range deps {
		if d.Name == "" {
			return nil, "", errors.New("protobuf schema has a reference with an empty name; the name must be the import path")
		}
		if err := checkText(d.Name, d.Schema); err != nil {
			return nil, "", err
		}
		total += len(d.Schema)
		files[d.Name] = d.Schema
	}
	name := mainFileName
	for i := 1; ; i++ {
		if _, taken := files[name]; !taken {
			break
		}
		name = fmt.Sprintf("schema_%d.proto", i)
	}
	if err := checkText(name, text); err != nil {
		return nil, "", err
	}
	if total+len(text) > maxTotalBytes {
		return nil, "", fmt.Errorf("protobuf schema and its references have %d bytes, more than the limit of %d", total+len(text), maxTotalBytes)
	}
	files[name] = text
	return files, name, nil
}

// checkText bounds one text's size and the nesting of its brackets
// (outside strings and comments), which bounds every recursion over the
// descriptors built from it.
func checkText(name, text string) error {
	if len(text) > maxFileBytes {
		return fmt.Errorf("%s: %d bytes, more than the limit of %d", name, len(text), maxFileBytes)
	}
	if strings.TrimSpace(text) == "" {
		return fmt.Errorf("%s: empty protobuf schema", name)
	}
	depth, line := 0, 1
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '\n':
			line++
		case '"', '\'':
			i = skipString(text, i, c)
		case '/':
			i, line = skipComment(text, i, line)
		case '{', '[', '(':
			depth++
			if depth > maxNesting {
				return fmt.Errorf("%s:%d: nesting deeper than the limit of %d levels", name, line, maxNesting)
			}
		case '}', ']', ')':
			// a stray closer earns no credit for deeper nesting later
			depth = max(depth-1, 0)
		}
	}
	return nil
}

// skipString returns the index of the quote closing the string that
// starts at i (or of the line end or text end when it is unterminated).
func skipString(text string, i int, quote byte) int {
	for j := i + 1; j < len(text); j++ {
		switch text[j] {
		case '\\':
			j++
		case quote:
			return j
		case '\n':
			return j - 1
		}
	}
	return len(text)
}

// skipComment skips a // or /* comment starting at i, if there is one,
// and returns the index of its last byte and the line count after it.
func skipComment(text string, i, line int) (int, int) {
	if i+1 >= len(text) {
		return i, line
	}
	switch text[i+1] {
	case '/':
		end := strings.IndexByte(text[i:], '\n')
		if end < 0 {
			return len(text), line
		}
		return i + end - 1, line
	case '*':
		end := strings.Index(text[i+2:], "*/")
		if end < 0 {
			return len(text), line + strings.Count(text[i:], "\n")
		}
		return i + 2 + end + 1, line + strings.Count(text[i:i+2+end], "\n")
	}
	return i, line
}

// compile runs protocompile on the main file and returns its result.
func compile(files map[string]string, name string) (linker.Result, error) {
	src := &protocompile.SourceResolver{Accessor: accessor(files)}
	var (
		mu   sync.Mutex // files compile in goroutines of their own
		errs []error
	)
	rep := reporter.NewReporter(func(err reporter.ErrorWithPos) error {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
		if len(errs) >= maxErrors {
			return err
		}
		return nil
	}, nil)
	c := protocompile.Compiler{
		Resolver:       protocompile.WithStandardImports(src),
		Reporter:       rep,
		MaxParallelism: 1,
	}
	out, err := c.Compile(context.Background(), name)
	mu.Lock()
	defer mu.Unlock()
	if len(errs) > 0 {
		return nil, parseError(errs)
	}
	if err != nil {
		return nil, fmt.Errorf("invalid protobuf schema: %w", err)
	}
	res, ok := out[0].(linker.Result)
	if !ok {
		return nil, errors.New("invalid protobuf schema: the compiler returned no descriptor for it")
	}
	return res, nil
}

// accessor opens the texts by import path; a missing one gets an error
// that names it, which protocompile reports at the import statement.
func accessor(files map[string]string) func(string) (io.ReadCloser, error) {
	return func(path string) (io.ReadCloser, error) {
		text, ok := files[path]
		if !ok {
			return nil, fmt.Errorf("import %q is neither a reference of the schema nor a well-known file: %w", path, fs.ErrNotExist)
		}
		return io.NopCloser(strings.NewReader(text)), nil
	}
}

func parseError(errs []error) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return fmt.Errorf("invalid protobuf schema: %s", strings.Join(msgs, "; "))
}

// fileProto returns the descriptor proto of a compiled file.
func fileProto(res linker.Result) *descriptorpb.FileDescriptorProto {
	if fdp := res.FileDescriptorProto(); fdp != nil {
		return fdp
	}
	return protodesc.ToFileDescriptorProto(res)
}
