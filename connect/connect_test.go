package connect

import (
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestConfigDefParseAndValidate(t *testing.T) {
	d := NewConfigDef().
		Define(ConfigKey{Name: "topic", Type: TypeString, Required: true}).
		Define(ConfigKey{Name: "batch.size", Type: TypeInt, Default: "2000", Validator: AtLeast(1)}).
		Define(ConfigKey{Name: "topics", Type: TypeList, Default: ""}).
		Define(ConfigKey{Name: "mode", Type: TypeString, Default: "a", Validator: InList(true, "a", "b")})

	got, err := d.Parse(map[string]string{"topic": "t", "topics": " x, y ", "mode": "B"})
	if err != nil {
		t.Fatal(err)
	}
	if got["batch.size"] != int32(2000) || got["topic"] != "t" || strings.Join(got["topics"].([]string), "|") != "x|y" {
		t.Fatalf("parsed %v", got)
	}
	if _, err := d.Parse(map[string]string{}); err == nil || !strings.Contains(err.Error(), `Missing required configuration "topic"`) {
		t.Fatalf("missing required: %v", err)
	}
	vals := d.Validate(map[string]string{"batch.size": "0", "mode": "c"})
	errs := map[string]int{}
	for _, v := range vals {
		errs[v.Name] = len(v.Errors)
	}
	if errs["topic"] != 1 || errs["batch.size"] != 1 || errs["mode"] != 1 || errs["topics"] != 0 {
		t.Fatalf("validation errors %v", errs)
	}
	if _, err := d.Parse(map[string]string{"topic": "t", "batch.size": "x"}); err == nil {
		t.Fatal("a non-number INT parsed")
	}
}

func TestRegistryLookup(t *testing.T) {
	r := NewRegistry()
	mk := func() any { return nil }
	if err := r.Register(Plugin{Class: "org.apache.kafka.connect.file.FileStreamSourceConnector", Aliases: []string{"FileStreamSource"}, Kind: KindSource, New: mk}); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(Plugin{Class: "x.Other", Aliases: []string{"FileStreamSource"}, Kind: KindSource, New: mk}); err == nil {
		t.Fatal("an alias clash was accepted")
	}
	for _, n := range []string{"org.apache.kafka.connect.file.FileStreamSourceConnector", "FileStreamSource", "FileStreamSourceConnector"} {
		if _, ok := r.Lookup(n); !ok {
			t.Fatalf("lookup %q failed", n)
		}
	}
	if _, ok := r.Lookup("Nope"); ok {
		t.Fatal("unknown name found")
	}
	if len(r.Plugins(KindSink)) != 0 || len(r.Plugins(KindSource)) != 1 {
		t.Fatal("kind filter")
	}
}

func TestValidateValue(t *testing.T) {
	s := &Schema{Type: StructT, Fields: []Field{
		{Name: "id", Index: 0, Schema: SchemaInt64},
		{Name: "name", Index: 1, Schema: OptionalString},
		{Name: "amount", Index: 2, Schema: &Schema{Type: Bytes, Name: DecimalName, Parameters: map[string]string{DecimalScaleParam: "2"}}},
		{Name: "at", Index: 3, Schema: &Schema{Type: Int64, Name: TimestampName, Optional: true}},
		{Name: "tags", Index: 4, Schema: &Schema{Type: Array, Value: SchemaString, Optional: true}},
	}}
	st := NewStruct(s)
	if err := st.Validate(); err == nil {
		t.Fatal("missing required id accepted")
	}
	_ = st.Put("id", int64(7))
	_ = st.Put("amount", Decimal{Unscaled: big.NewInt(12345), Scale: 2})
	_ = st.Put("at", time.Unix(0, 0).UTC())
	_ = st.Put("tags", []any{"a", "b"})
	if err := st.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := st.Put("nope", 1); !errors.Is(err, ErrNoField) {
		t.Fatalf("put unknown field: %v", err)
	}
	_ = st.Put("tags", []any{"a", 3})
	if err := st.Validate(); err == nil {
		t.Fatal("an int in a string array accepted")
	}
	if d := (Decimal{Unscaled: big.NewInt(-12345), Scale: 2}).String(); d != "-123.45" {
		t.Fatalf("decimal string %q", d)
	}
}
