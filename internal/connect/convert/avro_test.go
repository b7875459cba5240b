package convert

import (
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/samsa-streaming/samsa/connect"
	"github.com/samsa-streaming/samsa/serde/wire"
)

// offlineAvro returns an AvroConverter whose registry cache already holds
// schema id 1 (the mapping of s), so decoding needs no registry; other
// ids fail fast against a closed port.
func offlineAvro(t testing.TB, s *connect.Schema) *AvroConverter {
	t.Helper()
	c := &AvroConverter{}
	if err := c.Configure(map[string]string{"schema.registry.url": "http://127.0.0.1:1"}, false); err != nil {
		t.Fatal(err)
	}
	text, _, err := ConnectToAvroSchema(s)
	if err != nil {
		t.Fatal(err)
	}
	as, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	cs, err := AvroToConnectSchema(as)
	if err != nil {
		t.Fatal(err)
	}
	c.reg.byID[1] = &avroParsed{schema: as, connect: cs}
	return c
}

func fuzzSchema() *connect.Schema {
	one := int32(1)
	return &connect.Schema{Type: connect.StructT, Name: "F", Fields: []connect.Field{
		{Name: "a", Index: 0, Schema: connect.OptionalString},
		{Name: "m", Index: 1, Schema: &connect.Schema{Type: connect.Map, Key: connect.SchemaInt16, Value: connect.OptionalFloat64}},
		{Name: "d", Index: 2, Schema: &connect.Schema{Type: connect.Bytes, Name: connect.DecimalName, Version: &one, Parameters: map[string]string{"scale": "3"}}},
		{Name: "l", Index: 3, Schema: &connect.Schema{Type: connect.Array, Value: connect.SchemaInt64}},
		{Name: "t", Index: 4, Schema: &connect.Schema{Type: connect.Int32, Name: connect.TimeName, Version: &one}},
	}}
}

// TestAvroSchemaMapping checks the Avro text Confluent's AvroData writes
// for optional fields (["null",T] with default null), INT8 (connect.type)
// and a named struct (connect.name).
func TestAvroSchemaMapping(t *testing.T) {
	s := &connect.Schema{Type: connect.StructT, Name: "a.B", Fields: []connect.Field{
		{Name: "x", Index: 0, Schema: connect.OptionalString},
		{Name: "y", Index: 1, Schema: connect.SchemaInt8},
	}}
	text, name, err := ConnectToAvroSchema(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"record","name":"B","namespace":"a","fields":[{"name":"x","type":["null","string"],"default":null},{"name":"y","type":{"type":"int","connect.type":"int8"}}],"connect.name":"a.B"}`
	if text != want || name != "a.B" {
		t.Fatalf("got  %s\nwant %s", text, want)
	}
}

func FuzzAvroToConnect(f *testing.F) {
	c := offlineAvro(f, fuzzSchema())
	f.Add(append(wire.AppendHeader(nil, 1), 0, 0, 0, 0, 0))
	f.Add(append(wire.AppendHeader(nil, 1), 2, 2, 'x', 2, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0, 2, 2, 0, 4))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) >= 5 && data[0] == 0 {
			copy(data[1:5], []byte{0, 0, 0, 1}) // only the cached id
		}
		_, _, err := c.ToConnect("t", nil, data)
		var de *DataException
		if err != nil && !errors.As(err, &de) {
			t.Fatalf("not a DataException: %v", err)
		}
	})
}

// TestAvroEnumFixedRoundTrip: enums and fixed read from foreign Avro
// schemas map back to enum and fixed (Confluent keeps them through the
// io.confluent.connect.avro.Enum and connect.fixed.size parameters).
func TestAvroEnumFixedRoundTrip(t *testing.T) {
	text := `{"type":"record","name":"R","namespace":"n","doc":"rec doc","fields":[{"name":"c","doc":"field doc","type":{"type":"enum","name":"Color","symbols":["GREEN","RED"]}},{"name":"f","type":{"type":"fixed","name":"F4","size":4}}]}`
	as, err := avro.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := AvroToConnectSchema(as)
	if err != nil {
		t.Fatal(err)
	}
	plain, _, err := ConnectToAvroSchema(cs)
	if err != nil || strings.Contains(plain, `"enum"`) {
		t.Fatalf("without enhanced.avro.schema.support an enum is a string: %s %v", plain, err)
	}
	back, _, err := ConnectToAvroSchemaOpts(cs, true)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := avro.ParseWithCache(back, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatalf("%v\n%s", err, back)
	}
	f := bs.(*avro.RecordSchema).Fields()
	if e, ok := f[0].Type().(*avro.EnumSchema); !ok || e.FullName() != "n.Color" || len(e.Symbols()) != 2 {
		t.Fatalf("enum lost: %s", back)
	}
	if bs.(*avro.RecordSchema).Doc() != "rec doc" || f[0].Doc() != "field doc" {
		t.Fatalf("docs lost: %s", back)
	}
	if x, ok := f[1].Type().(*avro.FixedSchema); !ok || x.Size() != 4 {
		t.Fatalf("fixed lost: %s", back)
	}
	st := connect.NewStruct(cs)
	st.Values[0], st.Values[1] = "RED", []byte{1, 2, 3, 4}
	gv, err := connectToAvroValue(cs, bs, st, 0)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := avro.Marshal(bs, gv)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := avro.Unmarshal(bs, raw, &out); err != nil {
		t.Fatal(err)
	}
	v, err := avroValueToConnect(bs, cs, out, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.(*connect.Struct); got.Values[0] != "RED" || string(got.Values[1].([]byte)) != "\x01\x02\x03\x04" {
		t.Fatalf("values %v", got.Values)
	}
}

// TestAvroConcurrentReads: one configured converter serves concurrent
// tasks (run with -race); every goroutine decodes the same record.
func TestAvroConcurrentReads(t *testing.T) {
	s := fuzzSchema()
	c := offlineAvro(t, s)
	ap := c.reg.byID[1].(*avroParsed)
	st := connect.NewStruct(ap.connect)
	st.Values[0] = "x"
	st.Values[1] = map[any]any{int16(1): 2.5}
	st.Values[2] = connect.Decimal{Unscaled: big.NewInt(1500), Scale: 3}
	st.Values[3] = []any{int64(1)}
	st.Values[4] = time.UnixMilli(5).UTC()
	gv, err := connectToAvroValue(ap.connect, ap.schema, st, 0)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := avro.Marshal(ap.schema, gv)
	if err != nil {
		t.Fatal(err)
	}
	data := append(wire.AppendHeader(nil, 1), payload...)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				_, v, err := c.ToConnect("t", nil, data)
				if err != nil {
					errs <- err
					return
				}
				if v.(*connect.Struct).Get("a") != "x" {
					errs <- errors.New("wrong value")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestAvroGeneralUnion: a union other than [null, T] reads as Confluent's
// io.confluent.connect.avro.Union struct (one field per branch, named by
// type or record name) and writes back as the same union.
func TestAvroGeneralUnion(t *testing.T) {
	text := `{"type":"record","name":"R","fields":[{"name":"u","type":["null","string","int",{"type":"record","name":"P","fields":[{"name":"x","type":"long"}]}]}]}`
	as := avro.MustParse(text)
	cs, err := AvroToConnectSchema(as)
	if err != nil {
		t.Fatal(err)
	}
	us := cs.Field("u").Schema
	if us.Name != "io.confluent.connect.avro.Union" || !us.Optional || len(us.Fields) != 3 || us.Fields[0].Name != "string" || us.Fields[2].Name != "P" {
		t.Fatalf("union schema %+v", us)
	}
	for _, in := range []map[string]any{{"u": map[string]any{"int": 7}}, {"u": map[string]any{"P": map[string]any{"x": int64(3)}}}, {"u": nil}} {
		raw, err := avro.Marshal(as, in)
		if err != nil {
			t.Fatal(err)
		}
		var out any
		if err := avro.Unmarshal(as, raw, &out); err != nil {
			t.Fatal(err)
		}
		v, err := avroValueToConnect(as, cs, out, 0)
		if err != nil {
			t.Fatalf("%v: %v", in, err)
		}
		// And back through the Connect schema's own Avro mapping.
		back, _, err := ConnectToAvroSchema(cs)
		if err != nil {
			t.Fatal(err)
		}
		bs, err := avro.ParseWithCache(back, "", &avro.SchemaCache{})
		if err != nil {
			t.Fatalf("%v\n%s", err, back)
		}
		gv, err := connectToAvroValue(cs, bs, v, 0)
		if err != nil {
			t.Fatal(err)
		}
		raw2, err := avro.Marshal(bs, gv)
		if err != nil || string(raw2) != string(raw) {
			t.Fatalf("%v: rewritten %x, original %x (%v)", in, raw2, raw, err)
		}
	}
}

func TestRegistryConfig(t *testing.T) {
	c, err := parseRegistryConfig(map[string]string{"schema.registry.url": "http://u:p@h:1,http://h2:2",
		"value.subject.name.strategy": "RecordNameStrategy"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if c.User != "u" || c.Password != "p" || c.URLs[0] != "http://h:1" || len(c.URLs) != 2 || c.SubjectStrategy != RecordNameStrategy || !c.AutoRegister {
		t.Fatalf("%+v", c)
	}
	c, err = parseRegistryConfig(map[string]string{"schema.registry.url": "http://h:1", "basic.auth.credentials.source": "USER_INFO",
		"schema.registry.basic.auth.user.info": "a:b:c"}, true)
	if err != nil || c.User != "a" || c.Password != "b:c" || c.SubjectStrategy != TopicNameStrategy {
		t.Fatalf("%+v %v", c, err)
	}
	if _, err := parseRegistryConfig(map[string]string{"schema.registry.url": "http://h:1", "key.subject.name.strategy": "com.example.Mine"}, true); err == nil {
		t.Fatal("unknown strategy accepted")
	}
}
