package convert

import (
	"testing"

	"github.com/samsa-streaming/samsa/connect"
)

// verifiableRecord is the shape of VerifiableSourceConnector's values:
// a struct of a few scalars.
func verifiableRecord() (*connect.Schema, *connect.Struct) {
	s := &connect.Schema{Type: connect.StructT, Fields: []connect.Field{
		{Name: "name", Index: 0, Schema: connect.SchemaString},
		{Name: "task", Index: 1, Schema: connect.SchemaInt32},
		{Name: "topic", Index: 2, Schema: connect.SchemaString},
		{Name: "time_ms", Index: 3, Schema: connect.SchemaInt64},
		{Name: "seqno", Index: 4, Schema: connect.SchemaInt64},
	}}
	st := connect.NewStruct(s)
	st.Values = []any{"verifiable", int32(0), "test", int64(1700000000000), int64(42)}
	return s, st
}

func BenchmarkJSONFromConnect(b *testing.B) {
	c := NewJSONConverter(JSONConfig{}.Defaults())
	s, v := verifiableRecord()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := c.FromConnect("t", nil, s, v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJSONToConnect(b *testing.B) {
	c := NewJSONConverter(JSONConfig{}.Defaults())
	s, v := verifiableRecord()
	data, err := c.FromConnect("t", nil, s, v)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, err := c.ToConnect("t", nil, data); err != nil {
			b.Fatal(err)
		}
	}
}
