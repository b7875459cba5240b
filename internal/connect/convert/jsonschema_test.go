package convert

import (
	"errors"
	"testing"

	"github.com/samsa-streaming/samsa/serde/wire"
)

// TestJSONSchemaMapping checks the JSON Schema written for a small
// struct: Confluent's JsonSchemaData annotations (connect.type on
// integers, connect.index on properties, title for the name, oneOf with
// null for optional fields, no "required" list).
func TestJSONSchemaMapping(t *testing.T) {
	s := fuzzSchema()
	text, title, err := ConnectToJSONSchema(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"object","properties":{"a":{"oneOf":[{"type":"null"},{"type":"string"}],"connect.index":0},` +
		`"m":{"type":"array","items":{"type":"object","properties":{"key":{"type":"integer","connect.type":"int16","connect.index":0},` +
		`"value":{"oneOf":[{"type":"null"},{"type":"number","connect.type":"float64"}],"connect.index":1}},"additionalProperties":false},"connect.type":"map","connect.index":1},` +
		`"d":{"type":"number","connect.type":"bytes","title":"org.apache.kafka.connect.data.Decimal","connect.version":1,"connect.parameters":{"scale":"3"},"connect.index":2},` +
		`"l":{"type":"array","items":{"type":"integer","connect.type":"int64"},"connect.index":3},` +
		`"t":{"type":"integer","connect.type":"int32","title":"org.apache.kafka.connect.data.Time","connect.version":1,"connect.index":4}},` +
		`"title":"F"}`
	if text != want || title != "F" {
		t.Fatalf("got  %s\nwant %s", text, want)
	}
	back, err := JSONSchemaToConnect([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if !SchemaEqual(back, s) {
		t.Fatalf("round trip %+v", back)
	}
}

func FuzzJSONSchemaToConnect(f *testing.F) {
	c := &JSONSchemaConverter{}
	if err := c.Configure(map[string]string{"schema.registry.url": "http://127.0.0.1:1"}, false); err != nil {
		f.Fatal(err)
	}
	text, _, err := ConnectToJSONSchema(fuzzSchema())
	if err != nil {
		f.Fatal(err)
	}
	cs, err := JSONSchemaToConnect([]byte(text))
	if err != nil {
		f.Fatal(err)
	}
	c.reg.byID[1] = cs
	f.Add(append(wire.AppendHeader(nil, 1), `{"a":null,"m":[{"key":1,"value":2.5}],"d":1.5,"l":[1],"t":5}`...), []byte(text))
	f.Fuzz(func(t *testing.T, data, schema []byte) {
		if len(data) >= 5 && data[0] == 0 {
			copy(data[1:5], []byte{0, 0, 0, 1})
		}
		_, _, err := c.ToConnect("t", nil, data)
		var de *DataException
		if err != nil && !errors.As(err, &de) {
			t.Fatalf("not a DataException: %v", err)
		}
		if _, err := JSONSchemaToConnect(schema); err != nil && !errors.As(err, &de) {
			t.Fatalf("not a DataException: %v", err)
		}
	})
}
