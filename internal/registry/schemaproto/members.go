package schemaproto

import (
	"google.golang.org/protobuf/types/descriptorpb"
)

// A scope's fields, extensions and nested messages print in one merged
// sequence, so that the nested types a field declares inline (a map's
// entry, a proto2 group's body) keep their places among the nested
// messages: protoc numbers nested types in declaration order, and
// Confluent's message indexes count them so. Nested messages otherwise
// print after the fields, extend blocks after those.

// fieldItem is a field, or a oneof with its members.
type fieldItem struct {
	fields      []*descriptorpb.FieldDescriptorProto
	oneof       *descriptorpb.OneofDescriptorProto
	first, last int // nested indexes of the types declared inline, -1 if none
}

// memberPrinter holds the merge's state for one scope.
type memberPrinter struct {
	p      *printer
	nested *nestedTypes
	exts   []*descriptorpb.FieldDescriptorProto
	extTie []int        // nested index each extension declares inline, or -1
	tied   map[int]bool // nested indexes printed inline
	next   int          // first nested index not yet printed or passed
	xi     int          // first extension not yet printed
}

// members prints fields (with their oneofs), extensions and nested
// messages in merged order; between runs after the fields, before the
// remaining nested messages and extend blocks.
func (p *printer) members(fields []*descriptorpb.FieldDescriptorProto, oneofs []*descriptorpb.OneofDescriptorProto,
	exts []*descriptorpb.FieldDescriptorProto, list []*descriptorpb.DescriptorProto, between func()) {
	if p.noExt {
		exts = nil // their group bodies then print as plain messages
	}
	nested := newNestedTypes(list)
	mp := &memberPrinter{p: p, nested: nested, exts: exts, tied: map[int]bool{}}
	items := fieldItems(fields, oneofs)
	for i := range items {
		for _, f := range items[i].fields {
			if t := p.inlineType(f, nested); t >= 0 {
				mp.tied[t] = true
				if items[i].first < 0 {
					items[i].first = t
				}
				items[i].last = max(items[i].last, t)
			}
		}
	}
	for _, x := range exts {
		t := p.inlineType(x, nested)
		mp.extTie = append(mp.extTie, t)
		if t >= 0 {
			mp.tied[t] = true
		}
	}
	for _, it := range items {
		if it.first >= 0 {
			mp.extsBefore(it.first)
			mp.flush(it.first)
		}
		p.fieldItem(it, nested)
		mp.next = max(mp.next, it.last+1)
	}
	between()
	mp.flush(mp.firstExtTie())
	mp.printExts(len(exts))
	mp.flush(len(nested.list))
}

// inlineType is the index in nested of the type f declares inline, or -1.
func (p *printer) inlineType(f *descriptorpb.FieldDescriptorProto, nested *nestedTypes) int {
	if f.GetType() == descriptorpb.FieldDescriptorProto_TYPE_GROUP && p.syntax == "proto2" {
		return nested.index(f.GetTypeName())
	}
	if mapEntry(f, nested) != nil {
		return nested.index(f.GetTypeName())
	}
	return -1
}

// fieldItems groups fields into items, a oneof's members into the item
// of its first member (proto3 optional fields stand alone).
func fieldItems(fields []*descriptorpb.FieldDescriptorProto, oneofs []*descriptorpb.OneofDescriptorProto) []fieldItem {
	var items []fieldItem
	at := map[int32]int{} // oneof index -> item index
	for _, f := range fields {
		if f.OneofIndex == nil || f.GetProto3Optional() || int(f.GetOneofIndex()) >= len(oneofs) {
			items = append(items, fieldItem{fields: []*descriptorpb.FieldDescriptorProto{f}, first: -1, last: -1})
			continue
		}
		i, ok := at[f.GetOneofIndex()]
		if !ok {
			i = len(items)
			at[f.GetOneofIndex()] = i
			items = append(items, fieldItem{oneof: oneofs[f.GetOneofIndex()], first: -1, last: -1})
		}
		items[i].fields = append(items[i].fields, f)
	}
	return items
}

func (p *printer) fieldItem(it fieldItem, nested *nestedTypes) {
	if it.oneof == nil {
		p.field(it.fields[0], nested, false)
		return
	}
	p.line("oneof %s {", it.oneof.GetName())
	p.depth++
	p.optionLines(p.options(it.oneof.GetOptions()))
	for _, f := range it.fields {
		p.field(f, nested, true)
	}
	p.depth--
	p.line("}")
}

// flush prints the nested messages before index upto that no field
// declares inline.
func (mp *memberPrinter) flush(upto int) {
	for ; mp.next < upto; mp.next++ {
		if !mp.tied[mp.next] {
			mp.p.message(mp.nested.list[mp.next])
		}
	}
}

// extsBefore prints the pending extensions up to the last one that
// declares a type before nested index t.
func (mp *memberPrinter) extsBefore(t int) {
	if mp.firstExtTie() >= t {
		return
	}
	last := -1
	for k := mp.xi; k < len(mp.exts); k++ {
		if x := mp.extTie[k]; x >= 0 && x < t {
			last = k
		}
	}
	if last >= 0 {
		mp.printExts(last + 1)
	}
}

// firstExtTie is the smallest nested index a pending extension declares,
// or len(nested).
func (mp *memberPrinter) firstExtTie() int {
	for k := mp.xi; k < len(mp.exts); k++ {
		if x := mp.extTie[k]; x >= 0 {
			return x
		}
	}
	return len(mp.nested.list)
}

// printExts prints the pending extensions before index until in extend
// blocks, one per run of the same extendee, closing a block where a
// nested message must print before an extension's inline type.
func (mp *memberPrinter) printExts(until int) {
	p := mp.p
	open := ""
	closeBlock := func() {
		if open != "" {
			p.depth--
			p.line("}")
			open = ""
		}
	}
	for ; mp.xi < until; mp.xi++ {
		x := mp.exts[mp.xi]
		if t := mp.extTie[mp.xi]; t >= 0 {
			if mp.pending(t) {
				closeBlock()
				mp.flush(t)
			}
			mp.next = max(mp.next, t+1)
		}
		if x.GetExtendee() != open {
			closeBlock()
			p.topBlank()
			p.line("extend %s {", p.names.name(p.scope, x.GetExtendee()))
			p.depth++
			open = x.GetExtendee()
		}
		p.field(x, mp.nested, false)
	}
	closeBlock()
}

// pending reports whether a nested message before index t still has to
// print.
func (mp *memberPrinter) pending(t int) bool {
	for k := mp.next; k < t; k++ {
		if !mp.tied[k] {
			return true
		}
	}
	return false
}
