package schemaproto

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/bufbuild/protocompile/linker"
	"google.golang.org/protobuf/types/descriptorpb"
)

// printer writes a FileDescriptorProto as .proto source. Type names are
// printed in the shortest form that resolves to the same type where the
// name is written (see namer); elements are printed in a fixed order of
// kinds (see doc.go), each kind in the order the descriptor holds it.
type printer struct {
	b      strings.Builder
	res    linker.Resolver
	names  *namer
	syntax string // "proto2", "proto3" or "editions"
	noExt  bool   // leave out extend blocks and custom (extension) options
	depth  int
	scope  string // the full name names are resolved from
}

// printFile renders fdp; res resolves the extensions its options use.
func printFile(fdp *descriptorpb.FileDescriptorProto, res linker.Resolver, names *namer, noExt bool) string {
	p := &printer{res: res, names: names, syntax: fdp.GetSyntax(), noExt: noExt, scope: fdp.GetPackage()}
	if p.syntax == "" {
		p.syntax = "proto2"
	}
	p.header(fdp)
	p.members(nil, nil, fdp.GetExtension(), fdp.GetMessageType(), func() {})
	for _, e := range fdp.GetEnumType() {
		p.enum(e)
	}
	for _, s := range fdp.GetService() {
		p.service(s)
	}
	return p.b.String()
}

func (p *printer) header(fdp *descriptorpb.FileDescriptorProto) {
	if p.syntax == "editions" {
		p.line("edition = %s;", quote(strings.TrimPrefix(fdp.GetEdition().String(), "EDITION_")))
	} else {
		p.line("syntax = %s;", quote(p.syntax))
	}
	if fdp.GetPackage() != "" {
		p.line("package %s;", fdp.GetPackage())
	}
	if deps := fdp.GetDependency(); len(deps) > 0 {
		p.blank()
		for i, d := range deps {
			p.line("import %s%s;", importKind(fdp, int32(i)), quote(d))
		}
	}
	if opts := p.options(fdp.GetOptions()); len(opts) > 0 {
		p.blank()
		p.optionLines(opts)
	}
}

func importKind(fdp *descriptorpb.FileDescriptorProto, i int32) string {
	for _, j := range fdp.GetPublicDependency() {
		if j == i {
			return "public "
		}
	}
	for _, j := range fdp.GetWeakDependency() {
		if j == i {
			return "weak "
		}
	}
	return ""
}

func (p *printer) line(format string, args ...any) {
	p.b.WriteString(strings.Repeat("  ", p.depth))
	fmt.Fprintf(&p.b, format, args...)
	p.b.WriteByte('\n')
}

// blank writes an empty line.
func (p *printer) blank() {
	if p.b.Len() > 0 {
		p.b.WriteByte('\n')
	}
}

// topBlank separates top-level declarations.
func (p *printer) topBlank() {
	if p.depth == 0 {
		p.blank()
	}
}

func (p *printer) optionLines(opts []option) {
	for _, o := range opts {
		p.line("option %s = %s;", o.name, o.value)
	}
}

// nestedTypes are the messages declared in one scope, in order, indexed
// by name.
type nestedTypes struct {
	list   []*descriptorpb.DescriptorProto
	byName map[string]int
}

func newNestedTypes(list []*descriptorpb.DescriptorProto) *nestedTypes {
	n := &nestedTypes{list: list, byName: make(map[string]int, len(list))}
	for i, m := range list {
		n.byName[m.GetName()] = i
	}
	return n
}

// index is the position of the message named by the last component of
// the type name typ, or -1.
func (n *nestedTypes) index(typ string) int {
	if i, ok := n.byName[typ[strings.LastIndexByte(typ, '.')+1:]]; ok {
		return i
	}
	return -1
}

func (n *nestedTypes) find(typ string) *descriptorpb.DescriptorProto {
	if i := n.index(typ); i >= 0 {
		return n.list[i]
	}
	return nil
}

func (p *printer) message(m *descriptorpb.DescriptorProto) {
	p.topBlank()
	p.line("message %s {", m.GetName())
	p.depth++
	p.messageBody(m)
	p.depth--
	p.line("}")
}

// messageBody prints m's declarations: its options in the enclosing
// scope (as protoc resolves them), the rest in m's own scope.
func (p *printer) messageBody(m *descriptorpb.DescriptorProto) {
	p.optionLines(p.options(m.GetOptions()))
	outer := p.scope
	p.scope = join(outer, m.GetName())
	defer func() { p.scope = outer }()
	rs := make([][2]int64, len(m.GetReservedRange()))
	for i, r := range m.GetReservedRange() {
		rs[i] = [2]int64{int64(r.GetStart()), int64(r.GetEnd()) - 1} // End is exclusive
	}
	p.reservedRanges(rs, maxFieldNumber)
	p.reservedNames(m.GetReservedName())
	p.members(m.GetField(), m.GetOneofDecl(), m.GetExtension(), m.GetNestedType(), func() {
		for _, r := range m.GetExtensionRange() {
			p.line("extensions %s%s;", rangeText(int64(r.GetStart()), int64(r.GetEnd())-1, maxFieldNumber), p.bracketOptions(nil, r.GetOptions()))
		}
		for _, e := range m.GetEnumType() {
			p.enum(e)
		}
	})
}

// field prints one field; nested holds the types declared beside it
// (its map entry or group body).
func (p *printer) field(f *descriptorpb.FieldDescriptorProto, nested *nestedTypes, inOneof bool) {
	label := p.label(f, inOneof)
	if f.GetType() == descriptorpb.FieldDescriptorProto_TYPE_GROUP && p.syntax == "proto2" {
		if g := nested.find(f.GetTypeName()); g != nil {
			p.line("%sgroup %s = %d%s {", label, g.GetName(), f.GetNumber(), p.fieldOptions(f))
			p.depth++
			p.messageBody(g)
			p.depth--
			p.line("}")
			return
		}
	}
	typ := p.fieldType(f)
	if e := mapEntry(f, nested); e != nil {
		label = ""
		outer := p.scope
		p.scope = join(outer, e.GetName())
		typ = fmt.Sprintf("map<%s, %s>", p.fieldType(e.GetField()[0]), p.fieldType(e.GetField()[1]))
		p.scope = outer
	}
	p.line("%s%s %s = %d%s;", label, typ, f.GetName(), f.GetNumber(), p.fieldOptions(f))
}

// mapEntry returns the map entry type of a map field, or nil.
func mapEntry(f *descriptorpb.FieldDescriptorProto, nested *nestedTypes) *descriptorpb.DescriptorProto {
	if f.GetLabel() != descriptorpb.FieldDescriptorProto_LABEL_REPEATED || f.GetType() != descriptorpb.FieldDescriptorProto_TYPE_MESSAGE {
		return nil
	}
	e := nested.find(f.GetTypeName())
	if e == nil || !e.GetOptions().GetMapEntry() || len(e.GetField()) != 2 {
		return nil
	}
	return e
}

func (p *printer) label(f *descriptorpb.FieldDescriptorProto, inOneof bool) string {
	switch {
	case inOneof:
		return ""
	case f.GetLabel() == descriptorpb.FieldDescriptorProto_LABEL_REPEATED:
		return "repeated "
	case p.syntax == "proto2" && f.GetLabel() == descriptorpb.FieldDescriptorProto_LABEL_REQUIRED:
		return "required "
	case p.syntax == "proto2", f.GetProto3Optional():
		return "optional "
	}
	return ""
}

// fieldType is the type as written in a field declaration.
func (p *printer) fieldType(f *descriptorpb.FieldDescriptorProto) string {
	switch f.GetType() {
	case descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, descriptorpb.FieldDescriptorProto_TYPE_ENUM,
		descriptorpb.FieldDescriptorProto_TYPE_GROUP:
		return p.names.name(p.scope, f.GetTypeName())
	}
	return scalarName(f.GetType())
}

func scalarName(t descriptorpb.FieldDescriptorProto_Type) string {
	return strings.ToLower(strings.TrimPrefix(t.String(), "TYPE_"))
}

// fieldOptions renders " [default = ..., json_name = ..., options]" or "".
func (p *printer) fieldOptions(f *descriptorpb.FieldDescriptorProto) string {
	var pre []option
	if f.DefaultValue != nil {
		pre = append(pre, option{"default", defaultText(f)})
	}
	if f.JsonName != nil && f.GetJsonName() != jsonName(f.GetName()) {
		pre = append(pre, option{"json_name", quote(f.GetJsonName())})
	}
	return p.bracketOptions(pre, f.GetOptions())
}

func defaultText(f *descriptorpb.FieldDescriptorProto) string {
	v := f.GetDefaultValue()
	switch f.GetType() {
	case descriptorpb.FieldDescriptorProto_TYPE_STRING:
		return quote(v)
	case descriptorpb.FieldDescriptorProto_TYPE_BYTES:
		// descriptor.proto keeps a bytes default C-escaped already.
		return `"` + v + `"`
	}
	return v
}

// jsonName is the JSON name protoc derives from a field name.
func jsonName(name string) string {
	var b strings.Builder
	up := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '_' {
			up = true
			continue
		}
		if up && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		up = false
		b.WriteByte(c)
	}
	return b.String()
}

func (p *printer) enum(e *descriptorpb.EnumDescriptorProto) {
	p.topBlank()
	p.line("enum %s {", e.GetName())
	p.depth++
	p.optionLines(p.options(e.GetOptions()))
	rs := make([][2]int64, len(e.GetReservedRange()))
	for i, r := range e.GetReservedRange() {
		rs[i] = [2]int64{int64(r.GetStart()), int64(r.GetEnd())} // End is inclusive
	}
	p.reservedRanges(rs, maxEnumNumber)
	p.reservedNames(e.GetReservedName())
	for _, v := range e.GetValue() {
		p.line("%s = %d%s;", v.GetName(), v.GetNumber(), p.bracketOptions(nil, v.GetOptions()))
	}
	p.depth--
	p.line("}")
}

// The largest field and enum numbers, which ranges print as "max".
const (
	maxFieldNumber = 536870911
	maxEnumNumber  = 2147483647
)

// reservedRanges prints inclusive ranges [first, last].
func (p *printer) reservedRanges(rs [][2]int64, max int64) {
	if len(rs) == 0 {
		return
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = rangeText(r[0], r[1], max)
	}
	p.line("reserved %s;", strings.Join(parts, ", "))
}

func rangeText(start, last, max int64) string {
	switch {
	case last == max && start != last:
		return fmt.Sprintf("%d to max", start)
	case start == last:
		return strconv.FormatInt(start, 10)
	}
	return fmt.Sprintf("%d to %d", start, last)
}

func (p *printer) reservedNames(names []string) {
	if len(names) == 0 {
		return
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quote(n)
	}
	p.line("reserved %s;", strings.Join(q, ", "))
}

func (p *printer) service(s *descriptorpb.ServiceDescriptorProto) {
	p.topBlank()
	p.line("service %s {", s.GetName())
	p.depth++
	p.optionLines(p.options(s.GetOptions()))
	outer := p.scope
	p.scope = join(outer, s.GetName())
	defer func() { p.scope = outer }()
	for _, m := range s.GetMethod() {
		sig := fmt.Sprintf("rpc %s(%s%s) returns (%s%s)", m.GetName(),
			streamWord(m.GetClientStreaming()), p.names.name(p.scope, m.GetInputType()),
			streamWord(m.GetServerStreaming()), p.names.name(p.scope, m.GetOutputType()))
		opts := p.options(m.GetOptions())
		if len(opts) == 0 {
			p.line("%s;", sig)
			continue
		}
		p.line("%s {", sig)
		p.depth++
		p.optionLines(opts)
		p.depth--
		p.line("}")
	}
	p.depth--
	p.line("}")
}

func streamWord(on bool) string {
	if on {
		return "stream "
	}
	return ""
}
