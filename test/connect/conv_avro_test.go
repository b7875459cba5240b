package connect

import (
	"context"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/samsa-streaming/samsa/connect"
	"github.com/samsa-streaming/samsa/internal/connect/convert"
	"github.com/samsa-streaming/samsa/serde/wire"
)

// TestConvAvroRoundTrip writes a struct of every Connect type with
// AvroConverter through a real registry, checks what was registered
// (subject "<topic>-value" by TopicNameStrategy, the connect.* properties
// and logical types Confluent's AvroData writes) and that franz-go's sr
// client plus hamba/avro decode the bytes independently, then reads them
// back with the converter.
func TestConvAvroRoundTrip(t *testing.T) {
	url := convStartRegistry(t)
	c := &convert.AvroConverter{}
	if err := c.Configure(map[string]string{"schema.registry.url": url}, false); err != nil {
		t.Fatal(err)
	}
	s, v := convAllTypes()
	data, err := c.FromConnect("orders", nil, s, v)
	if err != nil {
		t.Fatal(err)
	}
	id, payload, err := wire.ParseHeader(data)
	if err != nil {
		t.Fatal(err)
	}
	cl := convSRClient(t, url)
	ss, err := cl.SchemaByVersion(context.Background(), "orders-value", -1)
	if err != nil {
		t.Fatal(err)
	}
	if ss.ID != int(id) || ss.Type != sr.TypeAvro {
		t.Fatalf("registered id %d type %v, framed id %d", ss.ID, ss.Type, id)
	}
	// Decode independently of the converter.
	as, err := avro.Parse(ss.Schema.Schema)
	if err != nil {
		t.Fatal(err)
	}
	rec := as.(*avro.RecordSchema)
	if rec.FullName() != "com.example.Everything" || rec.Prop("connect.name") != "com.example.Everything" || rec.Prop("connect.doc") != "all types" {
		t.Fatalf("record %s props %v", rec.FullName(), rec.Props())
	}
	fieldType := func(name string) avro.Schema {
		for _, f := range rec.Fields() {
			if f.Name() == name {
				return f.Type()
			}
		}
		t.Fatalf("no field %s", name)
		return nil
	}
	if p := fieldType("i8").(*avro.PrimitiveSchema); p.Type() != avro.Int || p.Prop("connect.type") != "int8" {
		t.Fatalf("i8: %s", p)
	}
	if u := fieldType("opt").(*avro.UnionSchema); !u.Nullable() || u.Types()[0].Type() != avro.Null {
		t.Fatalf("optional string must be [null,string]: %s", u)
	}
	if p := fieldType("dec").(*avro.PrimitiveSchema); p.Logical() == nil || p.Logical().Type() != avro.Decimal {
		t.Fatalf("dec: %s", p)
	}
	if p := fieldType("ts").(*avro.PrimitiveSchema); p.Logical() == nil || p.Logical().Type() != avro.TimestampMillis {
		t.Fatalf("ts: %s", p)
	}
	var generic map[string]any
	if err := avro.Unmarshal(as, payload, &generic); err != nil {
		t.Fatal(err)
	}
	if generic["i32"] != -320000 || generic["s"] != "héllo" || generic["withdefault"] != 3 {
		t.Fatalf("generic decode %v", generic)
	}
	if r := generic["dec"].(*big.Rat); r.Cmp(big.NewRat(-12345, 100)) != 0 {
		t.Fatalf("decimal %v", r)
	}
	// And back through the converter.
	rs, rv, err := c.ToConnect("orders", nil, data)
	if err != nil {
		t.Fatal(err)
	}
	if rs.Name != "com.example.Everything" || rs.Field("opt").Schema.Optional != true || rs.Field("i16").Schema.Type != connect.Int16 {
		t.Fatalf("schema back %+v", rs)
	}
	got := rv.(*connect.Struct)
	for _, f := range s.Fields {
		want, have := v.Values[f.Index], got.Get(f.Name)
		if d, ok := want.(connect.Decimal); ok {
			if hd := have.(connect.Decimal); hd.Scale != d.Scale || hd.Unscaled.Cmp(d.Unscaled) != 0 {
				t.Errorf("%s: %v want %v", f.Name, have, want)
			}
			continue
		}
		if tm, ok := want.(time.Time); ok {
			if !have.(time.Time).Equal(tm) {
				t.Errorf("%s: %v want %v", f.Name, have, want)
			}
			continue
		}
		if f.Name == "inner" {
			if have.(*connect.Struct).Get("x") != int32(5) {
				t.Errorf("inner %v", have)
			}
			continue
		}
		if !reflect.DeepEqual(have, want) {
			t.Errorf("%s: %#v want %#v", f.Name, have, want)
		}
	}
	// The same schema again reuses the id (cached or looked up); a null
	// value is a null record.
	again, err := c.FromConnect("orders", nil, s, v)
	if err != nil || string(again[:5]) != string(data[:5]) {
		t.Fatalf("second write: %v", err)
	}
	if b, err := c.FromConnect("orders", nil, &connect.Schema{Type: connect.StructT, Optional: true}, nil); err != nil || b != nil {
		t.Fatalf("null: %v %v", b, err)
	}
}

// TestConvAvroForeignSchema: bytes written by a plain Avro producer (a
// schema registered by hand, encoded with hamba) read as Connect data:
// records become structs named by their full name, enums strings with
// Confluent's enum parameters, nullable unions optional fields.
func TestConvAvroForeignSchema(t *testing.T) {
	url := convStartRegistry(t)
	cl := convSRClient(t, url)
	text := `{"type":"record","name":"User","namespace":"ex","fields":[
		{"name":"name","type":"string"},
		{"name":"age","type":["null","int"],"default":null},
		{"name":"color","type":{"type":"enum","name":"Color","symbols":["RED","GREEN"]}},
		{"name":"tags","type":{"type":"array","items":"string"}}]}`
	ss, err := cl.CreateSchema(context.Background(), "users-value", sr.Schema{Schema: text, Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	as := avro.MustParse(text)
	payload, err := avro.Marshal(as, map[string]any{"name": "ann", "age": map[string]any{"int": 41}, "color": "GREEN", "tags": []any{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	data := wire.AppendHeader(nil, int32(ss.ID))
	data = append(data, payload...)
	c := &convert.AvroConverter{}
	if err := c.Configure(map[string]string{"schema.registry.url": url, "auto.register.schemas": "false"}, false); err != nil {
		t.Fatal(err)
	}
	s, v, err := c.ToConnect("users", nil, data)
	if err != nil {
		t.Fatal(err)
	}
	st := v.(*connect.Struct)
	if s.Name != "ex.User" || st.Get("name") != "ann" || st.Get("age") != int32(41) || st.Get("color") != "GREEN" ||
		!reflect.DeepEqual(st.Get("tags"), []any{"a"}) {
		t.Fatalf("decoded %+v %v", s, st.Values)
	}
	if !s.Field("age").Schema.Optional || s.Field("color").Schema.Parameters["io.confluent.connect.avro.Enum"] != "ex.Color" {
		t.Fatalf("schema %+v", s.Fields)
	}
	// Bad bytes: a clear DataException, never a panic.
	for _, bad := range [][]byte{{}, {1, 2}, {0, 0, 0, 0}, append(wire.AppendHeader(nil, int32(ss.ID)), 0xff, 0xff, 0xff), append(wire.AppendHeader(nil, 9999), 0)} {
		if _, _, err := c.ToConnect("users", nil, bad); err == nil {
			t.Errorf("%x: no error", bad)
		}
	}
}
