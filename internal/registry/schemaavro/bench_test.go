package schemaavro

import (
	"testing"

	"github.com/hamba/avro/v2"
)

func BenchmarkValidate(b *testing.B) {
	s, err := New().Parse(personV1, nil)
	if err != nil {
		b.Fatal(err)
	}
	hs := avro.MustParse(personV1)
	payload, err := avro.Marshal(hs, map[string]any{
		"name": "Ada", "age": 36, "suit": "B", "id": [16]byte{1, 2},
		"tags": []any{"x", "y"}, "attrs": map[string]any{"k": int64(7)}, "nick": "ad",
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Validate(payload, nil); err != nil {
			b.Fatal(err)
		}
	}
}
