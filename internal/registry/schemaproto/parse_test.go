package schemaproto

import (
	"strings"
	"testing"

	"github.com/bufbuild/protocompile/linker"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
)

func TestType(t *testing.T) {
	if got := New().Type(); got != schema.Protobuf {
		t.Fatalf("Type() = %q", got)
	}
}

func TestParseWithReferences(t *testing.T) {
	deps := []schema.Dep{
		{Name: "common/money.proto", Schema: `syntax = "proto3"; package common; message Money { string currency = 1; int64 units = 2; }`},
		{Name: "common/address.proto", Schema: `syntax = "proto3"; package common;
import "common/money.proto";
message Address { string street = 1; Money toll = 2; }`},
	}
	s := mustParse(t, `syntax = "proto3";
package shop;
import "common/address.proto";
message Order { common.Address ship_to = 1; }`, deps)
	if !strings.Contains(s.Canonical(), "  common.Address ship_to = 1;\n") {
		t.Fatalf("canonical:\n%s", s.Canonical())
	}
	md, err := s.MessageByIndexes(nil)
	if err != nil || md.FullName() != "shop.Order" {
		t.Fatalf("first message: %v %v", md, err)
	}
	if got := md.Fields().ByName("ship_to").Message().Fields().ByName("toll").Message().FullName(); got != "common.Money" {
		t.Fatalf("transitive type: %s", got)
	}
}

func TestParseWellKnownImports(t *testing.T) {
	s := mustParse(t, `syntax = "proto3";
package wk;
import "google/protobuf/timestamp.proto";
import "google/protobuf/any.proto";
import "google/protobuf/wrappers.proto";
import "google/protobuf/descriptor.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/empty.proto";
import "google/protobuf/field_mask.proto";
import "confluent/meta.proto";
import "confluent/type/decimal.proto";
message Event {
  google.protobuf.Timestamp at = 1;
  google.protobuf.Any detail = 2;
  google.protobuf.StringValue note = 3;
  google.protobuf.Struct attrs = 4;
  google.protobuf.Duration took = 5;
  google.protobuf.Empty nothing = 6;
  google.protobuf.FieldMask mask = 7;
  confluent.type.Decimal amount = 8 [(confluent.field_meta) = { doc: "the amount", params: { key: "precision" value: "10" } }];
  google.protobuf.Value v = 9;
}`, nil)
	want := `  confluent.type.Decimal amount = 8 [(confluent.field_meta) = { doc: "the amount" params: [{ key: "precision" value: "10" }] }];`
	if !strings.Contains(s.Canonical(), want+"\n") {
		t.Fatalf("canonical lacks %q:\n%s", want, s.Canonical())
	}
}

func TestParseReferenceOverridesBuiltin(t *testing.T) {
	deps := []schema.Dep{{Name: "confluent/meta.proto", Schema: `syntax = "proto3"; package confluent; message Meta { string other = 7; }`}}
	s := mustParse(t, `syntax = "proto3"; import "confluent/meta.proto"; message M { confluent.Meta m = 1; }`, deps)
	md, _ := s.MessageByIndexes(nil)
	if md.Fields().Get(0).Message().Fields().ByName("other") == nil {
		t.Fatal("the registered reference did not take precedence over the built-in file")
	}
}

func TestParseMainNameTaken(t *testing.T) {
	deps := []schema.Dep{{Name: "schema.proto", Schema: `syntax = "proto3"; package dep; message D {}`}}
	_, err := New().Parse(`syntax = "proto3"; import "schema.proto"; message M { dep.D d = 1; oops x = 2; }`, deps)
	if err == nil || !strings.Contains(err.Error(), "schema_1.proto:1:") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	cycle := []schema.Dep{
		{Name: "a.proto", Schema: `syntax = "proto3"; import "b.proto"; message A {}`},
		{Name: "b.proto", Schema: `syntax = "proto3"; import "a.proto"; message B {}`},
	}
	cases := []struct {
		name string
		text string
		deps []schema.Dep
		want []string
	}{
		{"syntax error", "syntax = \"proto3\";\nmessage M {\n  int32 a = ;\n}", nil, []string{"schema.proto:3:13", "syntax error"}},
		{"unknown type", "syntax = \"proto3\";\nmessage M { Foo f = 1; }", nil, []string{"schema.proto:2:13", "Foo"}},
		{"duplicate number", "syntax = \"proto3\";\nmessage M { int32 a = 1; int32 b = 1; }", nil, []string{"schema.proto:2:36", "same tag 1"}},
		{"missing import", "syntax = \"proto3\";\nimport \"missing.proto\";\nmessage M {}", nil, []string{"schema.proto:2:8", `"missing.proto"`, "neither a reference"}},
		{"import cycle", `syntax = "proto3"; import "a.proto"; message M {}`, cycle, []string{"cycle"}},
		{"bad syntax", `syntax = "proto4"; message M {}`, nil, []string{"schema.proto:1:10", "must be"}},
		{"empty", "  \n", nil, []string{"empty protobuf schema"}},
		{"too deep", "syntax = \"proto3\";\n" + strings.Repeat("message M {", 70) + strings.Repeat("}", 70), nil, []string{"schema.proto:2:", "nesting deeper than the limit of 64"}},
		{"stray closers give no credit", "syntax = \"proto3\";\n" + strings.Repeat("}", 100) + strings.Repeat("message M {", 70), nil, []string{"nesting deeper than the limit of 64"}},
		{"too large", "syntax = \"proto3\";\n//" + strings.Repeat("x", maxFileBytes), nil, []string{"more than the limit"}},
		{"unnamed reference", `syntax = "proto3";`, []schema.Dep{{Name: "", Schema: "syntax = \"proto3\";"}}, []string{"empty name"}},
		{"bad reference", `syntax = "proto3"; import "d.proto";`, []schema.Dep{{Name: "d.proto", Schema: "message {"}}, []string{"d.proto:1:"}},
		{"proto3 required", `syntax = "proto3"; message M { required int32 a = 1; }`, nil, []string{"schema.proto:1:", "required"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New().Parse(c.text, c.deps)
			if err == nil {
				t.Fatal("parsed")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestNestingIgnoresStringsAndComments(t *testing.T) {
	braces := strings.Repeat("{", 100)
	text := "syntax = \"proto3\";\n// " + braces + "\n/* " + braces + " */\nmessage M { string s = 1 [json_name = \"" + braces + "\"]; }"
	mustParse(t, text, nil)
}

// TestRebuiltDescriptors checks that schemas get protobuf-go's indexed
// descriptors, not the fallback to protocompile's.
func TestRebuiltDescriptors(t *testing.T) {
	texts := []string{ordersProto, `syntax = "proto3"; import "confluent/meta.proto"; import "confluent/type/decimal.proto";
import "google/protobuf/struct.proto";
message M { confluent.type.Decimal d = 1 [(confluent.field_meta) = { doc: "x" }]; google.protobuf.Struct s = 2; }`}
	for _, text := range roundTrip {
		texts = append(texts, text)
	}
	for _, text := range texts {
		s := mustParse(t, text, nil)
		if _, slow := s.File().(linker.Result); slow {
			t.Errorf("schema kept protocompile's descriptors:\n%s", text)
		}
	}
}
