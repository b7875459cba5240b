package transform

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/connect"
)

func registry(t *testing.T) *connect.Registry {
	t.Helper()
	r := connect.NewRegistry()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	return r
}

// chainOf builds a one-stage chain "t" of class with props.
func chainOf(t *testing.T, class string, props map[string]string) *Chain {
	t.Helper()
	p := map[string]string{"transforms": "t", "transforms.t.type": class}
	for k, v := range props {
		p["transforms.t."+k] = v
	}
	c, err := NewChain(registry(t), p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func apply(t *testing.T, c *Chain, r *connect.Record) *connect.Record {
	t.Helper()
	out, err := c.Apply(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sinkRecord(v any) *connect.Record {
	return &connect.Record{Topic: "test", Partition: 0, Value: v, Offset: 42, Timestamp: time.UnixMilli(1483425001864).UTC()}
}

func structOf(fields ...any) *connect.Struct {
	s := &connect.Schema{Type: connect.StructT, Name: "name", Version: i32(1), Doc: "doc"}
	for i := 0; i < len(fields); i += 3 {
		s.Fields = append(s.Fields, connect.Field{Name: fields[i].(string), Index: i / 3, Schema: fields[i+1].(*connect.Schema)})
	}
	st := connect.NewStruct(s)
	for i := 0; i < len(fields); i += 3 {
		st.Values[i/3] = fields[i+2]
	}
	return st
}

func i32(v int32) *int32 { return &v }

// InsertFieldTest.schemalessInsertConfiguredFields / copySchemaAndInsertConfiguredFields.
func TestInsertField(t *testing.T) {
	props := map[string]string{"topic.field": "topic_field!", "partition.field": "partition_field",
		"timestamp.field": "timestamp_field?", "static.field": "instance_id", "static.value": "my-instance-id", "offset.field": "offset_field"}
	c := chainOf(t, "org.apache.kafka.connect.transforms.InsertField$Value", props)
	out := apply(t, c, sinkRecord(map[string]any{"magic": int64(42)}))
	want := map[string]any{"magic": int64(42), "topic_field": "test", "partition_field": int32(0), "timestamp_field": int64(1483425001864),
		"instance_id": "my-instance-id", "offset_field": int64(42)}
	if !reflect.DeepEqual(out.Value, want) {
		t.Fatalf("schemaless: %#v", out.Value)
	}
	in := structOf("magic", connect.SchemaInt64, int64(42))
	out = apply(t, c, &connect.Record{Topic: "test", Partition: 0, ValueSchema: in.Schema, Value: in, Offset: 42, Timestamp: time.UnixMilli(1483425001864)})
	s := out.ValueSchema
	if s.Name != "name" || *s.Version != 1 || s.Doc != "doc" || len(s.Fields) != 6 {
		t.Fatalf("schema %+v", s)
	}
	if f := s.Field("topic_field"); f.Schema.Type != connect.String || f.Schema.Optional {
		t.Fatalf("topic_field must be a required string: %+v", f.Schema)
	}
	if f := s.Field("partition_field"); f.Schema.Type != connect.Int32 || !f.Schema.Optional {
		t.Fatalf("partition_field must be optional int32: %+v", f.Schema)
	}
	if f := s.Field("timestamp_field"); f.Schema.Name != connect.TimestampName || !f.Schema.Optional {
		t.Fatalf("timestamp_field must be optional Timestamp: %+v", f.Schema)
	}
	st := out.Value.(*connect.Struct)
	if st.Get("magic") != int64(42) || st.Get("topic_field") != "test" || st.Get("offset_field") != int64(42) ||
		!st.Get("timestamp_field").(time.Time).Equal(time.UnixMilli(1483425001864)) || st.Get("instance_id") != "my-instance-id" {
		t.Fatalf("struct %+v", st.Values)
	}
	// A tombstone passes unchanged (InsertFieldTest.insertConfiguredFieldsIntoTombstoneEventWithoutSchemaLeavesValueUnchanged).
	if out := apply(t, c, sinkRecord(nil)); out.Value != nil {
		t.Fatal("tombstone changed")
	}
	// Non-map schemaless value: Requirements.requireMap's message.
	_, err := c.Apply(sinkRecord(int64(1)))
	var de *DataException
	if !errors.As(err, &de) || de.Msg != "Only Map objects supported in absence of schema for [field insertion], found: java.lang.Long" {
		t.Fatalf("err %v", err)
	}
	// Offsets only on sink records.
	src := sinkRecord(map[string]any{})
	src.SourcePartition = map[string]any{"p": 1}
	if _, err := c.Apply(src); err == nil || !strings.Contains(err.Error(), "Only SinkRecord supported for [field insertion]") {
		t.Fatalf("source record: %v", err)
	}
	if _, err := NewChain(registry(t), map[string]string{"transforms": "t", "transforms.t.type": "InsertField$Value"}); err == nil || !strings.Contains(err.Error(), "No field insertion configured") {
		t.Fatalf("empty config: %v", err)
	}
}

// ReplaceFieldTest: exclude, include, renames; whitelist/blacklist as the old names.
func TestReplaceField(t *testing.T) {
	v := map[string]any{"dont": "whatever", "abc": int64(42), "foo": true, "etc": "etc"}
	c := chainOf(t, "org.apache.kafka.connect.transforms.ReplaceField$Value", map[string]string{"exclude": "dont", "renames": "abc:xyz,foo:bar"})
	out := apply(t, c, sinkRecord(v))
	if want := map[string]any{"xyz": int64(42), "bar": true, "etc": "etc"}; !reflect.DeepEqual(out.Value, want) {
		t.Fatalf("got %v", out.Value)
	}
	c = chainOf(t, "org.apache.kafka.connect.transforms.ReplaceField$Value", map[string]string{"whitelist": "abc,foo", "renames": "abc:xyz,foo:bar"})
	in := structOf("dont", connect.SchemaString, "whatever", "abc", connect.SchemaInt32, int32(42), "foo", connect.SchemaBoolean, true, "etc", connect.SchemaString, "etc")
	out = apply(t, c, &connect.Record{Topic: "t", ValueSchema: in.Schema, Value: in})
	st := out.Value.(*connect.Struct)
	if len(out.ValueSchema.Fields) != 2 || st.Get("xyz") != int32(42) || st.Get("bar") != true {
		t.Fatalf("struct %+v %+v", out.ValueSchema.Fields, st.Values)
	}
	if _, err := NewChain(registry(t), map[string]string{"transforms": "t", "transforms.t.type": "ReplaceField$Value", "transforms.t.renames": "a:b:c"}); err == nil ||
		!strings.Contains(err.Error(), "Invalid rename mapping: a:b:c") {
		t.Fatalf("bad renames: %v", err)
	}
}

// MaskFieldTest: values become their type's zero (or the replacement).
func TestMaskField(t *testing.T) {
	c := chainOf(t, "org.apache.kafka.connect.transforms.MaskField$Value", map[string]string{"fields": "int,str,list,map,keep_missing"})
	v := map[string]any{"int": int32(42), "str": "secret", "list": []any{"a"}, "map": map[string]any{"a": 1}, "other": "x"}
	out := apply(t, c, sinkRecord(v)).Value.(map[string]any)
	if out["int"] != int32(0) || out["str"] != "" || len(out["list"].([]any)) != 0 || len(out["map"].(map[string]any)) != 0 || out["other"] != "x" || out["keep_missing"] != nil {
		t.Fatalf("masked %v", out)
	}
	c = chainOf(t, "org.apache.kafka.connect.transforms.MaskField$Value", map[string]string{"fields": "int,str", "replacement": "123"})
	in := structOf("int", connect.SchemaInt32, int32(42), "str", connect.SchemaString, "secret")
	st := apply(t, c, &connect.Record{ValueSchema: in.Schema, Value: in}).Value.(*connect.Struct)
	if st.Get("int") != int32(123) || st.Get("str") != "123" {
		t.Fatalf("replaced %v", st.Values)
	}
	c = chainOf(t, "org.apache.kafka.connect.transforms.MaskField$Value", map[string]string{"fields": "int", "replacement": "abc"})
	if _, err := c.Apply(sinkRecord(map[string]any{"int": int32(1)})); err == nil || err.Error() != "transform: stage failed: t: Unable to convert abc (class java.lang.String) to number" {
		t.Fatalf("bad replacement: %v", err)
	}
}

// ValueToKeyTest.schemaless / withSchema.
func TestValueToKey(t *testing.T) {
	c := chainOf(t, "org.apache.kafka.connect.transforms.ValueToKey", map[string]string{"fields": "a,b"})
	out := apply(t, c, sinkRecord(map[string]any{"a": int64(1), "b": int64(2), "c": int64(3)}))
	if !reflect.DeepEqual(out.Key, map[string]any{"a": int64(1), "b": int64(2)}) || out.KeySchema != nil {
		t.Fatalf("key %v", out.Key)
	}
	in := structOf("a", connect.SchemaInt32, int32(1), "b", connect.SchemaInt32, int32(2), "c", connect.SchemaInt32, int32(3))
	out = apply(t, c, &connect.Record{ValueSchema: in.Schema, Value: in})
	k := out.Key.(*connect.Struct)
	if len(out.KeySchema.Fields) != 2 || k.Get("a") != int32(1) || k.Get("b") != int32(2) {
		t.Fatalf("key %+v", k)
	}
	c = chainOf(t, "org.apache.kafka.connect.transforms.ValueToKey", map[string]string{"fields": "not_exist"})
	if _, err := c.Apply(&connect.Record{ValueSchema: in.Schema, Value: in}); err == nil || !strings.HasSuffix(err.Error(), "Field does not exist: not_exist") {
		t.Fatalf("missing field: %v", err)
	}
}

// ExtractFieldTest and HoistFieldTest.
func TestExtractAndHoist(t *testing.T) {
	c := chainOf(t, "org.apache.kafka.connect.transforms.ExtractField$Key", map[string]string{"field": "magic"})
	out := apply(t, c, &connect.Record{Key: map[string]any{"magic": int64(42)}})
	if out.Key != int64(42) {
		t.Fatalf("extract %v", out.Key)
	}
	in := structOf("magic", connect.SchemaInt32, int32(42))
	out = apply(t, c, &connect.Record{KeySchema: in.Schema, Key: in})
	if out.Key != int32(42) || out.KeySchema != connect.SchemaInt32 {
		t.Fatalf("extract struct %v", out.Key)
	}
	if _, err := c.Apply(&connect.Record{KeySchema: in.Schema.Fields[0].Schema, Key: int32(1)}); err == nil {
		t.Fatal("extract from a non-struct must fail")
	}
	h := chainOf(t, "org.apache.kafka.connect.transforms.HoistField$Value", map[string]string{"field": "magic"})
	out = apply(t, h, &connect.Record{ValueSchema: connect.SchemaInt32, Value: int32(42)})
	if st := out.Value.(*connect.Struct); st.Get("magic") != int32(42) || out.ValueSchema.Fields[0].Schema != connect.SchemaInt32 {
		t.Fatalf("hoist %+v", st)
	}
	out = apply(t, h, &connect.Record{Value: int64(42)})
	if !reflect.DeepEqual(out.Value, map[string]any{"magic": int64(42)}) {
		t.Fatalf("hoist schemaless %v", out.Value)
	}
}

// CastTest: whole value and per-field casts, Java's narrowing rules.
func TestCast(t *testing.T) {
	c := chainOf(t, "org.apache.kafka.connect.transforms.Cast$Value", map[string]string{"spec": "int8"})
	for _, tc := range []struct{ in, want any }{
		{int32(42), int8(42)}, {int32(300), int8(44)}, {float64(42.9), int8(42)}, {true, int8(1)}, {"42", int8(42)},
	} {
		out := apply(t, c, &connect.Record{Value: tc.in})
		if out.Value != tc.want {
			t.Errorf("cast %v → %v, want %v", tc.in, out.Value, tc.want)
		}
	}
	if _, err := c.Apply(&connect.Record{Value: "300"}); err == nil || !strings.HasSuffix(err.Error(), "Value (300) was out of range for requested data type") {
		t.Errorf("out of range: %v", err)
	}
	c = chainOf(t, "org.apache.kafka.connect.transforms.Cast$Value", map[string]string{"spec": "int8:int16,bigint:string,flag:boolean,bytes:string,opt:int64"})
	in := structOf("int8", connect.SchemaInt8, int8(8), "bigint", connect.SchemaInt64, int64(42), "flag", connect.SchemaInt32, int32(0),
		"bytes", connect.SchemaBytes, []byte("hi"), "opt", connect.OptionalFloat64, nil)
	out := apply(t, c, &connect.Record{ValueSchema: in.Schema, Value: in})
	st := out.Value.(*connect.Struct)
	if st.Get("int8") != int16(8) || st.Get("bigint") != "42" || st.Get("flag") != false || st.Get("bytes") != "aGk=" || st.Get("opt") != nil {
		t.Fatalf("cast struct %v", st.Values)
	}
	if f := out.ValueSchema.Field("opt"); f.Schema.Type != connect.Int64 || !f.Schema.Optional {
		t.Fatalf("opt schema %+v", f.Schema)
	}
	for spec, msg := range map[string]string{
		"foo:array": "Cast transformation does not support casting to ARRAY; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]",
		"foo:what":  "Invalid type found in casting spec: what",
		"int8,a:b":  "Invalid type found in casting spec: b",
		"int8,int8": "Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec",
	} {
		_, err := NewChain(registry(t), map[string]string{"transforms": "t", "transforms.t.type": "Cast$Value", "transforms.t.spec": spec})
		if err == nil || !strings.HasSuffix(err.Error(), msg) {
			t.Errorf("spec %q: %v", spec, err)
		}
	}
}

// TimestampRouterTest.defaultConfiguration: test-20170103 for 1483425001864.
// RegexRouterTest: "(.*)-(\\d\\d\\d\\d)" → "$1-$2-suffix".
func TestRouters(t *testing.T) {
	c := chainOf(t, "org.apache.kafka.connect.transforms.TimestampRouter", nil)
	if out := apply(t, c, sinkRecord(nil)); out.Topic != "test-20170103" {
		t.Fatalf("topic %s", out.Topic)
	}
	c = chainOf(t, "TimestampRouter", map[string]string{"topic.format": "${topic}_${timestamp}", "timestamp.format": "yyyy-MM-dd'T'HH:mm:ss.SSS"})
	if out := apply(t, c, sinkRecord(nil)); out.Topic != "test_2017-01-03T06:30:01.864" {
		t.Fatalf("topic %s", out.Topic)
	}
	if _, err := c.Apply(&connect.Record{Topic: "x"}); err == nil || !strings.Contains(err.Error(), "Timestamp missing on record") {
		t.Fatalf("no timestamp: %v", err)
	}
	r := chainOf(t, "org.apache.kafka.connect.transforms.RegexRouter", map[string]string{"regex": `(.*)-(\d\d\d\d)`, "replacement": "$1-$2-suffix"})
	for in, want := range map[string]string{"orig-1234": "orig-1234-suffix", "orig-12345": "orig-12345", "xorig-1234": "xorig-1234-suffix"} {
		if out := apply(t, r, &connect.Record{Topic: in}); out.Topic != want {
			t.Errorf("%s → %s, want %s", in, out.Topic, want)
		}
	}
	r = chainOf(t, "RegexRouter", map[string]string{"regex": "(foo)(bar)?", "replacement": "$10x"})
	if out := apply(t, r, &connect.Record{Topic: "foo"}); out.Topic != "foo0x" {
		t.Errorf("$10 with two groups is group 1 then 0: %s", out.Topic)
	}
}

// The chain with predicates: Filter applied only to tombstones, negate,
// TopicNameMatches and HasHeaderKey (PredicatedTransformationTest).
func TestChainPredicates(t *testing.T) {
	reg := registry(t)
	c, err := NewChain(reg, map[string]string{
		"transforms": "dropTombstones,dropOthers,tag", "predicates": "isTombstone,isFoo,hasH",
		"transforms.dropTombstones.type": "org.apache.kafka.connect.transforms.Filter", "transforms.dropTombstones.predicate": "isTombstone",
		"transforms.dropOthers.type": "Filter", "transforms.dropOthers.predicate": "isFoo", "transforms.dropOthers.negate": "true",
		"transforms.tag.type": "InsertField$Value", "transforms.tag.static.field": "tagged", "transforms.tag.static.value": "yes", "transforms.tag.predicate": "hasH",
		"predicates.isTombstone.type": "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
		"predicates.isFoo.type":       "TopicNameMatches", "predicates.isFoo.pattern": "foo.*",
		"predicates.hasH.type": "HasHeaderKey", "predicates.hasH.name": "h",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if out := apply(t, c, &connect.Record{Topic: "foo1"}); out != nil {
		t.Fatal("tombstone not dropped")
	}
	if out := apply(t, c, &connect.Record{Topic: "bar", Value: map[string]any{}}); out != nil {
		t.Fatal("non-foo topic not dropped")
	}
	out := apply(t, c, &connect.Record{Topic: "foo1", Value: map[string]any{}})
	if _, ok := out.Value.(map[string]any)["tagged"]; ok {
		t.Fatal("tagged without header")
	}
	out = apply(t, c, &connect.Record{Topic: "foo1", Value: map[string]any{}, Headers: []connect.Header{{Key: "h"}}})
	if out.Value.(map[string]any)["tagged"] != "yes" {
		t.Fatal("not tagged with header")
	}
	for props, msg := range map[string]string{
		"transforms=a;transforms.a.type=Nope":     "Invalid value Nope for configuration transforms.a.type: Class Nope could not be found.",
		"transforms=a,a;transforms.a.type=Filter": "Invalid value [a, a] for configuration transforms: Duplicate alias provided.",
		"transforms=a": `Missing required configuration "transforms.a.type" which has no default value.`,
		"transforms=a;transforms.a.type=Filter;transforms.a.negate=true":                                    "Config 'transforms.a.negate' was provided but there is no config 'transforms.a.predicate' defining a predicate to be negated.",
		"transforms=a;transforms.a.type=RecordIsTombstone":                                                  "Not a Transformation",
		"transforms=a;transforms.a.type=Filter;transforms.a.predicate=p;predicates.p.type=TopicNameMatches": `Missing required configuration "pattern" which has no default value.`,
	} {
		p := map[string]string{}
		for _, kv := range strings.Split(props, ";") {
			k, v, _ := strings.Cut(kv, "=")
			p[k] = v
		}
		if _, err := NewChain(reg, p); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v", props, err)
		}
	}
}

// TimestampConverterTest: string ↔ Timestamp ↔ unix ↔ Date/Time.
func TestTimestampConverter(t *testing.T) {
	c := chainOf(t, "TimestampConverter$Value", map[string]string{"target.type": "string", "format": "yyyy MM dd HH mm ss SSS z"})
	ts := time.Date(1970, 1, 1, 1, 2, 3, 4e6, time.UTC)
	if out := apply(t, c, &connect.Record{Value: ts}); out.Value != "1970 01 01 01 02 03 004 UTC" {
		t.Fatalf("to string %v", out.Value)
	}
	c = chainOf(t, "TimestampConverter$Value", map[string]string{"target.type": "Timestamp", "format": "yyyy MM dd HH mm ss SSS z", "field": "ts"})
	out := apply(t, c, &connect.Record{Value: map[string]any{"ts": "1970 01 01 01 02 03 004 UTC"}})
	if got := out.Value.(map[string]any)["ts"].(time.Time); !got.Equal(ts) {
		t.Fatalf("parse %v", got)
	}
	c = chainOf(t, "TimestampConverter$Value", map[string]string{"target.type": "unix", "unix.precision": "seconds"})
	if out := apply(t, c, &connect.Record{ValueSchema: timestampSchema(false), Value: ts}); out.Value != int64(3723) || out.ValueSchema.Type != connect.Int64 {
		t.Fatalf("to unix %v", out.Value)
	}
	c = chainOf(t, "TimestampConverter$Value", map[string]string{"target.type": "Date"})
	if out := apply(t, c, &connect.Record{Value: int64(86400000 + 5000)}); !out.Value.(time.Time).Equal(time.UnixMilli(86400000)) {
		t.Fatalf("to date %v", out.Value)
	}
	if _, err := NewChain(registry(t), map[string]string{"transforms": "t", "transforms.t.type": "TimestampConverter$Value", "transforms.t.target.type": "string"}); err == nil ||
		!strings.Contains(err.Error(), "TimestampConverter requires format option to be specified when using string timestamps") {
		t.Fatalf("no format: %v", err)
	}
}

func TestHeadersAndMetadata(t *testing.T) {
	c := chainOf(t, "InsertHeader", map[string]string{"header": "h", "value.literal": "42"})
	out := apply(t, c, &connect.Record{})
	if h := out.Header("h"); h == nil || h.Value != int8(42) || h.Schema.Type != connect.Int8 {
		t.Fatalf("header %+v", h)
	}
	d := chainOf(t, "DropHeaders", map[string]string{"headers": "h"})
	if out := apply(t, d, out); len(out.Headers) != 0 {
		t.Fatalf("headers %v", out.Headers)
	}
	s := chainOf(t, "SetSchemaMetadata$Value", map[string]string{"schema.name": "n", "schema.version": "3"})
	in := structOf("a", connect.SchemaInt32, int32(1))
	out = apply(t, s, &connect.Record{ValueSchema: in.Schema, Value: in})
	if out.ValueSchema.Name != "n" || *out.ValueSchema.Version != 3 || out.Value.(*connect.Struct).Get("a") != int32(1) {
		t.Fatalf("metadata %+v", out.ValueSchema)
	}
	f := chainOf(t, "Flatten$Value", nil)
	out = apply(t, f, &connect.Record{Value: map[string]any{"a": map[string]any{"b": int64(1), "c": map[string]any{"d": "x"}}, "e": true}})
	if !reflect.DeepEqual(out.Value, map[string]any{"a.b": int64(1), "a.c.d": "x", "e": true}) {
		t.Fatalf("flatten %v", out.Value)
	}
}

// HeaderFromTest: move removes the fields (and from the schema), copy
// keeps them; headers carry the field schemas.
func TestHeaderFrom(t *testing.T) {
	c := chainOf(t, "HeaderFrom$Value", map[string]string{"fields": "a,b", "headers": "ha,hb", "operation": "move"})
	in := structOf("a", connect.SchemaInt32, int32(1), "b", connect.OptionalString, "x", "c", connect.SchemaBoolean, true)
	out := apply(t, c, &connect.Record{ValueSchema: in.Schema, Value: in})
	if len(out.ValueSchema.Fields) != 1 || out.Value.(*connect.Struct).Get("c") != true {
		t.Fatalf("moved %+v", out.ValueSchema.Fields)
	}
	if h := out.Header("ha"); h == nil || h.Value != int32(1) || h.Schema != connect.SchemaInt32 {
		t.Fatalf("header %+v", h)
	}
	c = chainOf(t, "HeaderFrom$Key", map[string]string{"fields": "a", "headers": "ha", "operation": "copy"})
	out = apply(t, c, &connect.Record{Key: map[string]any{"a": "v"}})
	if out.Key.(map[string]any)["a"] != "v" || out.Header("ha").Value != "v" {
		t.Fatalf("copy %+v", out)
	}
	_, err := NewChain(registry(t), map[string]string{"transforms": "t", "transforms.t.type": "HeaderFrom$Value",
		"transforms.t.fields": "a,b", "transforms.t.headers": "h", "transforms.t.operation": "copy"})
	if err == nil || !strings.Contains(err.Error(), "'fields' config must have the same number of elements as 'headers' config.") {
		t.Fatalf("length mismatch: %v", err)
	}
}
