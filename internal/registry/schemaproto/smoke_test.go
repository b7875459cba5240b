package schemaproto

import (
	"fmt"
	"testing"
)

func TestSmoke(t *testing.T) {
	h := New()
	s, err := h.Parse(`syntax = "proto2";
import "google/protobuf/descriptor.proto";
import "google/protobuf/timestamp.proto";
import "confluent/meta.proto";
package p;
option java_package = "x.y";
option (confluent.file_meta) = { doc: "hi" params: [{key: "a" value: "b"}] };
extend google.protobuf.FieldOptions { optional M opt = 5000; optional int32 o2 = 5001; }
message M { optional string s = 1 [default = "a\"b\n"]; repeated int32 xs = 2 [packed=true]; optional group G = 3 { optional int32 a = 1; } 
  extensions 100 to max; reserved 50 to 60, 70; reserved "foo"; }
message N { optional int32 foo_bar = 1 [(opt) = {s: "x" xs: [1,2]}, (o2) = 7, deprecated=true, default = 5, json_name="zz"]; map<string,M> mm = 2; optional N.E e = 3 [default = B]; enum E { A = 0; B = 1; reserved 5 to max; } 
  oneof k { int32 a = 4; string b = 5; } optional bytes by = 6 [default = "\001\377"]; optional google.protobuf.Timestamp ts = 7; optional double d = 8 [default = -inf]; }
service S { rpc Do(M) returns (stream N) { option deprecated = true; } rpc D2(M) returns (N); }
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(s.Canonical())
	fmt.Println(s.Normalized())
	s2, err := h.Parse(s.Canonical(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s2.Canonical() != s.Canonical() {
		t.Fatalf("not idempotent:\n%s", s2.Canonical())
	}
	x, _ := s.Format("ignore_extensions")
	fmt.Println(x)
}
