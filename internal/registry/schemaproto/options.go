package schemaproto

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// option is one option assignment as printed: name = value.
type option struct {
	name, value string
}

// options lists the options set in opts (a descriptorpb *Options message),
// custom options included: the message is re-read with the file's
// resolver so that every extension protocompile interpreted is known.
// Standard options come first by field number, then custom options by
// full name; a repeated option gives one entry per element. map_entry,
// implied by map syntax, is left out.
func (p *printer) options(opts proto.Message) []option {
	m, ok := p.resolved(opts)
	if !ok {
		return nil
	}
	var fds []protoreflect.FieldDescriptor
	m.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if fd.IsExtension() && p.noExt || fd.Name() == "map_entry" && !fd.IsExtension() {
			return true
		}
		fds = append(fds, fd)
		return true
	})
	sortFields(fds)
	var out []option
	for _, fd := range fds {
		name := string(fd.Name())
		if fd.IsExtension() {
			name = "(" + p.names.name(p.scope, string(fd.FullName())) + ")"
		}
		v := m.Get(fd)
		if fd.IsList() {
			for i := 0; i < v.List().Len(); i++ {
				out = append(out, option{name, formatValue(fd, v.List().Get(i))})
			}
			continue
		}
		out = append(out, option{name, formatValue(fd, v)})
	}
	return out
}

// resolved re-reads opts with the printer's resolver; ok is false when
// there is nothing to print.
func (p *printer) resolved(opts proto.Message) (protoreflect.Message, bool) {
	if opts == nil || !opts.ProtoReflect().IsValid() {
		return nil, false
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(opts)
	if err != nil || len(b) == 0 {
		return nil, false
	}
	m := opts.ProtoReflect().New()
	if err := (proto.UnmarshalOptions{Resolver: p.res}).Unmarshal(b, m.Interface()); err != nil {
		return opts.ProtoReflect(), true
	}
	return m, true
}

// sortFields orders standard fields by number, then extensions by name.
func sortFields(fds []protoreflect.FieldDescriptor) {
	slices.SortFunc(fds, func(a, b protoreflect.FieldDescriptor) int {
		if a.IsExtension() != b.IsExtension() {
			if a.IsExtension() {
				return 1
			}
			return -1
		}
		if a.IsExtension() {
			return strings.Compare(string(a.FullName()), string(b.FullName()))
		}
		return cmp.Compare(a.Number(), b.Number())
	})
}

// bracketOptions renders pre and the options in opts as " [a = 1, b = 2]",
// or "" when there are none.
func (p *printer) bracketOptions(pre []option, opts proto.Message) string {
	all := append(pre, p.options(opts)...)
	if len(all) == 0 {
		return ""
	}
	parts := make([]string, len(all))
	for i, o := range all {
		parts[i] = o.name + " = " + o.value
	}
	return " [" + strings.Join(parts, ", ") + "]"
}

// formatValue renders one (non-list) value of fd as an option value.
func formatValue(fd protoreflect.FieldDescriptor, v protoreflect.Value) string {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return strconv.FormatBool(v.Bool())
	case protoreflect.EnumKind:
		return enumValueName(fd.Enum(), v.Enum())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return strconv.FormatInt(v.Int(), 10)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return strconv.FormatUint(v.Uint(), 10)
	case protoreflect.FloatKind:
		return formatFloat(v.Float(), 32)
	case protoreflect.DoubleKind:
		return formatFloat(v.Float(), 64)
	case protoreflect.StringKind:
		return quote(v.String())
	case protoreflect.BytesKind:
		return quoteBytes(v.Bytes())
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return formatMessage(v.Message())
	}
	return ""
}

func formatFloat(f float64, bits int) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}

// formatMessage renders a message literal in the text format that option
// values use: { name: value ... }, fields in sortFields order, repeated
// fields as [a, b], map entries as {key: k value: v} sorted by key.
func formatMessage(m protoreflect.Message) string {
	var fds []protoreflect.FieldDescriptor
	m.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		fds = append(fds, fd)
		return true
	})
	sortFields(fds)
	parts := make([]string, 0, len(fds))
	for _, fd := range fds {
		name := string(fd.Name())
		if fd.IsExtension() {
			name = "[" + string(fd.FullName()) + "]"
		} else if fd.Kind() == protoreflect.GroupKind {
			name = string(fd.Message().Name())
		}
		parts = append(parts, name+": "+formatFieldValue(fd, m.Get(fd)))
	}
	if len(parts) == 0 {
		return "{}"
	}
	return "{ " + strings.Join(parts, " ") + " }"
}

func formatFieldValue(fd protoreflect.FieldDescriptor, v protoreflect.Value) string {
	switch {
	case fd.IsMap():
		type entry struct{ key, text string }
		var es []entry
		v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
			key := formatValue(fd.MapKey(), k.Value())
			es = append(es, entry{key, "{ key: " + key + " value: " + formatValue(fd.MapValue(), mv) + " }"})
			return true
		})
		slices.SortFunc(es, func(a, b entry) int { return strings.Compare(a.key, b.key) })
		texts := make([]string, len(es))
		for i, e := range es {
			texts[i] = e.text
		}
		return "[" + strings.Join(texts, ", ") + "]"
	case fd.IsList():
		texts := make([]string, v.List().Len())
		for i := range texts {
			texts[i] = formatValue(fd, v.List().Get(i))
		}
		return "[" + strings.Join(texts, ", ") + "]"
	}
	return formatValue(fd, v)
}

// quote renders s as a .proto string literal: valid printable UTF-8 as
// is, the usual escapes, and every other byte in octal.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1, r < 0x20, r == 0x7f:
			writeEscaped(&b, s[i])
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteByte(byte(r))
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}

// quoteBytes renders bytes as a string literal: printable ASCII as is,
// every other byte escaped.
func quoteBytes(bs []byte) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range bs {
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			writeEscaped(&b, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func writeEscaped(b *strings.Builder, c byte) {
	switch c {
	case '\n':
		b.WriteString(`\n`)
	case '\r':
		b.WriteString(`\r`)
	case '\t':
		b.WriteString(`\t`)
	default:
		b.WriteByte('\\')
		b.WriteByte('0' + c>>6)
		b.WriteByte('0' + c>>3&7)
		b.WriteByte('0' + c&7)
	}
}

// enumValueName names number n of enum e; among aliases the name that
// sorts first, so that the choice does not depend on declaration order.
func enumValueName(e protoreflect.EnumDescriptor, n protoreflect.EnumNumber) string {
	name := ""
	vals := e.Values()
	for i := 0; i < vals.Len(); i++ {
		if v := vals.Get(i); v.Number() == n && (name == "" || string(v.Name()) < name) {
			name = string(v.Name())
		}
	}
	if name == "" {
		return strconv.FormatInt(int64(n), 10)
	}
	return name
}
