package schemaproto

import (
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// namer shortens fully-qualified names to the shortest form that still
// resolves, from the scope where it is written, to the same element under
// protobuf's scoping rules. It knows every symbol of the file and of its
// transitive imports, and every package prefix; it treats any symbol whose
// name a candidate's first component hits in a nearer scope as shadowing
// it (protoc sometimes looks past a non-type there, so this is
// conservative: a name is only ever printed longer than needed, never
// wrong). Without a namer every name is printed fully qualified.
type namer struct {
	syms map[string]bool
}

func newNamer(f protoreflect.FileDescriptor) *namer {
	n := &namer{syms: map[string]bool{}}
	seen := map[string]bool{}
	var addFile func(protoreflect.FileDescriptor)
	addFile = func(f protoreflect.FileDescriptor) {
		if seen[f.Path()] {
			return
		}
		seen[f.Path()] = true
		for p := string(f.Package()); p != ""; p = parentScope(p) {
			n.syms[p] = true
		}
		n.addDecls(f.Messages(), f.Enums(), f.Extensions())
		for i := 0; i < f.Services().Len(); i++ {
			s := f.Services().Get(i)
			n.syms[string(s.FullName())] = true
			for j := 0; j < s.Methods().Len(); j++ {
				n.syms[string(s.Methods().Get(j).FullName())] = true
			}
		}
		for i := 0; i < f.Imports().Len(); i++ {
			addFile(f.Imports().Get(i).FileDescriptor)
		}
	}
	addFile(f)
	return n
}

func (n *namer) addDecls(ms protoreflect.MessageDescriptors, es protoreflect.EnumDescriptors, xs protoreflect.ExtensionDescriptors) {
	for i := 0; i < es.Len(); i++ {
		e := es.Get(i)
		n.syms[string(e.FullName())] = true
		for j := 0; j < e.Values().Len(); j++ {
			n.syms[string(e.Values().Get(j).FullName())] = true
		}
	}
	for i := 0; i < xs.Len(); i++ {
		n.syms[string(xs.Get(i).FullName())] = true
	}
	for i := 0; i < ms.Len(); i++ {
		m := ms.Get(i)
		n.syms[string(m.FullName())] = true
		for j := 0; j < m.Fields().Len(); j++ {
			n.syms[string(m.Fields().Get(j).FullName())] = true
		}
		for j := 0; j < m.Oneofs().Len(); j++ {
			n.syms[string(m.Oneofs().Get(j).FullName())] = true
		}
		n.addDecls(m.Messages(), m.Enums(), m.Extensions())
	}
}

func parentScope(s string) string {
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		return s[:i]
	}
	return ""
}

// name returns the shortest spelling of target (fully qualified, with or
// without a leading dot) that resolves to it from scope; ".target" when
// none does.
func (n *namer) name(scope, target string) string {
	target = strings.TrimPrefix(target, ".")
	if n == nil {
		return "." + target
	}
	for i := len(target) - 1; i >= -1; i-- {
		if i >= 0 && target[i] != '.' {
			continue
		}
		cand := target[i+1:]
		if !hasKeyword(cand) && n.resolves(scope, cand, target) {
			return cand
		}
	}
	return "." + target
}

// resolves reports whether cand, written in scope, names target: the
// first scope from the innermost outwards in which cand's first component
// is a symbol must be the one that makes cand target.
func (n *namer) resolves(scope, cand, target string) bool {
	first, _, _ := strings.Cut(cand, ".")
	for s := scope; ; s = parentScope(s) {
		if n.syms[join(s, first)] {
			return join(s, cand) == target
		}
		if s == "" {
			return false
		}
	}
}

func join(scope, name string) string {
	if scope == "" {
		return name
	}
	return scope + "." + name
}

// hasKeyword reports whether a relative name has a component that the
// parser could read as syntax where a type is expected ("optional Foo",
// "stream Foo", "map<...>", "k.stream"); such names print with a leading
// dot, the form the parser reads as a name.
func hasKeyword(name string) bool {
	for _, part := range strings.Split(name, ".") {
		if isKeyword(part) {
			return true
		}
	}
	return false
}

// isKeyword reports whether word is one of the .proto words hasKeyword
// avoids.
func isKeyword(word string) bool {
	switch word {
	case "optional", "required", "repeated", "group", "map", "oneof", "stream",
		"extend", "extensions", "reserved", "option", "message", "enum", "service",
		"rpc", "returns", "import", "package", "syntax", "edition", "weak", "public",
		"to", "max":
		return true
	}
	return false
}
