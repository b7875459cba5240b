package convert

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"

	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/linker"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/samsa-streaming/samsa/connect"
	"github.com/samsa-streaming/samsa/internal/registry/schemaproto"
)

// Connect → proto3 schema text, after Confluent's ProtobufData: a struct
// is a message (named after the Connect schema's last name segment, its
// namespace the package; ConnectDefault1… when unnamed), nested structs
// nested messages, fields numbered in order; INT8/INT16 are int32 marked
// with a confluent.field_meta "connect.type" parameter, arrays repeated
// fields, maps map<K,V>, Decimal confluent.type.Decimal, Timestamp
// google.protobuf.Timestamp. Date and Time, which Confluent maps to
// google.type.* (files the registry does not carry), are int32 fields
// marked with a "connect.name" parameter here. Proto3 scalars cannot be
// null: a null optional primitive is written as its zero value, and every
// field reads back as optional, as with Confluent's converter.

const (
	protoMainFile   = "connect.proto"
	protoDecimal    = "confluent.type.Decimal"
	protoTimestamp  = "google.protobuf.Timestamp"
	protoFieldMeta  = "confluent.field_meta"
	protoScaleParam = "connect.decimal.scale"
)

type protoGen struct {
	imports map[string]bool
	unnamed int
	depth   int
}

// ConnectToProtoSchema returns the .proto text for struct schema s and the
// full name of its message.
func ConnectToProtoSchema(s *connect.Schema) (string, string, error) {
	if s == nil || s.Type != connect.StructT {
		return "", "", dataErr("ProtobufConverter supports only struct schemas at the top level")
	}
	g := &protoGen{imports: map[string]bool{}}
	pkg, name := splitProtoName(s.Name)
	if name == "" {
		name = g.defaultName()
	}
	var body strings.Builder
	if err := g.message(&body, s, name, "", 0); err != nil {
		return "", "", err
	}
	var out strings.Builder
	out.WriteString("syntax = \"proto3\";\n")
	if pkg != "" {
		fmt.Fprintf(&out, "package %s;\n", pkg)
	}
	out.WriteString("\n")
	for _, imp := range []string{"confluent/meta.proto", "confluent/type/decimal.proto", "google/protobuf/timestamp.proto"} {
		if g.imports[imp] {
			fmt.Fprintf(&out, "import %q;\n", imp)
		}
	}
	if len(g.imports) > 0 {
		out.WriteString("\n")
	}
	out.WriteString(body.String())
	full := name
	if pkg != "" {
		full = pkg + "." + name
	}
	return out.String(), full, nil
}

func (g *protoGen) defaultName() string {
	g.unnamed++
	return "ConnectDefault" + strconv.Itoa(g.unnamed)
}

func splitProtoName(full string) (pkg, name string) {
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		return full[:i], full[i+1:]
	}
	return "", full
}

func validProtoIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func (g *protoGen) message(b *strings.Builder, s *connect.Schema, name, indent string, depth int) error {
	if depth > 64 {
		return dataErr("Schema nesting too deep")
	}
	if !validProtoIdent(name) {
		return dataErr(fmt.Sprintf("Invalid protobuf message name %q", name))
	}
	fmt.Fprintf(b, "%smessage %s {\n", indent, name)
	var nested strings.Builder
	names := map[string]bool{}
	for i, f := range s.Fields {
		if !validProtoIdent(f.Name) {
			return dataErr(fmt.Sprintf("Invalid protobuf field name %q", f.Name))
		}
		typ, opts, err := g.fieldType(&nested, f.Schema, f.Name, indent+"  ", depth, names)
		if err != nil {
			return err
		}
		fmt.Fprintf(b, "%s  %s %s = %d%s;\n", indent, typ, f.Name, i+1, opts)
	}
	b.WriteString(nested.String())
	fmt.Fprintf(b, "%s}\n", indent)
	return nil
}

// fieldType returns the proto type of a field of schema s (defining
// nested messages into nested) and its options text.
func (g *protoGen) fieldType(nested *strings.Builder, s *connect.Schema, field, indent string, depth int, names map[string]bool) (string, string, error) {
	switch s.Type {
	case connect.Array:
		es := nonNil(s.Value)
		if es.Type == connect.Array || es.Type == connect.Map {
			return "", "", dataErr("ProtobufConverter does not support arrays of arrays or maps")
		}
		t, opts, err := g.fieldType(nested, es, field, indent, depth, names)
		return "repeated " + t, opts, err
	case connect.Map:
		kt := "string"
		if s.Key != nil {
			switch s.Key.Type {
			case connect.Int8, connect.Int16, connect.Int32:
				kt = "int32"
			case connect.Int64:
				kt = "int64"
			case connect.Boolean:
				kt = "bool"
			case connect.String:
			default:
				return "", "", dataErr("ProtobufConverter does not support map keys of type " + string(s.Key.Type))
			}
			if s.Key.Name != "" {
				return "", "", dataErr("ProtobufConverter does not support logical map keys")
			}
		}
		vs := nonNil(s.Value)
		if vs.Type == connect.Array || vs.Type == connect.Map {
			return "", "", dataErr("ProtobufConverter does not support map values that are arrays or maps")
		}
		vt, _, err := g.fieldType(nested, vs, field+"Value", indent, depth, names)
		return "map<" + kt + ", " + vt + ">", "", err
	}
	return g.scalarType(nested, s, field, indent, depth, names)
}

func (g *protoGen) scalarType(nested *strings.Builder, s *connect.Schema, field, indent string, depth int, names map[string]bool) (string, string, error) {
	meta := func(k, v string) string {
		g.imports["confluent/meta.proto"] = true
		return fmt.Sprintf(" [(confluent.field_meta) = { params: [{ key: %q, value: %q }] }]", k, v)
	}
	switch s.Name {
	case connect.DecimalName:
		scale, err := DecimalScale(s)
		if err != nil {
			return "", "", err
		}
		g.imports["confluent/type/decimal.proto"] = true
		return protoDecimal, meta(protoScaleParam, strconv.Itoa(int(scale))), nil
	case connect.TimestampName:
		g.imports["google/protobuf/timestamp.proto"] = true
		return protoTimestamp, "", nil
	case connect.DateName, connect.TimeName:
		return "int32", meta("connect.name", s.Name), nil
	}
	switch s.Type {
	case connect.Int8, connect.Int16:
		return "int32", meta("connect.type", string(s.Type)), nil
	case connect.Int32:
		return "int32", "", nil
	case connect.Int64:
		return "int64", "", nil
	case connect.Float32:
		return "float", "", nil
	case connect.Float64:
		return "double", "", nil
	case connect.Boolean:
		return "bool", "", nil
	case connect.String:
		return "string", "", nil
	case connect.Bytes:
		return "bytes", "", nil
	case connect.StructT:
		_, name := splitProtoName(s.Name)
		if name == "" {
			name = g.defaultName()
		}
		if names[name] {
			return name, "", nil // defined already at this level
		}
		names[name] = true
		return name, "", g.message(nested, s, name, indent, depth+1)
	}
	return "", "", dataErr(fmt.Sprintf("Unknown schema type: %s", s.Type))
}

// compileProto compiles main (named protoMainFile) with its references
// and the built-in files, returning the linked file.
func compileProto(main string, refs []namedText) (linker.File, error) {
	files := schemaproto.BuiltinFiles()
	for _, r := range refs {
		files[r.name] = r.text
	}
	name := protoMainFile
	for files[name] != "" {
		name = "_" + name
	}
	files[name] = main
	src := &protocompile.SourceResolver{Accessor: func(path string) (io.ReadCloser, error) {
		text, ok := files[path]
		if !ok {
			return nil, fmt.Errorf("convert: protobuf import %q not found: %w", path, fs.ErrNotExist)
		}
		return io.NopCloser(strings.NewReader(text)), nil
	}}
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(src), MaxParallelism: 1}
	out, err := c.Compile(context.Background(), name)
	if err != nil {
		return nil, dataErrCause("Failed to compile protobuf schema:", err)
	}
	return out[0], nil
}

// messageAt resolves Confluent message indexes in fd.
func messageAt(fd protoreflect.FileDescriptor, idx []int) (protoreflect.MessageDescriptor, error) {
	if len(idx) == 0 {
		idx = []int{0}
	}
	msgs := fd.Messages()
	var md protoreflect.MessageDescriptor
	for _, i := range idx {
		if i < 0 || i >= msgs.Len() {
			return nil, dataErr(fmt.Sprintf("Failed to deserialize data: message index %v not in schema", idx))
		}
		md = msgs.Get(i)
		msgs = md.Messages()
	}
	return md, nil
}

// fieldParams reads a field's confluent.field_meta params.
func fieldParams(fd protoreflect.FieldDescriptor) map[string]string {
	opts := fd.Options()
	if opts == nil {
		return nil
	}
	var out map[string]string
	opts.ProtoReflect().Range(func(xd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if string(xd.FullName()) != protoFieldMeta || xd.Kind() != protoreflect.MessageKind {
			return true
		}
		m := v.Message()
		pf := m.Descriptor().Fields().ByName("params")
		if pf == nil || !pf.IsMap() {
			return true
		}
		out = map[string]string{}
		m.Get(pf).Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
			out[k.String()] = v.String()
			return true
		})
		return false
	})
	return out
}
