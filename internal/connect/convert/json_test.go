package convert

import (
	"errors"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/connect"
)

func jsonConv(t *testing.T, props map[string]string) *JSONConverter {
	t.Helper()
	c := &JSONConverter{}
	if err := c.Configure(props, false); err != nil {
		t.Fatal(err)
	}
	return c
}

func i32(v int32) *int32 { return &v }

func decimalSchema(scale string) *connect.Schema {
	return &connect.Schema{Type: connect.Bytes, Name: connect.DecimalName, Version: i32(1), Parameters: map[string]string{"scale": scale}}
}

// TestJSONGolden checks the exact bytes JsonConverter writes for every
// schema type with schemas.enable=true. The expected texts follow Java's
// JsonConverter.asJsonSchema member order (type, items|keys,values|fields,
// optional, name, version, doc, parameters, default, then "field" inside
// struct fields) and Jackson's output (no whitespace, Double.toString
// numbers, base64 bytes); the primitive cases are the ones of Kafka's
// JsonConverterTest (e.g. booleanToJson, floatToJson, bytesToJson,
// decimalToJson "AJw=" for 1.56 at scale 2, dateToJson 10000 days,
// timeToJson 14400000, timestampToJson 4000000000).
func TestJSONGolden(t *testing.T) {
	st := &connect.Schema{Type: connect.StructT, Fields: []connect.Field{
		{Name: "a", Index: 0, Schema: connect.SchemaInt32},
		{Name: "b", Index: 1, Schema: connect.OptionalString},
	}}
	sv := connect.NewStruct(st)
	sv.Values[0] = int32(1)
	ts := time.UnixMilli(4000000000).UTC()
	cases := []struct {
		name string
		s    *connect.Schema
		v    any
		want string
	}{
		{"boolean", connect.SchemaBoolean, true, `{"schema":{"type":"boolean","optional":false},"payload":true}`},
		{"int8", connect.SchemaInt8, int8(12), `{"schema":{"type":"int8","optional":false},"payload":12}`},
		{"int16", connect.SchemaInt16, int16(12), `{"schema":{"type":"int16","optional":false},"payload":12}`},
		{"int32", connect.SchemaInt32, int32(12), `{"schema":{"type":"int32","optional":false},"payload":12}`},
		{"int64", connect.SchemaInt64, int64(4398046511104), `{"schema":{"type":"int64","optional":false},"payload":4398046511104}`},
		{"float", connect.SchemaFloat32, float32(12.34), `{"schema":{"type":"float","optional":false},"payload":12.34}`},
		{"double", connect.SchemaFloat64, 12.34, `{"schema":{"type":"double","optional":false},"payload":12.34}`},
		{"double whole", connect.SchemaFloat64, 100.0, `{"schema":{"type":"double","optional":false},"payload":100.0}`},
		{"double sci", connect.SchemaFloat64, 1e10, `{"schema":{"type":"double","optional":false},"payload":1.0E10}`},
		{"double small", connect.SchemaFloat64, 0.0001, `{"schema":{"type":"double","optional":false},"payload":1.0E-4}`},
		{"bytes", connect.SchemaBytes, []byte("test-string"), `{"schema":{"type":"bytes","optional":false},"payload":"dGVzdC1zdHJpbmc="}`},
		{"string", connect.SchemaString, "test-string", `{"schema":{"type":"string","optional":false},"payload":"test-string"}`},
		{"string escapes", connect.SchemaString, "a\"b\\c\n\x01</>é", `{"schema":{"type":"string","optional":false},"payload":"a\"b\\c\n\u0001</>é"}`},
		{"array", &connect.Schema{Type: connect.Array, Value: connect.SchemaInt32}, []any{int32(1), int32(2), int32(3)},
			`{"schema":{"type":"array","items":{"type":"int32","optional":false},"optional":false},"payload":[1,2,3]}`},
		{"map string keys", &connect.Schema{Type: connect.Map, Key: connect.SchemaString, Value: connect.SchemaInt32}, map[string]any{"key1": int32(12), "key2": int32(15)},
			`{"schema":{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int32","optional":false},"optional":false},"payload":{"key1":12,"key2":15}}`},
		{"map int keys", &connect.Schema{Type: connect.Map, Key: connect.SchemaInt32, Value: connect.SchemaInt32}, map[any]any{int32(1): int32(12), int32(2): int32(15)},
			`{"schema":{"type":"map","keys":{"type":"int32","optional":false},"values":{"type":"int32","optional":false},"optional":false},"payload":[[1,12],[2,15]]}`},
		{"struct", st, sv, `{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"a"},{"type":"string","optional":true,"field":"b"}],"optional":false},"payload":{"a":1,"b":null}}`},
		{"decimal base64", decimalSchema("2"), connect.Decimal{Unscaled: big.NewInt(156), Scale: 2},
			`{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":"AJw="}`},
		{"decimal negative", decimalSchema("2"), connect.Decimal{Unscaled: big.NewInt(-156), Scale: 2},
			`{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":"/2Q="}`},
		{"date", &connect.Schema{Type: connect.Int32, Name: connect.DateName, Version: i32(1)}, time.UnixMilli(10000 * msPerDay).UTC(),
			`{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date","version":1},"payload":10000}`},
		{"time", &connect.Schema{Type: connect.Int32, Name: connect.TimeName, Version: i32(1)}, time.UnixMilli(14400000).UTC(),
			`{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Time","version":1},"payload":14400000}`},
		{"timestamp", &connect.Schema{Type: connect.Int64, Name: connect.TimestampName, Version: i32(1)}, ts,
			`{"schema":{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1},"payload":4000000000}`},
		{"optional null", connect.OptionalString, nil, `{"schema":{"type":"string","optional":true},"payload":null}`},
		{"default replaces null", &connect.Schema{Type: connect.Int32, Default: int32(7), Doc: "d"}, nil,
			`{"schema":{"type":"int32","optional":false,"doc":"d","default":7},"payload":7}`},
		{"schemaless in envelope", nil, map[string]any{"x": int64(1)}, `{"schema":null,"payload":{"x":1}}`},
	}
	c := jsonConv(t, nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.FromConnect("t", nil, tc.s, tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
			// And back: the schema and value round-trip.
			s, v, err := c.ToConnect("t", nil, got)
			if err != nil {
				t.Fatal(err)
			}
			again, err := c.FromConnect("t", nil, s, v)
			if err != nil {
				t.Fatal(err)
			}
			if string(again) != tc.want {
				t.Fatalf("round trip %s\nwant       %s", again, tc.want)
			}
		})
	}
}

// TestJSONDecimalNumeric: decimal.format=NUMERIC writes BigDecimal.toString
// (JsonConverterTest.decimalToNumericJson: 1.56 → 1.56) and reads numbers.
func TestJSONDecimalNumeric(t *testing.T) {
	c := jsonConv(t, map[string]string{"decimal.format": "numeric", "schemas.enable": "false"})
	got, err := c.FromConnect("t", nil, decimalSchema("2"), connect.Decimal{Unscaled: big.NewInt(156), Scale: 2})
	if err != nil || string(got) != "1.56" {
		t.Fatalf("got %s %v", got, err)
	}
	for _, tc := range []struct {
		d    connect.Decimal
		want string
	}{
		{connect.Decimal{Unscaled: big.NewInt(1), Scale: 10}, "1E-10"},
		{connect.Decimal{Unscaled: big.NewInt(12345), Scale: -2}, "1.2345E+6"},
		{connect.Decimal{Unscaled: big.NewInt(-5), Scale: 3}, "-0.005"},
	} {
		if s := DecimalString(tc.d); s != tc.want {
			t.Errorf("DecimalString(%v) = %s, want %s", tc.d, s, tc.want)
		}
	}
	c2 := jsonConv(t, nil)
	_, v, err := c2.ToConnect("t", nil, []byte(`{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"}},"payload":1.56}`))
	if err != nil {
		t.Fatal(err)
	}
	if d := v.(connect.Decimal); d.Scale != 2 || d.Unscaled.Int64() != 156 {
		t.Fatalf("decimal %v", d)
	}
}

// TestJSONSchemaless: schemas.enable=false writes the bare value;
// reading infers INT64 for integers, FLOAT64 for fractions and maps with
// string keys (JsonConverterTest.*WithoutSchema / schemalessToConnect);
// non-string-keyed maps become arrays of pairs.
func TestJSONSchemaless(t *testing.T) {
	c := jsonConv(t, map[string]string{"schemas.enable": "false"})
	got, err := c.FromConnect("t", nil, nil, map[any]any{int32(1): "a", int32(2): "b"})
	if err != nil || string(got) != `[[1,"a"],[2,"b"]]` {
		t.Fatalf("got %s %v", got, err)
	}
	s, v, err := c.ToConnect("t", nil, []byte(`{"a":1,"b":[1.5,true,"x",null],"c":{"d":12345678901234}}`))
	if err != nil || s != nil {
		t.Fatal(s, err)
	}
	want := map[string]any{"a": int64(1), "b": []any{1.5, true, "x", nil}, "c": map[string]any{"d": int64(12345678901234)}}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("got %#v", v)
	}
	if got, _ := c.FromConnect("t", nil, nil, nil); got != nil {
		t.Fatalf("null value: %q", got)
	}
	if got, _ := c.FromConnect("t", nil, nil, math.NaN()); string(got) != `"NaN"` {
		t.Fatalf("NaN: %s", got)
	}
}

// TestJSONErrors checks Java's DataException messages for bad input.
func TestJSONErrors(t *testing.T) {
	c := jsonConv(t, nil)
	cases := []struct{ in, want string }{
		{`{"payload":1}`, `JsonConverter with schemas.enable requires "schema" and "payload" fields`},
		{`not json`, `Converting byte[] to Kafka Connect data failed due to serialization error`},
		{`{"schema":{"optional":true},"payload":1}`, `Schema must contain 'type' field`},
		{`{"schema":{"type":"what"},"payload":1}`, `Unknown schema type: what`},
		{`{"schema":{"type":"array"},"payload":[]}`, `Array schema did not specify the element type`},
		{`{"schema":{"type":"struct","fields":{}},"payload":{}}`, `Struct schema's "fields" argument is not an array.`},
		{`{"schema":{"type":"struct","fields":[{"type":"int8"}]},"payload":{}}`, `Struct schema's field name not specified properly`},
		{`{"schema":{"type":"int32"},"payload":null}`, `Invalid null value for required INT32 field`},
		{`{"schema":{"type":"struct","fields":[]},"payload":[]}`, `Structs should be encoded as JSON objects, but found ARRAY`},
		{`{"schema":{"type":"map","keys":{"type":"int8"},"values":{"type":"int8"}},"payload":{}}`, `Maps with non-string fields should be encoded as JSON array of tuples, but found OBJECT`},
		{`{"schema":{"type":"map","keys":{"type":"int8"},"values":{"type":"int8"}},"payload":[[1]]}`, `Found invalid map entry, expected length 2 but found :1`},
		{`{"schema":{"type":"int32","name":"org.apache.kafka.connect.data.Date"},"payload":"x"}`, `Invalid type for Date, underlying representation should be integer but was STRING`},
		{`{"schema":{"type":"bytes"},"payload":"!!"}`, `Invalid bytes field`},
		{`{"schema":{"type":"string","parameters":{"a":1}},"payload":"x"}`, `Schema parameters must have string values.`},
	}
	for _, tc := range cases {
		_, _, err := c.ToConnect("t", nil, []byte(tc.in))
		var de *DataException
		if !errors.As(err, &de) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.in, err, tc.want)
		}
	}
	if _, err := c.FromConnect("t", nil, connect.SchemaInt32, nil); err == nil || !strings.Contains(err.Error(), "null value for field that is required") {
		t.Errorf("required null: %v", err)
	}
	if _, err := c.FromConnect("t", nil, connect.SchemaInt32, "x"); err == nil || err.Error() != "Invalid type for INT32: class java.lang.String" {
		t.Errorf("wrong type: %v", err)
	}
}

// TestJSONReplaceNullWithDefault: with replace.null.with.default=false a
// null stays null (KIP-1040).
func TestJSONReplaceNullWithDefault(t *testing.T) {
	c := jsonConv(t, map[string]string{"replace.null.with.default": "false"})
	s := &connect.Schema{Type: connect.Int32, Optional: true, Default: int32(7)}
	got, err := c.FromConnect("t", nil, s, nil)
	if err != nil || string(got) != `{"schema":{"type":"int32","optional":true,"default":7},"payload":null}` {
		t.Fatalf("got %s %v", got, err)
	}
	_, v, err := c.ToConnect("t", nil, got)
	if err != nil || v != nil {
		t.Fatalf("read back %v %v", v, err)
	}
}

func TestJavaFloatString(t *testing.T) {
	// Values as java.lang.Double.toString / Float.toString print them.
	for _, tc := range []struct {
		f    float64
		bits int
		want string
	}{
		{1, 64, "1.0"}, {0.1, 64, "0.1"}, {123456.789, 64, "123456.789"}, {1e7, 64, "1.0E7"}, {9999999, 64, "9999999.0"},
		{0.001, 64, "0.001"}, {0.0009, 64, "9.0E-4"}, {-2.5e-10, 64, "-2.5E-10"}, {math.MaxFloat64, 64, "1.7976931348623157E308"},
		{float64(float32(0.1)), 32, "0.1"}, {float64(float32(3.4028235e38)), 32, "3.4028235E38"},
	} {
		if got := JavaFloatString(tc.f, tc.bits); got != tc.want {
			t.Errorf("JavaFloatString(%v,%d) = %s, want %s", tc.f, tc.bits, got, tc.want)
		}
	}
}

func FuzzJSONToConnect(f *testing.F) {
	f.Add([]byte(`{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"a"}]},"payload":{"a":1}}`), true)
	f.Add([]byte(`{"schema":{"type":"map","keys":{"type":"int8"},"values":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"}}},"payload":[[1,"AJw="]]}`), true)
	f.Add([]byte(`[1,2.5,{"a":null}]`), false)
	cached := NewJSONConverter(JSONConfig{SchemasEnable: true, SchemasCacheSize: 4, ReplaceNullWithDefault: true})
	f.Fuzz(func(t *testing.T, data []byte, schemas bool) {
		c := NewJSONConverter(JSONConfig{SchemasEnable: schemas, ReplaceNullWithDefault: true})
		s, v, err := c.ToConnect("t", nil, data)
		if schemas {
			// The schema-cache fast path reads exactly what the general
			// path reads.
			s2, v2, err2 := cached.ToConnect("t", nil, data)
			if (err == nil) != (err2 == nil) {
				t.Fatalf("cached path error %v, general %v", err2, err)
			}
			if err == nil {
				a, errA := c.FromConnect("t", nil, s, v)
				b, errB := c.FromConnect("t", nil, s2, v2)
				if (errA == nil) != (errB == nil) || (errA == nil && string(a) != string(b)) {
					t.Fatalf("cached path read %s, general %s", b, a)
				}
			}
		}
		if err != nil {
			var de *DataException
			if !errors.As(err, &de) {
				t.Fatalf("error is not a DataException: %v", err)
			}
			return
		}
		// What was read can be written again (the value fits its schema
		// as this converter reads it, or the write reports why not).
		_, _ = c.FromConnect("t", nil, s, v)
	})
}
