package convert

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/samsa-streaming/samsa/connect"

	"github.com/samsa-streaming/samsa/serde/wire"
)

// TestProtoSchemaMapping checks the .proto text for a small struct:
// INT16 as int32 with Confluent's connect.type field_meta parameter, maps
// as map<K,V>, Decimal as confluent.type.Decimal.
func TestProtoSchemaMapping(t *testing.T) {
	text, full, err := ConnectToProtoSchema(fuzzSchema())
	if err != nil {
		t.Fatal(err)
	}
	want := `syntax = "proto3";

import "confluent/meta.proto";
import "confluent/type/decimal.proto";

message F {
  string a = 1;
  map<int32, double> m = 2;
  confluent.type.Decimal d = 3 [(confluent.field_meta) = { params: [{ key: "connect.decimal.scale", value: "3" }] }];
  repeated int64 l = 4;
  int32 t = 5 [(confluent.field_meta) = { params: [{ key: "connect.name", value: "org.apache.kafka.connect.data.Time" }] }];
}
`
	if text != want || full != "F" {
		t.Fatalf("got\n%s\nwant\n%s", text, want)
	}
	if _, err := compileProto(text, nil); err != nil {
		t.Fatal(err)
	}
}

func FuzzProtobufToConnect(f *testing.F) {
	c := &ProtobufConverter{}
	if err := c.Configure(map[string]string{"schema.registry.url": "http://127.0.0.1:1"}, false); err != nil {
		f.Fatal(err)
	}
	text, _, err := ConnectToProtoSchema(fuzzSchema())
	if err != nil {
		f.Fatal(err)
	}
	fd, err := compileProto(text, nil)
	if err != nil {
		f.Fatal(err)
	}
	c.reg.byID[1] = &protoParsed{file: fd, schemas: map[protoreflect.FullName]*connect.Schema{}}
	f.Add(append(wire.AppendHeader(nil, 1), 0, 0x0a, 1, 'x', 0x12, 4, 8, 1, 17, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) >= 5 && data[0] == 0 {
			copy(data[1:5], []byte{0, 0, 0, 1})
		}
		_, _, err := c.ToConnect("t", nil, data)
		var de *DataException
		if err != nil && !errors.As(err, &de) {
			t.Fatalf("not a DataException: %v", err)
		}
	})
}
