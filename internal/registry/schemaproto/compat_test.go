package schemaproto

import (
	"strings"
	"testing"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
)

// want is one expected incompatibility: its rule and path.
type want struct{ rule, path string }

// compatCase evolves old into new. backward is what Check(new, old)
// must report (the new schema reads old data), forward what
// Check(old, new) must report; nil means compatible.
type compatCase struct {
	name              string
	old, new          string
	deps              []schema.Dep // used by both sides
	oldDeps, newDeps  []schema.Dep // used by one side
	backward, forward []want
}

const p3 = "syntax = \"proto3\";\npackage shop;\n"
const p2 = "syntax = \"proto2\";\npackage shop;\n"

var compatCases = []compatCase{
	{name: "field added", old: p3 + "message P { string name = 1; }", new: p3 + "message P { string name = 1; int32 age = 2; }"},
	{name: "field renamed", old: p3 + "message P { string name = 1; }", new: p3 + "message P { string full_name = 1; }"},
	{name: "fields and messages reordered", old: p3 + "message P { string a = 1; int32 b = 2; } message Q { bool c = 1; }",
		new: p3 + "message Q { bool c = 1; } message P { int32 b = 2; string a = 1; }"},
	{name: "int32 to int64", old: p3 + "message P { int32 a = 1; }", new: p3 + "message P { int64 a = 1; }"},
	{name: "uint32 to bool", old: p3 + "message P { uint32 a = 1; }", new: p3 + "message P { bool a = 1; }"},
	{name: "sint32 to sint64", old: p3 + "message P { sint32 a = 1; }", new: p3 + "message P { sint64 a = 1; }"},
	{name: "fixed32 to sfixed32", old: p3 + "message P { fixed32 a = 1; }", new: p3 + "message P { sfixed32 a = 1; }"},
	{name: "fixed64 to sfixed64", old: p3 + "message P { fixed64 a = 1; }", new: p3 + "message P { sfixed64 a = 1; }"},
	{name: "string to bytes", old: p3 + "message P { string a = 1; }", new: p3 + "message P { bytes a = 1; }"},
	{name: "repeated int32 to repeated uint64", old: p3 + "message P { repeated int32 a = 1; }", new: p3 + "message P { repeated uint64 a = 1; }"},
	{name: "proto3 optional added", old: p3 + "message P { int32 a = 1; }", new: p3 + "message P { optional int32 a = 1; }"},
	{name: "syntax proto2 to proto3", old: p2 + "message P { optional int32 a = 1; repeated string b = 2; }",
		new: p3 + "message P { int32 a = 1; repeated string b = 2; }"},
	{name: "enum constant renamed", old: p3 + "enum Kind { A = 0; B = 1; } message P { Kind k = 1; }",
		new: p3 + "enum Kind { A = 0; BEE = 1; } message P { Kind k = 1; }"},
	{name: "enum constant removed and reserved", old: p3 + "enum Kind { A = 0; B = 1; C = 2; } message P { Kind k = 1; }",
		new: p3 + "enum Kind { A = 0; B = 1; reserved 2; } message P { Kind k = 1; }"},
	{name: "oneof dissolved", old: p3 + "message P { oneof k { string a = 1; int32 b = 2; } }",
		new:      p3 + "message P { string a = 1; int32 b = 2; }",
		backward: nil, forward: []want{{RuleMultipleFieldsMovedToOneof, "#/shop.P/k"}}},
	{name: "single field into new oneof", old: p3 + "message P { string a = 1; int32 b = 2; }",
		new: p3 + "message P { oneof k { string a = 1; } int32 b = 2; }"},
	{name: "timestamp field added with import", old: p3 + "message P { string a = 1; }",
		new: p3 + "import \"google/protobuf/timestamp.proto\";\nmessage P { string a = 1; google.protobuf.Timestamp at = 2; }"},
	{name: "field removed", old: p3 + "message P { string name = 1; int32 age = 2; }", new: p3 + "message P { string name = 1; }"},

	{name: "int32 to string", old: p3 + "message P { int32 age = 2; }", new: p3 + "message P { string age = 2; }",
		backward: []want{{RuleFieldScalarKindChanged, "#/shop.P/age=2"}}, forward: []want{{RuleFieldScalarKindChanged, "#/shop.P/age=2"}}},
	{name: "int32 to sint32", old: p3 + "message P { int32 a = 1; }", new: p3 + "message P { sint32 a = 1; }",
		backward: []want{{RuleFieldScalarKindChanged, "#/shop.P/a=1"}}, forward: []want{{RuleFieldScalarKindChanged, "#/shop.P/a=1"}}},
	{name: "fixed32 to fixed64", old: p3 + "message P { fixed32 a = 1; }", new: p3 + "message P { fixed64 a = 1; }",
		backward: []want{{RuleFieldScalarKindChanged, "#/shop.P/a=1"}}, forward: []want{{RuleFieldScalarKindChanged, "#/shop.P/a=1"}}},
	{name: "float to double", old: p3 + "message P { float a = 1; }", new: p3 + "message P { double a = 1; }",
		backward: []want{{RuleFieldScalarKindChanged, "#/shop.P/a=1"}}, forward: []want{{RuleFieldScalarKindChanged, "#/shop.P/a=1"}}},
	{name: "string to message", old: p3 + "message A { string s = 1; } message P { string a = 1; }",
		new:      p3 + "message A { string s = 1; } message P { A a = 1; }",
		backward: []want{{RuleFieldKindChanged, "#/shop.P/a=1"}}, forward: []want{{RuleFieldKindChanged, "#/shop.P/a=1"}}},
	{name: "enum to int32", old: p3 + "enum Kind { A = 0; } message P { Kind k = 1; }", new: p3 + "enum Kind { A = 0; } message P { int32 k = 1; }",
		backward: []want{{RuleFieldKindChanged, "#/shop.P/k=1"}}, forward: []want{{RuleFieldKindChanged, "#/shop.P/k=1"}}},
	{name: "bytes to message", old: p3 + "message A {} message P { bytes a = 1; }", new: p3 + "message A {} message P { A a = 1; }",
		backward: []want{{RuleFieldKindChanged, "#/shop.P/a=1"}}, forward: []want{{RuleFieldKindChanged, "#/shop.P/a=1"}}},
	{name: "message type changed", old: p3 + "message A {} message B {} message P { A a = 1; }", new: p3 + "message A {} message B {} message P { B a = 1; }",
		backward: []want{{RuleFieldNamedTypeChanged, "#/shop.P/a=1"}}, forward: []want{{RuleFieldNamedTypeChanged, "#/shop.P/a=1"}}},
	{name: "enum type changed", old: p3 + "enum K { A = 0; } enum L { B = 0; } message P { K k = 1; }",
		new:      p3 + "enum K { A = 0; } enum L { B = 0; } message P { L k = 1; }",
		backward: []want{{RuleFieldNamedTypeChanged, "#/shop.P/k=1"}}, forward: []want{{RuleFieldNamedTypeChanged, "#/shop.P/k=1"}}},
	{name: "well-known type changed", old: p3 + "import \"google/protobuf/timestamp.proto\";\nimport \"google/protobuf/duration.proto\";\nmessage P { google.protobuf.Timestamp t = 1; }",
		new:      p3 + "import \"google/protobuf/timestamp.proto\";\nimport \"google/protobuf/duration.proto\";\nmessage P { google.protobuf.Duration t = 1; }",
		backward: []want{{RuleFieldNamedTypeChanged, "#/shop.P/t=1"}}, forward: []want{{RuleFieldNamedTypeChanged, "#/shop.P/t=1"}}},
	{name: "message to map", old: p3 + "message A {} message P { A a = 1; }", new: p3 + "message A {} message P { map<string, A> a = 1; }",
		backward: []want{{RuleFieldKindChanged, "#/shop.P/a=1"}}, forward: []want{{RuleFieldKindChanged, "#/shop.P/a=1"}}},
	{name: "map value type", old: p3 + "message P { map<string, int32> m = 1; }", new: p3 + "message P { map<string, string> m = 1; }",
		backward: []want{{RuleFieldScalarKindChanged, "#/shop.P/m=1/value"}}, forward: []want{{RuleFieldScalarKindChanged, "#/shop.P/m=1/value"}}},
	{name: "map key type", old: p3 + "message P { map<string, int32> m = 1; }", new: p3 + "message P { map<int64, int32> m = 1; }",
		backward: []want{{RuleFieldScalarKindChanged, "#/shop.P/m=1/key"}}, forward: []want{{RuleFieldScalarKindChanged, "#/shop.P/m=1/key"}}},
	{name: "map value message type", old: p3 + "message A {} message B {} message P { map<string, A> m = 1; }",
		new:      p3 + "message A {} message B {} message P { map<string, B> m = 1; }",
		backward: []want{{RuleFieldNamedTypeChanged, "#/shop.P/m=1/value"}}, forward: []want{{RuleFieldNamedTypeChanged, "#/shop.P/m=1/value"}}},
	{name: "int32 made repeated", old: p3 + "message P { int32 a = 1; }", new: p3 + "message P { repeated int32 a = 1; }",
		forward: []want{{RuleFieldNumericLabelChanged, "#/shop.P/a=1"}}},
	{name: "string made repeated", old: p3 + "message P { string a = 1; }", new: p3 + "message P { repeated string a = 1; }",
		forward: []want{{RuleFieldStringLabelChanged, "#/shop.P/a=1"}}},
	{name: "message made repeated", old: p3 + "message A {} message P { A a = 1; }", new: p3 + "message A {} message P { repeated A a = 1; }",
		forward: []want{{RuleFieldMessageLabelChanged, "#/shop.P/a=1"}}},
	{name: "message removed", old: p3 + "message P { string a = 1; } message Q { string b = 1; }", new: p3 + "message P { string a = 1; }",
		backward: []want{{RuleMessageRemoved, "#/shop.Q"}}},
	{name: "nested message added", old: p3 + "message P { string a = 1; }", new: p3 + "message P { string a = 1; message Inner { int32 x = 1; } }",
		forward: []want{{RuleMessageRemoved, "#/shop.P.Inner"}}},
	{name: "package changed", old: p3 + "message P { string a = 1; }", new: "syntax = \"proto3\";\npackage store;\nmessage P { string a = 1; }",
		backward: []want{{RulePackageChanged, "#/package"}}, forward: []want{{RulePackageChanged, "#/package"}}},
	{name: "optional made required", old: p2 + "message P { optional string a = 1; }", new: p2 + "message P { required string a = 1; }",
		backward: []want{{RuleRequiredFieldAdded, "#/shop.P/a=1"}}, forward: []want{{RuleRequiredFieldRemoved, "#/shop.P/a=1"}}},
	{name: "required field added", old: p2 + "message P { optional string a = 1; }", new: p2 + "message P { optional string a = 1; required int32 b = 2; }",
		backward: []want{{RuleRequiredFieldAdded, "#/shop.P/b=2"}}, forward: []want{{RuleRequiredFieldRemoved, "#/shop.P/b=2"}}},
	{name: "enum constant added", old: p3 + "enum Kind { A = 0; B = 1; } message P { Kind k = 1; }",
		new:     p3 + "enum Kind { A = 0; B = 1; C = 2; } message P { Kind k = 1; }",
		forward: []want{{RuleEnumConstRemoved, "#/shop.Kind/C=2"}}},
	{name: "nested enum constant removed", old: p3 + "message P { enum Kind { A = 0; B = 1; } Kind k = 1; }",
		new:      p3 + "message P { enum Kind { A = 0; } Kind k = 1; }",
		backward: []want{{RuleEnumConstRemoved, "#/shop.P.Kind/B=1"}}},
	{name: "field into existing oneof", old: p3 + "message P { oneof k { string a = 1; } int32 b = 2; }",
		new:      p3 + "message P { oneof k { string a = 1; int32 b = 2; } }",
		backward: []want{{RuleFieldMovedToExistingOneof, "#/shop.P/b=2"}}, forward: []want{{RuleOneofFieldRemoved, "#/shop.P/b=2"}}},
	{name: "multiple fields into new oneof", old: p3 + "message P { string a = 1; int32 b = 2; }",
		new:      p3 + "message P { oneof k { string a = 1; int32 b = 2; } }",
		backward: []want{{RuleMultipleFieldsMovedToOneof, "#/shop.P/k"}}},
	{name: "oneof member removed", old: p3 + "message P { oneof k { string a = 1; int32 b = 2; } }",
		new:      p3 + "message P { oneof k { string a = 1; } }",
		backward: []want{{RuleOneofFieldRemoved, "#/shop.P/b=2"}}},
	{name: "group to message", old: p2 + "message P { optional group G = 1 { optional int32 x = 1; } }",
		new:      p2 + "message P { message G { optional int32 x = 1; } optional G g = 1; }",
		backward: []want{{RuleFieldKindChanged, "#/shop.P/g=1"}}, forward: []want{{RuleFieldKindChanged, "#/shop.P/g=1"}}},
	{name: "nested message field type", old: p3 + "message P { message Inner { int32 x = 1; } Inner i = 1; }",
		new:      p3 + "message P { message Inner { double x = 1; } Inner i = 1; }",
		backward: []want{{RuleFieldScalarKindChanged, "#/shop.P.Inner/x=1"}}, forward: []want{{RuleFieldScalarKindChanged, "#/shop.P.Inner/x=1"}}},
	{name: "recursive message", old: p3 + "message Tree { repeated Tree children = 1; int32 v = 2; }",
		new:      p3 + "message Tree { repeated Tree children = 1; string v = 2; }",
		backward: []want{{RuleFieldScalarKindChanged, "#/shop.Tree/v=2"}}, forward: []want{{RuleFieldScalarKindChanged, "#/shop.Tree/v=2"}}},
	{name: "every change reported", old: p3 + "message P { int32 age = 1; bytes b = 2; } message Q {}",
		new:      p3 + "message P { string age = 1; repeated bytes b = 2; }",
		backward: []want{{RuleMessageRemoved, "#/shop.Q"}, {RuleFieldScalarKindChanged, "#/shop.P/age=1"}},
		forward:  []want{{RuleFieldScalarKindChanged, "#/shop.P/age=1"}, {RuleFieldStringLabelChanged, "#/shop.P/b=2"}}},
	{name: "referenced message changed", old: p3 + "import \"common/address.proto\";\nmessage P { common.Address a = 1; }",
		new:      p3 + "import \"common/address.proto\";\nmessage P { common.Address a = 1; }",
		oldDeps:  []schema.Dep{{Name: "common/address.proto", Schema: "syntax = \"proto3\";\npackage common;\nmessage Address { string street = 1; }"}},
		newDeps:  []schema.Dep{{Name: "common/address.proto", Schema: "syntax = \"proto3\";\npackage common;\nmessage Address { int32 street = 1; }"}},
		backward: []want{{RuleFieldScalarKindChanged, "#/common.Address/street=1"}}, forward: []want{{RuleFieldScalarKindChanged, "#/common.Address/street=1"}}},
}

func TestCheckTable(t *testing.T) {
	h := New()
	compatible, incompatible := 0, 0
	for _, c := range compatCases {
		t.Run(c.name, func(t *testing.T) {
			old := mustParse(t, c.old, append(append([]schema.Dep{}, c.deps...), c.oldDeps...))
			nw := mustParse(t, c.new, append(append([]schema.Dep{}, c.deps...), c.newDeps...))
			assertIncompat(t, "backward", h.Check(nw, old), c.backward)
			assertIncompat(t, "forward", h.Check(old, nw), c.forward)
		})
		for _, w := range [][]want{c.backward, c.forward} {
			if len(w) == 0 {
				compatible++
			} else {
				incompatible++
			}
		}
	}
	if compatible < 20 || incompatible < 20 {
		t.Fatalf("table has %d compatible and %d incompatible verdicts; want at least 20 of each", compatible, incompatible)
	}
}

func assertIncompat(t *testing.T, dir string, got []schema.Incompatibility, want []want) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d incompatibilities, want %d: %v", dir, len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Rule != w.rule || g.Path != w.path {
			t.Errorf("%s[%d]: got %s at %s, want %s at %s", dir, i, g.Rule, g.Path, w.rule, w.path)
		}
		if g.Detail == "" || strings.HasSuffix(g.Detail, " ") {
			t.Errorf("%s[%d]: bad detail %q", dir, i, g.Detail)
		}
		if g.Reader == "" && g.Writer == "" && g.Rule != RuleMultipleFieldsMovedToOneof {
			t.Errorf("%s[%d]: %s names neither side", dir, i, g.Rule)
		}
	}
}

func mustParse(t testing.TB, text string, deps []schema.Dep) *Schema {
	t.Helper()
	s, err := New().Parse(text, deps)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, text)
	}
	return s.(*Schema)
}

func TestCheckSides(t *testing.T) {
	h := New()
	old := mustParse(t, p3+"enum Kind { A = 0; } message Address {} message P { int32 age = 1; Address addr = 2; }", nil)
	nw := mustParse(t, p3+"enum Kind { A = 0; } message Address {} message P { string age = 1; Kind addr = 2; }", nil)
	got := h.Check(nw, old)
	if len(got) != 2 {
		t.Fatalf("got %v", got)
	}
	if got[0].Reader != "string" || got[0].Writer != "int32" {
		t.Errorf("scalar sides: %+v", got[0])
	}
	if got[1].Rule != RuleFieldKindChanged || got[1].Reader != "enum shop.Kind" || got[1].Writer != "message shop.Address" {
		t.Errorf("kind sides: %+v", got[1])
	}
	if s := got[0].String(); !strings.Contains(s, "FIELD_SCALAR_KIND_CHANGED at #/shop.P/age=1 (reader string, writer int32)") {
		t.Errorf("String() = %q", s)
	}
}
