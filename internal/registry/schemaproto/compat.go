package schemaproto

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
)

// The rules Check reports (see doc.go for when each applies).
const (
	RulePackageChanged             = "PACKAGE_CHANGED"
	RuleMessageRemoved             = "MESSAGE_REMOVED"
	RuleFieldKindChanged           = "FIELD_KIND_CHANGED"
	RuleFieldScalarKindChanged     = "FIELD_SCALAR_KIND_CHANGED"
	RuleFieldNamedTypeChanged      = "FIELD_NAMED_TYPE_CHANGED"
	RuleFieldNumericLabelChanged   = "FIELD_NUMERIC_LABEL_CHANGED"
	RuleFieldStringLabelChanged    = "FIELD_STRING_OR_BYTES_LABEL_CHANGED"
	RuleFieldMessageLabelChanged   = "FIELD_MESSAGE_LABEL_CHANGED"
	RuleRequiredFieldAdded         = "REQUIRED_FIELD_ADDED"
	RuleRequiredFieldRemoved       = "REQUIRED_FIELD_REMOVED"
	RuleFieldMovedToExistingOneof  = "FIELD_MOVED_TO_EXISTING_ONEOF"
	RuleOneofFieldRemoved          = "ONEOF_FIELD_REMOVED"
	RuleMultipleFieldsMovedToOneof = "MULTIPLE_FIELDS_MOVED_TO_ONEOF"
	RuleEnumConstRemoved           = "ENUM_CONST_REMOVED"
)

// Check reports why reader cannot read what writer wrote. Messages and
// enums are matched by full name with the file's package left off (a
// changed package is reported once, as PACKAGE_CHANGED); each pair of
// messages is compared once, those of the writer's file and those that
// matched fields reach in either file's imports.
func (handler) Check(reader, writer schema.Schema) []schema.Incompatibility {
	r, rok := reader.(*Schema)
	w, wok := writer.(*Schema)
	if !rok || !wok {
		return []schema.Incompatibility{{Path: "#/", Rule: "TYPE_MISMATCH", Detail: "one of the two schemas is not a protobuf schema"}}
	}
	c := &checker{
		rpkg: r.file.Package(), wpkg: w.file.Package(),
		seen: map[protoreflect.FullName]bool{},
	}
	if c.rpkg != c.wpkg {
		c.add("#/package", RulePackageChanged, string(c.rpkg), string(c.wpkg),
			"the package changed, so every message's full name changed")
	}
	rmsgs := map[string]protoreflect.MessageDescriptor{}
	walkMessages(r.file.Messages(), func(m protoreflect.MessageDescriptor) { rmsgs[c.rel(m.FullName(), c.rpkg)] = m })
	walkMessages(w.file.Messages(), func(wm protoreflect.MessageDescriptor) {
		rm, ok := rmsgs[c.rel(wm.FullName(), c.wpkg)]
		if !ok {
			c.add("#/"+string(wm.FullName()), RuleMessageRemoved, "", "message "+string(wm.FullName()),
				"the reader has no message of this name, so it cannot read data written as it")
			return
		}
		c.queue = append(c.queue, [2]protoreflect.MessageDescriptor{rm, wm})
	})
	renums := map[string]protoreflect.EnumDescriptor{}
	walkEnums(r.file, func(e protoreflect.EnumDescriptor) { renums[c.rel(e.FullName(), c.rpkg)] = e })
	walkEnums(w.file, func(we protoreflect.EnumDescriptor) {
		if re, ok := renums[c.rel(we.FullName(), c.wpkg)]; ok {
			c.compareEnum(re, we)
		}
	})
	for len(c.queue) > 0 {
		pair := c.queue[0]
		c.queue = c.queue[1:]
		c.compareMessage(pair[0], pair[1])
	}
	return c.out
}

type checker struct {
	rpkg, wpkg protoreflect.FullName
	queue      [][2]protoreflect.MessageDescriptor // reader, writer
	seen       map[protoreflect.FullName]bool      // writer messages and enums queued or compared
	out        []schema.Incompatibility
}

func (c *checker) add(path, rule, reader, writer, detail string) {
	c.out = append(c.out, schema.Incompatibility{Path: path, Rule: rule, Reader: reader, Writer: writer, Detail: detail})
}

// rel is name without the package prefix pkg.
func (c *checker) rel(name, pkg protoreflect.FullName) string {
	if pkg != "" && strings.HasPrefix(string(name), string(pkg)+".") {
		return string(name[len(pkg)+1:])
	}
	return string(name)
}

// walkMessages visits every message, nested ones after their parent,
// map entries left out.
func walkMessages(ms protoreflect.MessageDescriptors, visit func(protoreflect.MessageDescriptor)) {
	for i := 0; i < ms.Len(); i++ {
		m := ms.Get(i)
		if m.IsMapEntry() {
			continue
		}
		visit(m)
		walkMessages(m.Messages(), visit)
	}
}

func walkEnums(f protoreflect.FileDescriptor, visit func(protoreflect.EnumDescriptor)) {
	for i := 0; i < f.Enums().Len(); i++ {
		visit(f.Enums().Get(i))
	}
	walkMessages(f.Messages(), func(m protoreflect.MessageDescriptor) {
		for i := 0; i < m.Enums().Len(); i++ {
			visit(m.Enums().Get(i))
		}
	})
}

func (c *checker) compareEnum(re, we protoreflect.EnumDescriptor) {
	if c.seen[we.FullName()] {
		return
	}
	c.seen[we.FullName()] = true
	vals := we.Values()
	for i := 0; i < vals.Len(); i++ {
		v := vals.Get(i)
		if re.Values().ByNumber(v.Number()) != nil || re.ReservedRanges().Has(v.Number()) {
			continue
		}
		c.add(fmt.Sprintf("#/%s/%s=%d", we.FullName(), v.Name(), v.Number()), RuleEnumConstRemoved, "", string(v.Name()),
			fmt.Sprintf("the reader's enum %s has no constant numbered %d and does not reserve it", re.FullName(), v.Number()))
	}
}

func (c *checker) compareMessage(rm, wm protoreflect.MessageDescriptor) {
	if c.seen[wm.FullName()] {
		return
	}
	c.seen[wm.FullName()] = true
	wfs := wm.Fields()
	for i := 0; i < wfs.Len(); i++ {
		wf := wfs.Get(i)
		rf := rm.Fields().ByNumber(wf.Number())
		if rf == nil {
			c.removedField(rm, wf)
			continue
		}
		path := fieldPath(rm, rf)
		c.compareField(path, rf, wf)
		c.compareRequired(path, rf, wf)
		c.compareOneof(path, rm, rf, wf)
	}
	rfs := rm.Fields()
	for i := 0; i < rfs.Len(); i++ {
		rf := rfs.Get(i)
		if wfs.ByNumber(rf.Number()) == nil && rf.Cardinality() == protoreflect.Required {
			c.add(fieldPath(rm, rf), RuleRequiredFieldAdded, "required", "",
				"the reader requires a field the writer does not have, so the writer's data lacks it")
		}
	}
	c.movedToNewOneofs(rm, wm)
}

func fieldPath(m protoreflect.MessageDescriptor, f protoreflect.FieldDescriptor) string {
	return fmt.Sprintf("#/%s/%s=%d", m.FullName(), f.Name(), f.Number())
}

// removedField handles a writer field whose number the reader lacks:
// skipped as an unknown field, which is compatible unless it was required
// or a member of a oneof the reader still has.
func (c *checker) removedField(rm protoreflect.MessageDescriptor, wf protoreflect.FieldDescriptor) {
	path := fieldPath(wf.ContainingMessage(), wf)
	if wf.Cardinality() == protoreflect.Required {
		c.add(path, RuleRequiredFieldRemoved, "", "required",
			"the writer's required field is gone from the reader; required fields must never be removed")
	}
	if o := realOneof(wf); o != nil && rm.Oneofs().ByName(o.Name()) != nil {
		c.add(path, RuleOneofFieldRemoved, "", "oneof "+string(o.Name()),
			fmt.Sprintf("the field was removed from oneof %s, so a value written to it reads as the oneof unset", o.Name()))
	}
}

func realOneof(f protoreflect.FieldDescriptor) protoreflect.OneofDescriptor {
	if o := f.ContainingOneof(); o != nil && !o.IsSynthetic() {
		return o
	}
	return nil
}

func (c *checker) compareRequired(path string, rf, wf protoreflect.FieldDescriptor) {
	rreq, wreq := rf.Cardinality() == protoreflect.Required, wf.Cardinality() == protoreflect.Required
	switch {
	case rreq && !wreq:
		c.add(path, RuleRequiredFieldAdded, "required", "optional",
			"the reader requires a field that the writer may leave out")
	case wreq && !rreq:
		c.add(path, RuleRequiredFieldRemoved, "optional", "required",
			"the field is no longer required; required fields must never change label")
	}
}

// compareOneof reports a field moved out of a writer oneof that the
// reader still has, or into a oneof the writer already had. A oneof the
// reader dissolved altogether is compatible: the writer set at most one
// of its fields, which the reader reads as plain fields.
func (c *checker) compareOneof(path string, rm protoreflect.MessageDescriptor, rf, wf protoreflect.FieldDescriptor) {
	ro, wo := realOneof(rf), realOneof(wf)
	if wo != nil && (ro == nil || ro.Name() != wo.Name()) && rm.Oneofs().ByName(wo.Name()) != nil {
		c.add(path, RuleOneofFieldRemoved, oneofText(ro), oneofText(wo),
			fmt.Sprintf("the field left oneof %s, which changes what a reader sees set", wo.Name()))
	}
	if ro != nil && (wo == nil || wo.Name() != ro.Name()) && wf.ContainingMessage().Oneofs().ByName(ro.Name()) != nil {
		c.add(path, RuleFieldMovedToExistingOneof, oneofText(ro), oneofText(wo),
			fmt.Sprintf("the field moved into the existing oneof %s, so data with it and another member set loses one of them", ro.Name()))
	}
}

func oneofText(o protoreflect.OneofDescriptor) string {
	if o == nil {
		return ""
	}
	return "oneof " + string(o.Name())
}

// movedToNewOneofs reports a reader oneof the writer did not have that
// gathers two or more fields the writer had outside any oneof.
func (c *checker) movedToNewOneofs(rm, wm protoreflect.MessageDescriptor) {
	for i := 0; i < rm.Oneofs().Len(); i++ {
		ro := rm.Oneofs().Get(i)
		if ro.IsSynthetic() || wm.Oneofs().ByName(ro.Name()) != nil {
			continue
		}
		var moved []string
		for j := 0; j < ro.Fields().Len(); j++ {
			rf := ro.Fields().Get(j)
			if wf := wm.Fields().ByNumber(rf.Number()); wf != nil && realOneof(wf) == nil {
				moved = append(moved, string(rf.Name()))
			}
		}
		if len(moved) > 1 {
			c.add(fmt.Sprintf("#/%s/%s", rm.FullName(), ro.Name()), RuleMultipleFieldsMovedToOneof,
				"oneof "+string(ro.Name()), strings.Join(moved, ", "),
				fmt.Sprintf("fields %s moved into the new oneof %s, so data with more than one of them set loses all but one", strings.Join(moved, ", "), ro.Name()))
		}
	}
}
