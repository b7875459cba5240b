package schemaavro

import (
	"bytes"
	"slices"
	"strconv"
)

// printer writes a schema the way Avro Java's Schema.toString does:
// compact JSON, a named type defined at its first use and referred to by
// name after, names qualified relative to the enclosing namespace.
//
// With normalized set it writes the normalized form instead: every name
// and alias in full (with no "namespace" attribute, except "" where a
// type in the null namespace sits inside a namespaced one), and the
// members of property values, defaults and the properties themselves in
// key order, and aliases sorted.
type printer struct {
	b          bytes.Buffer
	known      map[string]bool  // named types already written or referenced
	names      map[string]*node // every named type, to spot ambiguous references
	normalized bool
}

func newPrinter(known []string, names map[string]*node, normalized bool) *printer {
	p := &printer{known: map[string]bool{}, names: names, normalized: normalized}
	for _, k := range known {
		p.known[k] = true
	}
	return p
}

func (p *printer) schema(n *node, space string) {
	switch n.kind {
	case kRecord, kEnum, kFixed:
		p.namedType(n, space)
	case kArray, kMap:
		key := "items"
		if n.kind == kMap {
			key = "values"
		}
		p.b.WriteString(`{"type":"` + n.kind.String() + `","` + key + `":`)
		p.schema(n.items, space)
		p.props(n.props)
		p.b.WriteByte('}')
	case kUnion:
		p.b.WriteByte('[')
		for i, b := range n.branches {
			if i > 0 {
				p.b.WriteByte(',')
			}
			p.schema(b, space)
		}
		p.b.WriteByte(']')
	default:
		if len(n.props) == 0 {
			p.b.WriteString(`"` + n.kind.String() + `"`)
			return
		}
		p.b.WriteString(`{"type":"` + n.kind.String() + `"`)
		p.props(n.props)
		p.b.WriteByte('}')
	}
}

func (p *printer) namedType(n *node, space string) {
	full := n.fullName()
	if p.known[full] {
		p.str(p.ref(full, space))
		return
	}
	p.known[full] = true
	typ := n.kind.String()
	if n.isError {
		typ = "error"
	}
	p.b.WriteString(`{"type":"` + typ + `"`)
	p.name(n, space)
	if n.doc != nil {
		p.b.WriteString(`,"doc":`)
		p.str(*n.doc)
	}
	switch n.kind {
	case kRecord:
		p.b.WriteString(`,"fields":`)
		p.fields(n)
	case kEnum:
		p.b.WriteString(`,"symbols":[`)
		for i, s := range n.symbols {
			if i > 0 {
				p.b.WriteByte(',')
			}
			p.str(s)
		}
		p.b.WriteByte(']')
		if n.enumDefault != nil {
			p.b.WriteString(`,"default":`)
			p.str(*n.enumDefault)
		}
	case kFixed:
		p.b.WriteString(`,"size":` + strconv.Itoa(n.size))
	}
	p.props(n.props)
	p.aliases(n)
	p.b.WriteByte('}')
}

// ref is how a use of the named type full is written inside space.
//
// One deviation from Avro Java: a type F in the null namespace used
// inside namespace n where n.F also exists is written ".F", since "F"
// would be read back as n.F.
func (p *printer) ref(full, space string) string {
	if s, name := splitName(full); s == "" && space != "" && p.names[space+"."+name] != nil {
		return "." + name
	}
	if p.normalized {
		return full
	}
	return qualified(full, space)
}

// name writes "name" and, when needed, "namespace" (Avro Java's
// Name.writeName).
func (p *printer) name(n *node, space string) {
	p.b.WriteString(`,"name":`)
	if p.normalized {
		p.str(n.fullName())
		if n.space == "" && space != "" {
			p.b.WriteString(`,"namespace":""`)
		}
		return
	}
	p.str(n.name)
	if n.space != space {
		p.b.WriteString(`,"namespace":`)
		p.str(n.space)
	}
}

func (p *printer) aliases(n *node) {
	if len(n.aliases) == 0 {
		return
	}
	p.b.WriteString(`,"aliases":[`)
	for i, a := range p.set(n.aliases) {
		if i > 0 {
			p.b.WriteByte(',')
		}
		p.str(p.ref(a, n.space))
	}
	p.b.WriteByte(']')
}

// set returns names as written, or sorted in the normalized form (the
// order of aliases means nothing).
func (p *printer) set(names []string) []string {
	if !p.normalized {
		return names
	}
	return slices.Sorted(slices.Values(names))
}

func (p *printer) fields(n *node) {
	p.b.WriteByte('[')
	for i, f := range n.fields {
		if i > 0 {
			p.b.WriteByte(',')
		}
		p.b.WriteString(`{"name":`)
		p.str(f.name)
		p.b.WriteString(`,"type":`)
		p.schema(f.typ, n.space)
		if f.doc != nil {
			p.b.WriteString(`,"doc":`)
			p.str(*f.doc)
		}
		if f.def != nil {
			p.b.WriteString(`,"default":`)
			writeJSON(&p.b, f.def, p.normalized)
		}
		if f.order != "" && f.order != "ascending" {
			p.b.WriteString(`,"order":`)
			p.str(f.order)
		}
		if len(f.aliases) > 0 {
			p.b.WriteString(`,"aliases":[`)
			for j, a := range p.set(f.aliases) {
				if j > 0 {
					p.b.WriteByte(',')
				}
				p.str(a)
			}
			p.b.WriteByte(']')
		}
		p.props(f.props)
		p.b.WriteByte('}')
	}
	p.b.WriteByte(']')
}

func (p *printer) props(ms []member) {
	for _, m := range orderMembers(ms, p.normalized) {
		p.b.WriteByte(',')
		p.str(m.key)
		p.b.WriteByte(':')
		writeJSON(&p.b, m.val, p.normalized)
	}
}

func (p *printer) str(s string) { writeString(&p.b, s) }
