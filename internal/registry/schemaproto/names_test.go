package schemaproto

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// shadowing are schemas where a shorter name would resolve to another
// element; want are lines the canonical form must hold.
var shadowing = []struct {
	name, text string
	want       []string
}{
	{"nested name hides outer", `syntax = "proto3"; package pkg;
message Outer { message Inner {} message X { message Inner {} Outer.Inner a = 1; Inner b = 2; } }`,
		[]string{"    Outer.Inner a = 1;", "    Inner b = 2;"}},
	{"package prefix hides google", `syntax = "proto3"; package com.google.foo;
import "google/protobuf/timestamp.proto";
message M { .google.protobuf.Timestamp t = 1; }`,
		[]string{"  .google.protobuf.Timestamp t = 1;"}},
	{"field name hides option", `syntax = "proto3"; package x;
import "google/protobuf/descriptor.proto";
extend google.protobuf.FieldOptions { int32 opt = 50000; }
message M { message x {} int32 opt = 1 [(.x.opt) = 5]; }`,
		[]string{"  int32 opt = 1 [(.x.opt) = 5];"}},
	{"sibling message", `syntax = "proto3"; package a.b; message A { message C {} B b = 1; } message B { A.C c = 1; } message C {} `,
		[]string{"  B b = 1;", "  A.C c = 1;"}},
	{"map value in entry scope", `syntax = "proto3"; package m; message value {} message M { map<string, value> v = 1; }`,
		[]string{"  map<string, m.value> v = 1;"}},
	{"no package", `syntax = "proto3"; message A { message A {} A a = 1; .A b = 2; }`,
		[]string{"  A a = 1;", "  .A b = 2;"}},
	{"keyword type names", `syntax = "proto3"; package k; message optional {} message stream {} message map {}
message M { .k.optional a = 1; .k.map b = 2; } service S { rpc R(.k.stream) returns (.k.stream); }`,
		[]string{"  .k.optional a = 1;", "  .k.map b = 2;", "  rpc R(.k.stream) returns (.k.stream);"}},
	{"method types", `syntax = "proto3"; package s; message Req {} service Svc { rpc Req(.s.Req) returns (.s.Req); }`,
		[]string{"  rpc Req(s.Req) returns (s.Req);"}},
}

func TestNamesResolveToTheSameTypes(t *testing.T) {
	for _, c := range shadowing {
		t.Run(c.name, func(t *testing.T) {
			s := mustParse(t, c.text, nil)
			for _, w := range c.want {
				if !strings.Contains(s.Canonical(), w+"\n") {
					t.Errorf("canonical lacks %q:\n%s", w, s.Canonical())
				}
			}
			assertSameDescriptor(t, s, mustParse(t, s.Canonical(), nil))
		})
	}
	for name, text := range roundTrip {
		t.Run(name, func(t *testing.T) {
			s := mustParse(t, text, nil)
			assertSameDescriptor(t, s, mustParse(t, s.Canonical(), nil))
		})
	}
}

// assertSameDescriptor checks that b declares what a does: the same
// descriptor except options (whose encoding order printing may change;
// the equal canonical forms cover them).
func assertSameDescriptor(t *testing.T, a, b *Schema) {
	t.Helper()
	x, y := withoutOptions(a.fdp), withoutOptions(b.fdp)
	if !proto.Equal(x, y) {
		t.Fatalf("descriptors differ:\n%v\n----\n%v", x, y)
	}
	if a.Canonical() != b.Canonical() {
		t.Fatalf("canonical forms differ:\n%s\n----\n%s", a.Canonical(), b.Canonical())
	}
}

func withoutOptions(fdp *descriptorpb.FileDescriptorProto) *descriptorpb.FileDescriptorProto {
	c := proto.Clone(fdp).(*descriptorpb.FileDescriptorProto)
	c.SourceCodeInfo = nil
	clearOptions(c.ProtoReflect())
	return c
}

func clearOptions(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.Name() == "options":
			m.Clear(fd)
		case fd.Kind() == protoreflect.MessageKind && fd.IsList():
			for i := 0; i < v.List().Len(); i++ {
				clearOptions(v.List().Get(i).Message())
			}
		case fd.Kind() == protoreflect.MessageKind && !fd.IsMap():
			clearOptions(v.Message())
		}
		return true
	})
}
