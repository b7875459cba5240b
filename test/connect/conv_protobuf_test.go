package connect

import (
	"context"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bufbuild/protocompile"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/samsa-streaming/samsa/connect"
	"github.com/samsa-streaming/samsa/internal/connect/convert"
	"github.com/samsa-streaming/samsa/internal/registry/schemaproto"
	"github.com/samsa-streaming/samsa/serde/wire"
)

// convCompile compiles a registered .proto text with protocompile (the
// well-known files plus Confluent's built-in imports), independently of
// the converter.
func convCompile(t *testing.T, text string) *dynamicpb.Message {
	t.Helper()
	files := schemaproto.BuiltinFiles()
	files["main.proto"] = text
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{Accessor: func(p string) (io.ReadCloser, error) {
		s, ok := files[p]
		if !ok {
			return nil, io.EOF
		}
		return io.NopCloser(strings.NewReader(s)), nil
	}})}
	out, err := c.Compile(context.Background(), "main.proto")
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	return dynamicpb.NewMessage(out[0].Messages().Get(0))
}

// TestConvProtobufRoundTrip writes a struct of every Connect type with
// ProtobufConverter through a real registry, decodes the record with
// serde/wire (magic, id, message indexes [0]) and a separately compiled
// descriptor, and reads it back with the converter.
func TestConvProtobufRoundTrip(t *testing.T) {
	url := convStartRegistry(t)
	c := &convert.ProtobufConverter{}
	if err := c.Configure(map[string]string{"schema.registry.url": url}, false); err != nil {
		t.Fatal(err)
	}
	s, v := convAllTypes()
	data, err := c.FromConnect("events", nil, s, v)
	if err != nil {
		t.Fatal(err)
	}
	h, rest, err := wire.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	idx, payload, err := wire.ParseProtoIndexes(rest)
	if err != nil || len(idx) != 1 || idx[0] != 0 {
		t.Fatalf("indexes %v %v", idx, err)
	}
	ss, err := convSRClient(t, url).SchemaByVersion(context.Background(), "events-value", -1)
	if err != nil {
		t.Fatal(err)
	}
	if ss.ID != int(h.ID) || ss.Type != sr.TypeProtobuf || !strings.Contains(ss.Schema.Schema, "message Everything") {
		t.Fatalf("registered %d %v %s", ss.ID, ss.Type, ss.Schema.Schema)
	}
	msg := convCompile(t, ss.Schema.Schema)
	if err := proto.Unmarshal(payload, msg); err != nil {
		t.Fatal(err)
	}
	js, _ := protojson.Marshal(msg)
	for _, want := range []string{`"i8":-8`, `"s":"héllo"`, `"inner":{"x":5}`, `"imap":{"1":"one","2":"two"}`, `"ts":"2023-11-14T22:13:20.123Z"`} {
		if !strings.Contains(strings.ReplaceAll(string(js), " ", ""), want) {
			t.Errorf("decoded message lacks %s: %s", want, js)
		}
	}
	rs, rv, err := c.ToConnect("events", nil, data)
	if err != nil {
		t.Fatal(err)
	}
	if rs.Name != "com.example.Everything" || rs.Field("i8").Schema.Type != connect.Int8 || rs.Field("dec").Schema.Name != connect.DecimalName {
		t.Fatalf("schema back %+v", rs)
	}
	got := rv.(*connect.Struct)
	for _, f := range s.Fields {
		want, have := v.Values[f.Index], got.Get(f.Name)
		switch w := want.(type) {
		case nil:
			// proto3: an unset optional primitive reads back as its zero value.
		case connect.Decimal:
			if h := have.(connect.Decimal); h.Scale != w.Scale || h.Unscaled.Cmp(w.Unscaled) != 0 {
				t.Errorf("%s: %v", f.Name, have)
			}
		case time.Time:
			if !have.(time.Time).Equal(w) {
				t.Errorf("%s: %v want %v", f.Name, have, w)
			}
		case *connect.Struct:
			if have.(*connect.Struct).Get("x") != int32(5) {
				t.Errorf("inner %v", have)
			}
		default:
			if !reflect.DeepEqual(have, want) {
				t.Errorf("%s: %#v want %#v", f.Name, have, want)
			}
		}
	}
	if _, err := c.FromConnect("events", nil, connect.SchemaString, "x"); err == nil {
		t.Fatal("a non-struct top-level schema must be refused")
	}
}

// TestConvProtobufForeign reads a message of the second top-level type of
// a hand-registered schema (message indexes [1]) with an enum and a
// wrapper field, as a producer using Confluent's serializer frames it.
func TestConvProtobufForeign(t *testing.T) {
	url := convStartRegistry(t)
	text := `syntax = "proto3";
package shop;
import "google/protobuf/wrappers.proto";
message Other { string x = 1; }
message Item {
  enum Kind { UNKNOWN = 0; BOOK = 1; }
  string sku = 1;
  Kind kind = 2;
  google.protobuf.Int32Value qty = 3;
  repeated uint32 codes = 4;
}`
	ss, err := convSRClient(t, url).CreateSchema(context.Background(), "items-value", sr.Schema{Schema: text, Type: sr.TypeProtobuf})
	if err != nil {
		t.Fatal(err)
	}
	msg := convCompile(t, text)
	md := msg.Descriptor().ParentFile().Messages().Get(1)
	item := dynamicpb.NewMessage(md)
	if err := protojson.Unmarshal([]byte(`{"sku":"b-1","kind":"BOOK","qty":3,"codes":[7,8]}`), item); err != nil {
		t.Fatal(err)
	}
	payload, err := proto.Marshal(item)
	if err != nil {
		t.Fatal(err)
	}
	data := wire.AppendProtoIndexes(wire.AppendHeader(nil, int32(ss.ID)), []int{1})
	data = append(data, payload...)
	c := &convert.ProtobufConverter{}
	if err := c.Configure(map[string]string{"schema.registry.url": url}, false); err != nil {
		t.Fatal(err)
	}
	s, v, err := c.ToConnect("items", nil, data)
	if err != nil {
		t.Fatal(err)
	}
	st := v.(*connect.Struct)
	if s.Name != "shop.Item" || st.Get("sku") != "b-1" || st.Get("kind") != "BOOK" || st.Get("qty") != int32(3) ||
		!reflect.DeepEqual(st.Get("codes"), []any{int64(7), int64(8)}) {
		t.Fatalf("decoded %+v %v", s, st.Values)
	}
	bad := wire.AppendProtoIndexes(wire.AppendHeader(nil, int32(ss.ID)), []int{5})
	if _, _, err := c.ToConnect("items", nil, append(bad, payload...)); err == nil {
		t.Fatal("a message index outside the schema must fail")
	}
}
