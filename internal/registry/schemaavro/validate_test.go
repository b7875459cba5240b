package schemaavro

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"
)

// zigzag encodes v as an Avro long.
func zigzag(v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	var b []byte
	for u >= 0x80 {
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	return append(b, byte(u))
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestValidate(t *testing.T) {
	person := map[string]any{
		"name": "Ada", "age": 36, "suit": "B", "id": [16]byte{1, 2},
		"tags":  []any{"x", "y"},
		"attrs": map[string]any{"k": int64(7)},
		"nick":  "ad",
	}
	hs, err := avro.ParseWithCache(personV1, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatal(err)
	}
	good, err := avro.Marshal(hs, person)
	if err != nil {
		t.Fatal(err)
	}
	list := `{"type":"record","name":"L","fields":[{"name":"next","type":["null","L"]}]}`
	cases := []struct {
		name, schema string
		payload      []byte
		want         string // "" is valid
	}{
		{"record", personV1, good, ""},
		{"truncated", personV1, good[:len(good)-1], "ends before the value is complete"},
		{"trailing", personV1, append(append([]byte{}, good...), 0), "bytes remain after the value"},
		{"empty for int", `"int"`, nil, "ends before"},
		{"null empty", `"null"`, nil, ""},
		{"null with data", `"null"`, []byte{0}, "bytes remain"},
		{"bool", `"boolean"`, []byte{1}, ""},
		{"bad bool", `"boolean"`, []byte{2}, "invalid bool"},
		{"long overflow", `"long"`, append(bytes.Repeat([]byte{0xff}, 10), 1), "invalid AVRO payload"},
		{"int", `"int"`, zigzag(-5), ""},
		{"double short", `"double"`, make([]byte, 7), "ends before"},
		{"string", `"string"`, cat(zigzag(3), []byte("abc")), ""},
		{"negative length", `"bytes"`, zigzag(-1), "negative or longer than the payload"},
		{"huge length", `"string"`, zigzag(1 << 40), "negative or longer than the payload"},
		{"fixed", `{"type":"fixed","name":"F","size":3}`, []byte{1, 2, 3}, ""},
		{"fixed short", `{"type":"fixed","name":"F","size":3}`, []byte{1, 2}, "ends before"},
		{"enum index", `{"type":"enum","name":"E","symbols":["A","B"]}`, zigzag(2), "enum E has no symbol 2"},
		{"union index", `["null","int"]`, zigzag(2), "union branch 2 does not exist"},
		{"union negative", `["null","int"]`, zigzag(-1), "union branch -1 does not exist"},
		{"array blocks", `{"type":"array","items":"int"}`, cat(zigzag(2), zigzag(1), zigzag(2), zigzag(-1), zigzag(1), zigzag(4), zigzag(0)), ""},
		{"array claims too many", `{"type":"array","items":"int"}`, cat(zigzag(1<<40), zigzag(1)), "block of 1099511627776 items is longer than the payload"},
		{"array of nulls, many", `{"type":"array","items":"null"}`, cat(zigzag(1<<40), zigzag(0)), ""},
		{"array of empty records", `{"type":"array","items":{"type":"record","name":"E","fields":[{"name":"n","type":"null"}]}}`, cat(zigzag(1<<50), zigzag(0)), ""},
		{"map", `{"type":"map","values":"long"}`, cat(zigzag(1), zigzag(1), []byte("k"), zigzag(9), zigzag(0)), ""},
		{"map missing end", `{"type":"map","values":"long"}`, cat(zigzag(1), zigzag(1), []byte("k"), zigzag(9)), "ends before"},
		{"list", list, cat(zigzag(1), zigzag(1), zigzag(0)), ""},
		{"list too deep", list, append(bytes.Repeat(zigzag(1), 5000), zigzag(0)...), "nest deeper than 1024 levels"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := mustParse(t, c.schema).Validate(c.payload, nil)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("Validate err = %v, want %q", err, c.want)
			}
		})
	}
}

// TestValidateTruncated: every strict prefix of a valid payload is
// rejected. hamba's Unmarshal accepts many of them (it takes io.EOF for
// success), which is why Validate walks the schema with hamba's Reader
// itself; hamba must still decode the whole payload.
func TestValidateTruncated(t *testing.T) {
	schemaText := `{"type":"record","name":"R","fields":[{"name":"a","type":["null","string"]},{"name":"b","type":{"type":"array","items":"long"}},{"name":"c","type":{"type":"enum","name":"E","symbols":["X","Y"]}}]}`
	hs, err := avro.ParseWithCache(schemaText, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatal(err)
	}
	s := mustParse(t, schemaText)
	good := cat(zigzag(1), zigzag(2), []byte("hi"), zigzag(2), zigzag(5), zigzag(6), zigzag(0), zigzag(1))
	var v any
	if err := avro.Unmarshal(hs, good, &v); err != nil {
		t.Fatalf("hamba: %v", err)
	}
	if err := s.Validate(good, nil); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	for i := range len(good) {
		if err := s.Validate(good[:i], nil); err == nil {
			t.Errorf("prefix of %d bytes accepted", i)
		}
	}
}
