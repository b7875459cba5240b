package connect

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/samsa-streaming/samsa/connect"
	"github.com/samsa-streaming/samsa/internal/connect/convert"
	"github.com/samsa-streaming/samsa/serde/wire"
)

// TestConvJSONSchemaRoundTrip writes every Connect type with
// JsonSchemaConverter through a real registry; the registered JSON
// Schema (subject "<topic>-value") validates the payload with an
// independent validator (santhosh-tekuri/jsonschema), carries Confluent's
// connect.type / connect.index / title annotations, and the converter
// reads the value back.
func TestConvJSONSchemaRoundTrip(t *testing.T) {
	url := convStartRegistry(t)
	c := &convert.JSONSchemaConverter{}
	if err := c.Configure(map[string]string{"schema.registry.url": url}, false); err != nil {
		t.Fatal(err)
	}
	s, v := convAllTypes()
	data, err := c.FromConnect("payments", nil, s, v)
	if err != nil {
		t.Fatal(err)
	}
	id, payload, err := wire.ParseHeader(data)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := convSRClient(t, url).SchemaByVersion(context.Background(), "payments-value", -1)
	if err != nil {
		t.Fatal(err)
	}
	if ss.ID != int(id) || ss.Type != sr.TypeJSON {
		t.Fatalf("registered %d %v, framed %d", ss.ID, ss.Type, id)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(ss.Schema.Schema), &doc); err != nil {
		t.Fatal(err)
	}
	props := doc["properties"].(map[string]any)
	if doc["title"] != "com.example.Everything" || props["i8"].(map[string]any)["connect.type"] != "int8" ||
		props["s"].(map[string]any)["connect.index"] != float64(7) || props["opt"].(map[string]any)["oneOf"] == nil {
		t.Fatalf("schema %s", ss.Schema.Schema)
	}
	schemaDoc, err := jsonschema.UnmarshalJSON(strings.NewReader(ss.Schema.Schema))
	if err != nil {
		t.Fatal(err)
	}
	comp := jsonschema.NewCompiler()
	if err := comp.AddResource("s.json", schemaDoc); err != nil {
		t.Fatal(err)
	}
	sch, err := comp.Compile("s.json")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		t.Fatalf("payload is not JSON: %v\n%s", err, payload)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("payload does not validate: %v\n%s", err, payload)
	}
	var plain map[string]any
	if err := json.Unmarshal(payload, &plain); err != nil || plain["s"] != "héllo" || plain["raw"] != "AAEC/w==" || plain["date"] != float64(19782) {
		t.Fatalf("payload %s (%v)", payload, err)
	}
	rs, rv, err := c.ToConnect("payments", nil, data)
	if err != nil {
		t.Fatal(err)
	}
	if rs.Name != "com.example.Everything" || !rs.Field("opt").Schema.Optional || rs.Field("imap").Schema.Key.Type != connect.Int32 {
		t.Fatalf("schema back %+v", rs)
	}
	got := rv.(*connect.Struct)
	for _, f := range s.Fields {
		want, have := v.Values[f.Index], got.Get(f.Name)
		switch w := want.(type) {
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
}

// TestConvJSONSchemaForeign reads JSON written by a plain producer under
// a hand-registered JSON Schema ($ref to definitions, nullable type
// arrays), and refuses what it cannot read with a clear error.
func TestConvJSONSchemaForeign(t *testing.T) {
	url := convStartRegistry(t)
	text := `{"type":"object","title":"Order","properties":{"id":{"type":"integer"},"who":{"$ref":"#/definitions/Person"},
		"note":{"type":["null","string"]}},"required":["id","who"],
		"definitions":{"Person":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}}}`
	ss, err := convSRClient(t, url).CreateSchema(context.Background(), "orders-value", sr.Schema{Schema: text, Type: sr.TypeJSON})
	if err != nil {
		t.Fatal(err)
	}
	c := &convert.JSONSchemaConverter{}
	if err := c.Configure(map[string]string{"schema.registry.url": url}, false); err != nil {
		t.Fatal(err)
	}
	data := append(wire.AppendHeader(nil, int32(ss.ID)), `{"id":7,"who":{"name":"bo"},"note":null}`...)
	s, v, err := c.ToConnect("orders", nil, data)
	if err != nil {
		t.Fatal(err)
	}
	st := v.(*connect.Struct)
	if s.Name != "Order" || st.Get("id") != int64(7) || st.Get("who").(*connect.Struct).Get("name") != "bo" || st.Get("note") != nil || !s.Field("note").Schema.Optional {
		t.Fatalf("decoded %+v %v", s, st.Values)
	}
	for _, bad := range []string{`{"id":"x","who":{"name":"bo"}}`, `{"id":1}`, `not json`} {
		if _, _, err := c.ToConnect("orders", nil, append(wire.AppendHeader(nil, int32(ss.ID)), bad...)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
