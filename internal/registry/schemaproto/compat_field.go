package schemaproto

import (
	"fmt"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// kindClass groups field kinds that are interchangeable only within the
// class: scalar, enum, message, group (delimited) and map.
func kindClass(f protoreflect.FieldDescriptor) string {
	switch {
	case f.IsMap():
		return "map"
	case f.Kind() == protoreflect.MessageKind:
		return "message"
	case f.Kind() == protoreflect.GroupKind:
		return "group"
	case f.Kind() == protoreflect.EnumKind:
		return "enum"
	}
	return "scalar"
}

// typeText names a field's type as Incompatibility.Reader/Writer show it.
func typeText(f protoreflect.FieldDescriptor) string {
	switch kindClass(f) {
	case "map":
		return fmt.Sprintf("map<%s, %s>", typeText(f.MapKey()), typeText(f.MapValue()))
	case "message", "group":
		return kindClass(f) + " " + string(f.Message().FullName())
	case "enum":
		return "enum " + string(f.Enum().FullName())
	}
	return f.Kind().String()
}

// wireGroup numbers the scalar kinds whose encodings read as each other.
func wireGroup(k protoreflect.Kind) int {
	switch k {
	case protoreflect.Int32Kind, protoreflect.Uint32Kind, protoreflect.Int64Kind, protoreflect.Uint64Kind, protoreflect.BoolKind:
		return 1
	case protoreflect.Sint32Kind, protoreflect.Sint64Kind:
		return 2
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind:
		return 3
	case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind:
		return 4
	case protoreflect.StringKind, protoreflect.BytesKind:
		return 5
	case protoreflect.FloatKind:
		return 6
	case protoreflect.DoubleKind:
		return 7
	}
	return 0
}

// compareField compares the type and cardinality of two fields with the
// same number.
func (c *checker) compareField(path string, rf, wf protoreflect.FieldDescriptor) {
	if !c.compareType(path, rf, wf) {
		return
	}
	if rf.IsMap() {
		c.compareType(path+"/key", rf.MapKey(), wf.MapKey())
		c.compareType(path+"/value", rf.MapValue(), wf.MapValue())
		return
	}
	if wf.IsList() && !rf.IsList() {
		rule, what := RuleFieldMessageLabelChanged, "merges the elements into one message"
		switch kind := rf.Kind(); {
		case kind == protoreflect.StringKind || kind == protoreflect.BytesKind:
			rule, what = RuleFieldStringLabelChanged, "keeps only the last element"
		case kindClass(rf) == "scalar" || kind == protoreflect.EnumKind:
			rule, what = RuleFieldNumericLabelChanged, "cannot read packed elements and keeps at most the last one"
		}
		c.add(path, rule, "singular "+typeText(rf), "repeated "+typeText(wf),
			"the writer's field is repeated and the reader's is singular, so the reader "+what)
	}
}

// compareType compares the kinds and types of two fields (or map keys or
// values), queueing matched message types; it is false when the kinds
// differ, after which nothing else of the pair is compared.
func (c *checker) compareType(path string, rf, wf protoreflect.FieldDescriptor) bool {
	rc, wc := kindClass(rf), kindClass(wf)
	if rc != wc {
		c.add(path, RuleFieldKindChanged, typeText(rf), typeText(wf),
			fmt.Sprintf("the field changed from %s to %s, whose encodings do not read as each other", wc, rc))
		return false
	}
	switch rc {
	case "scalar":
		if rf.Kind() != wf.Kind() && wireGroup(rf.Kind()) != wireGroup(wf.Kind()) {
			c.add(path, RuleFieldScalarKindChanged, typeText(rf), typeText(wf),
				fmt.Sprintf("%s and %s are not wire-compatible scalar types", wf.Kind(), rf.Kind()))
		}
	case "enum":
		if !c.sameName(rf.Enum().FullName(), wf.Enum().FullName()) {
			c.namedTypeChanged(path, rf, wf)
			break
		}
		c.compareEnum(rf.Enum(), wf.Enum())
	case "message", "group":
		if !c.sameName(rf.Message().FullName(), wf.Message().FullName()) {
			c.namedTypeChanged(path, rf, wf)
			break
		}
		if !c.seen[wf.Message().FullName()] {
			c.queue = append(c.queue, [2]protoreflect.MessageDescriptor{rf.Message(), wf.Message()})
		}
	}
	return true
}

func (c *checker) namedTypeChanged(path string, rf, wf protoreflect.FieldDescriptor) {
	c.add(path, RuleFieldNamedTypeChanged, typeText(rf), typeText(wf),
		"the field refers to a different type in the reader than in the writer")
}

// sameName compares a reader's and a writer's type name, each relative
// to its own file's package.
func (c *checker) sameName(r, w protoreflect.FullName) bool {
	return r == w || c.rel(r, c.rpkg) == c.rel(w, c.wpkg)
}
