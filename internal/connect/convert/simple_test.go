package convert

import (
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/connect"
)

// TestRegister: every class is registered once and resolvable by its
// simple name, as worker properties name them.
func TestRegister(t *testing.T) {
	r := connect.NewRegistry()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"org.apache.kafka.connect.json.JsonConverter", "StringConverter", "ByteArrayConverter",
		"IntegerConverter", "SimpleHeaderConverter", "io.confluent.connect.avro.AvroConverter", "ProtobufConverter", "JsonSchemaConverter"} {
		p, ok := r.Lookup(name)
		if !ok {
			t.Fatalf("%s not registered", name)
		}
		if p.Config == nil || p.New() == nil {
			t.Fatalf("%s: no config or constructor", name)
		}
	}
	if err := Register(r); err == nil {
		t.Fatal("registering twice must fail")
	}
}

// StringConverterTest: toString of the value, OPTIONAL_STRING back,
// converter.encoding honoured; null stays null.
func TestStringConverter(t *testing.T) {
	c := &StringConverter{}
	if err := c.Configure(map[string]string{}, false); err != nil {
		t.Fatal(err)
	}
	for in, want := range map[any]string{"a-b": "a-b", int32(12): "12", 1.5: "1.5", true: "true"} {
		b, err := c.FromConnect("t", nil, nil, in)
		if err != nil || string(b) != want {
			t.Errorf("%v → %q %v", in, b, err)
		}
	}
	if b, _ := c.FromConnect("t", nil, nil, nil); b != nil {
		t.Error("null must stay null")
	}
	s, v, _ := c.ToConnect("t", nil, []byte("héllo"))
	if s != connect.OptionalString || v != "héllo" {
		t.Errorf("back %v %v", s, v)
	}
	if err := c.Configure(map[string]string{"converter.encoding": "ISO-8859-1"}, false); err != nil {
		t.Fatal(err)
	}
	b, _ := c.FromConnect("t", nil, nil, "é")
	if !reflect.DeepEqual(b, []byte{0xe9}) {
		t.Errorf("latin-1 %x", b)
	}
	if _, v, _ := c.ToConnect("t", nil, []byte{0xe9}); v != "é" {
		t.Errorf("latin-1 back %v", v)
	}
	if err := c.Configure(map[string]string{"converter.encoding": "EBCDIC"}, false); err == nil {
		t.Error("unknown encoding accepted")
	}
}

// ByteArrayConverterTest and the number converters (Kafka's big-endian
// serializers; size errors worded as the deserializers').
func TestByteArrayAndNumbers(t *testing.T) {
	var ba ByteArrayConverter
	if b, err := ba.FromConnect("t", nil, connect.SchemaBytes, []byte{1}); err != nil || b[0] != 1 {
		t.Fatal(err)
	}
	if _, err := ba.FromConnect("t", nil, connect.SchemaInt32, int32(1)); err == nil || err.Error() != "Invalid schema type for ByteArrayConverter: INT32" {
		t.Errorf("schema check: %v", err)
	}
	if _, err := ba.FromConnect("t", nil, nil, "x"); err == nil || err.Error() != "ByteArrayConverter is not compatible with objects of type class java.lang.String" {
		t.Errorf("type check: %v", err)
	}
	ic := &NumberConverter{Type: connect.Int32}
	b, err := ic.FromConnect("t", nil, nil, int32(-2))
	if err != nil || !reflect.DeepEqual(b, []byte{0xff, 0xff, 0xff, 0xfe}) {
		t.Fatalf("int %x %v", b, err)
	}
	s, v, err := ic.ToConnect("t", nil, b)
	if err != nil || v != int32(-2) || s.Type != connect.Int32 || !s.Optional {
		t.Fatalf("int back %v %v", v, err)
	}
	if _, _, err := ic.ToConnect("t", nil, []byte{1}); err == nil {
		t.Error("short int accepted")
	}
	dc := &NumberConverter{Type: connect.Float64}
	b, _ = dc.FromConnect("t", nil, nil, 1.5)
	if _, v, _ := dc.ToConnect("t", nil, b); v != 1.5 {
		t.Errorf("double %v", v)
	}
}

// Values.parseString / convertToString as SimpleHeaderConverter uses
// them (ValuesTest: smallest integer type, FLOAT32 for fractions, ISO
// dates, arrays and maps, anything else a string).
func TestSimpleHeaderConverter(t *testing.T) {
	var h SimpleHeaderConverter
	for in, want := range map[string]any{
		"true": true, "12": int8(12), "1000": int16(1000), "100000": int32(100000), "10000000000": int64(10000000000),
		"1.5": float32(1.5), "hello world": "hello world", "": "", "2024-02-29": time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		"[1,2,3]": []any{int8(1), int8(2), int8(3)}, `{"a":1,"b":2}`: map[string]any{"a": int8(1), "b": int8(2)}, "[1,": "[1,",
	} {
		_, v, err := h.ToConnectHeader("t", "k", []byte(in))
		if err != nil || !reflect.DeepEqual(v, want) {
			t.Errorf("%q → %#v (%v), want %#v", in, v, err, want)
		}
	}
	if s, v, _ := h.ToConnectHeader("t", "k", []byte("null")); s != nil || v != nil {
		t.Errorf("null → %v %v", s, v)
	}
	for _, tc := range []struct {
		v    any
		want string
	}{
		{"plain", "plain"}, {int64(5), "5"}, {[]any{"a", int32(1)}, `["a",1]`}, {map[string]any{"k": "v"}, `{"k":"v"}`},
		{time.UnixMilli(3723004).UTC(), "01:02:03.004Z"}, {connect.Decimal{Unscaled: big.NewInt(15), Scale: 1}, "1.5"},
	} {
		b, err := h.FromConnectHeader("t", "k", nil, tc.v)
		if err != nil || string(b) != tc.want {
			t.Errorf("%v → %s %v, want %s", tc.v, b, err, tc.want)
		}
	}
	// JsonConverter as a header converter through the adapter.
	jh := AsHeaderConverter(&JSONConverter{})
	if err := jh.Configure(map[string]string{"schemas.enable": "false"}); err != nil {
		t.Fatal(err)
	}
	b, err := jh.FromConnectHeader("t", "k", connect.SchemaInt32, int32(3))
	if err != nil || string(b) != "3" {
		t.Errorf("json header %s %v", b, err)
	}
}

func FuzzSimpleHeaderToConnect(f *testing.F) {
	for _, s := range []string{"[1,2]", `{"a":[true,null]}`, "2024-01-01T00:00:00.000Z", "1e400", "-0.5", `["x\"y"]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var h SimpleHeaderConverter
		s, v, err := h.ToConnectHeader("t", "k", data)
		if err != nil {
			t.Fatal(err)
		}
		if err := connect.ValidateValue(s, v); err != nil && s != nil && s.Type != connect.Array && s.Type != connect.Map {
			t.Fatalf("%q: value does not fit its inferred schema: %v", data, err)
		}
		if _, err := h.FromConnectHeader("t", "k", s, v); err != nil {
			t.Fatalf("%q: cannot write back: %v", data, err)
		}
	})
}

func FuzzNumberToConnect(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1}, uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		types := []connect.Type{connect.Int16, connect.Int32, connect.Int64, connect.Float32, connect.Float64, connect.Boolean}
		c := &NumberConverter{Type: types[int(kind)%len(types)]}
		s, v, err := c.ToConnect("t", nil, data)
		if err != nil {
			return
		}
		b, err := c.FromConnect("t", nil, s, v)
		if err != nil || (v != nil && string(b) != string(data)) {
			t.Fatalf("round trip %x → %v → %x (%v)", data, v, b, err)
		}
	})
}

func TestNewHeaderConverter(t *testing.T) {
	r := connect.NewRegistry()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	for _, class := range []string{"SimpleHeaderConverter", "org.apache.kafka.connect.json.JsonConverter", "StringConverter"} {
		h, err := NewHeaderConverter(r, class)
		if err != nil {
			t.Fatalf("%s: %v", class, err)
		}
		if err := h.Configure(map[string]string{}); err != nil {
			t.Fatalf("%s: %v", class, err)
		}
		b, err := h.FromConnectHeader("t", "k", connect.SchemaString, "x")
		if err != nil || len(b) == 0 {
			t.Fatalf("%s: %q %v", class, b, err)
		}
	}
	if _, err := NewHeaderConverter(r, "io.confluent.connect.avro.AvroConverter"); err == nil {
		t.Fatal("AvroConverter is not a header converter")
	}
}
