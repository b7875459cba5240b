package schemaproto

import (
	"encoding/base64"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
)

const personCompact = `syntax="proto3";package shop;import "google/protobuf/timestamp.proto";
message Person{string name=1;int32 age=2;map<string,Address> homes=3;oneof contact{string email=4;string phone=5;}
google.protobuf.Timestamp born=6;optional bool vip=7;enum Kind{KIND_UNSPECIFIED=0;KIND_B=1;}Kind kind=8;
message Address{string street=1;}}`

const personSpaced = `// A person.
syntax = "proto3";

package shop;   /* the shop */

import "google/protobuf/timestamp.proto";

message Person {
  string name = 1;   // full name
  int32  age  = 2;
  map < string , Address > homes = 3;
  oneof contact {
    string email = 4;
    string phone = 5;
  }
  google.protobuf.Timestamp born = 6;
  optional bool vip = 7;
  enum Kind {
    KIND_UNSPECIFIED = 0;
    KIND_B = 1;
  }
  Kind kind = 8;
  // nested
  message Address { string street = 1; }
}
`

const personCanonical = `syntax = "proto3";
package shop;

import "google/protobuf/timestamp.proto";

message Person {
  string name = 1;
  int32 age = 2;
  map<string, Address> homes = 3;
  oneof contact {
    string email = 4;
    string phone = 5;
  }
  google.protobuf.Timestamp born = 6;
  optional bool vip = 7;
  Kind kind = 8;
  enum Kind {
    KIND_UNSPECIFIED = 0;
    KIND_B = 1;
  }
  message Address {
    string street = 1;
  }
}
`

func TestCanonicalIgnoresLayout(t *testing.T) {
	a := mustParse(t, personCompact, nil)
	b := mustParse(t, personSpaced, nil)
	if a.Canonical() != personCanonical {
		t.Fatalf("canonical:\n%s\nwant:\n%s", a.Canonical(), personCanonical)
	}
	if b.Canonical() != a.Canonical() || b.Normalized() != a.Normalized() {
		t.Fatalf("layout changed the canonical form:\n%s", b.Canonical())
	}
	c := mustParse(t, strings.Replace(personSpaced, "age  = 2", "age = 9", 1), nil)
	if c.Canonical() == a.Canonical() || c.Normalized() == a.Normalized() {
		t.Fatal("a changed field number did not change the forms")
	}
}

func TestNormalizedIgnoresOrder(t *testing.T) {
	a := mustParse(t, `syntax = "proto3"; package n;
import "google/protobuf/timestamp.proto";
import "google/protobuf/duration.proto";
enum E { Z = 0; B = 2; A = 1; }
message M { int32 b = 2; oneof o { string y = 4; string x = 3; } int32 a = 1; reserved 20, 10; reserved "q", "p"; }
message L { google.protobuf.Timestamp t = 1; google.protobuf.Duration d = 2; }
service S { rpc B(M) returns (M); rpc A(L) returns (L); }`, nil)
	b := mustParse(t, `syntax = "proto3"; package n;
import "google/protobuf/duration.proto";
import "google/protobuf/timestamp.proto";
service S { rpc A(L) returns (L); rpc B(M) returns (M); }
message M { reserved "p", "q"; reserved 10, 20; int32 a = 1; int32 b = 2; oneof o { string x = 3; string y = 4; } }
message L { google.protobuf.Duration d = 2; google.protobuf.Timestamp t = 1; }
enum E { Z = 0; A = 1; B = 2; }`, nil)
	if a.Canonical() == b.Canonical() {
		t.Fatal("canonical forms should keep declaration order")
	}
	if a.Normalized() != b.Normalized() {
		t.Fatalf("normalized forms differ:\n%s\n----\n%s", a.Normalized(), b.Normalized())
	}
	for _, w := range []string{"enum E {\n  Z = 0;\n  A = 1;\n  B = 2;\n}", "import \"google/protobuf/duration.proto\";\nimport \"google/protobuf/timestamp.proto\";"} {
		if !strings.Contains(a.Normalized(), w) {
			t.Errorf("normalized lacks %q:\n%s", w, a.Normalized())
		}
	}
}

// roundTrip are schemas whose printed forms must parse back to themselves.
var roundTrip = map[string]string{
	"person": personSpaced,
	"proto2": `syntax = "proto2";
package p2;
import "google/protobuf/descriptor.proto";
option java_package = "com.example.p2";
option optimize_for = SPEED;
extend google.protobuf.FieldOptions { optional Opt opt = 50000; repeated int32 nums = 50001; optional double ratio = 50002; }
message Opt { optional string s = 1; repeated int32 xs = 2; optional Opt child = 3; optional bytes raw = 4; optional Kind k = 5; }
enum Kind { option allow_alias = true; K_A = 0; K_B = 1; K_ALIAS = 1; K_NEG = -3; reserved 10 to 20, 30 to max; reserved "K_OLD"; }
message Msg {
  option deprecated = true;
  required string id = 1 [default = "x\ty\"z\\\001é"];
  optional int64 big = 2 [default = -9000000000, (opt) = { s: "a" xs: [1, 2] child { s: "b" } raw: "\000\377" k: K_B }];
  repeated int32 packed = 3 [packed = true, (nums) = 1, (nums) = 2, (ratio) = 0.25];
  optional group Result = 4 { required string url = 5; optional float score = 6 [default = nan]; }
  optional Kind kind = 7 [default = K_NEG];
  optional bytes blob = 8 [default = "\x01\x02abc"];
  optional string renamed = 9 [json_name = "otherName"];
  extensions 100 to 199, 1000 to max;
  reserved 50 to 60, 70;
  reserved "gone";
  message Inner { optional uint32 u = 1; }
  extend Msg { optional Inner inner_ext = 150; }
}
extend Msg { optional int32 top_ext = 101; optional group TopGroup = 102 { optional int32 g = 1; } }
service Svc {
  option deprecated = true;
  rpc Get(Msg) returns (Msg);
  rpc Stream(stream Msg) returns (stream Msg) { option idempotency_level = NO_SIDE_EFFECTS; }
}`,
	"editions": `edition = "2023";
package ed;
option features.field_presence = IMPLICIT;
message M {
  int32 a = 1 [features.field_presence = EXPLICIT];
  repeated int32 b = 2;
  M child = 3 [features.message_encoding = DELIMITED];
  string s = 4;
}`,
	"proto3 extras": `syntax = "proto3";
package p3.x;
import public "google/protobuf/wrappers.proto";
import "google/protobuf/any.proto";
message A {
  optional string maybe = 1;
  map<int64, A> children = 2;
  map<string, Color> colors = 3;
  repeated google.protobuf.Any extra = 4;
  google.protobuf.Int32Value boxed = 5;
  oneof choice { A nested = 6; bytes raw = 7; Color color = 8; }
  enum Color { COLOR_UNSPECIFIED = 0; RED = 1; }
  message B { message C { repeated double d = 1 [packed = false]; } C c = 1; }
  B b = 9;
  sfixed64 s64 = 10; sint32 si = 11; fixed32 f32 = 12; float f = 13;
}`,
	"no package": `syntax = "proto3"; message Top { Top self = 1; } enum E { E0 = 0; }`,
}

func TestPrintedFormsReparse(t *testing.T) {
	for name, text := range roundTrip {
		t.Run(name, func(t *testing.T) {
			s := mustParse(t, text, nil)
			c := mustParse(t, s.Canonical(), nil)
			if c.Canonical() != s.Canonical() {
				t.Fatalf("canonical is not a fixed point:\n%s\n----\n%s", s.Canonical(), c.Canonical())
			}
			n := mustParse(t, s.Normalized(), nil)
			if n.Normalized() != s.Normalized() {
				t.Fatalf("normalized is not a fixed point:\n%s\n----\n%s", s.Normalized(), n.Normalized())
			}
			if ie, err := s.Format(FormatIgnoreExtensions); err != nil {
				t.Fatal(err)
			} else {
				mustParse(t, ie, nil)
			}
			if len(New().Check(c, s)) != 0 || len(New().Check(s, n)) != 0 {
				t.Fatal("a printed form is not compatible with its source")
			}
		})
	}
}

func TestProto2Printing(t *testing.T) {
	s := mustParse(t, roundTrip["proto2"], nil)
	for _, w := range []string{
		`  required string id = 1 [default = "x\ty\"z\\\001é"];`,
		`  optional int64 big = 2 [default = -9000000000, (opt) = { s: "a" xs: [1, 2] child: { s: "b" } raw: "\000\377" k: K_ALIAS }];`,
		`  repeated int32 packed = 3 [packed = true, (nums) = 1, (nums) = 2, (ratio) = 0.25];`,
		"  optional group Result = 4 {\n    required string url = 5;\n    optional float score = 6 [default = nan];\n  }",
		`  optional bytes blob = 8 [default = "\001\002abc"];`,
		`  optional string renamed = 9 [json_name = "otherName"];`,
		"  extensions 100 to 199;\n  extensions 1000 to max;",
		"  reserved 50 to 60, 70;\n  reserved \"gone\";",
		"  reserved 10 to 20, 30 to max;\n  reserved \"K_OLD\";",
		"option java_package = \"com.example.p2\";\noption optimize_for = SPEED;",
		"extend Msg {\n  optional int32 top_ext = 101;\n  optional group TopGroup = 102 {\n    optional int32 g = 1;\n  }\n}",
		"  rpc Stream(stream Msg) returns (stream Msg) {\n    option idempotency_level = NO_SIDE_EFFECTS;\n  }",
	} {
		if !strings.Contains(s.Canonical(), w+"\n") {
			t.Errorf("canonical lacks\n%s\nin\n%s", w, s.Canonical())
		}
	}
}

func TestFormats(t *testing.T) {
	s := mustParse(t, roundTrip["proto2"], nil)
	if got, err := s.Format(""); err != nil || got != s.Canonical() {
		t.Fatalf(`Format("") = %q, %v`, got, err)
	}
	ser, err := s.Format(FormatSerialized)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(ser)
	if err != nil {
		t.Fatal(err)
	}
	var fdp descriptorpb.FileDescriptorProto
	if err := proto.Unmarshal(raw, &fdp); err != nil {
		t.Fatal(err)
	}
	if fdp.GetPackage() != "p2" || len(fdp.GetMessageType()) != 3 || fdp.GetMessageType()[1].GetName() != "Msg" {
		t.Fatalf("serialized descriptor: %v", &fdp)
	}
	again, _ := mustParse(t, roundTrip["proto2"], nil).Format(FormatSerialized)
	if again != ser {
		t.Fatal("serialized format is not deterministic")
	}
	ie, err := s.Format(FormatIgnoreExtensions)
	if err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{"extend ", "(opt)", "(nums)"} {
		if strings.Contains(ie, gone) {
			t.Errorf("ignore_extensions keeps %q:\n%s", gone, ie)
		}
	}
	for _, kept := range []string{"packed = true", "extensions 100 to 199;", "option java_package"} {
		if !strings.Contains(ie, kept) {
			t.Errorf("ignore_extensions lacks %q", kept)
		}
	}
	if _, err := s.Format("json"); err == nil || !strings.Contains(err.Error(), `"json"`) {
		t.Fatalf("unknown format: %v", err)
	}
}

func TestSchemaInterface(t *testing.T) {
	var _ schema.Schema = (*Schema)(nil)
	var _ schema.Handler = New()
}
