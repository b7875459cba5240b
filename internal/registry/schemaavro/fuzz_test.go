package schemaavro

import (
	"testing"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
)

// FuzzParse: Parse never panics; what parses has canonical, normalized
// and resolved forms that parse again to the same forms, is compatible
// with itself, and validates payloads without panicking.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`"int"`, `{"type":"string","x":1}`, `["null","int"]`, `[]`, personV1,
		`{"type":"record","name":"L","namespace":"n","fields":[{"name":"next","type":["null","L"],"default":null}]}`,
		`{"type":"record","name":"n.R","fields":[{"name":"f","type":{"type":"fixed","name":"F","namespace":"","size":1}},{"name":"g","type":"F"}]}`,
		`{"type":"enum","name":"E","symbols":["A","B"],"default":"A","aliases":["x.Old"]}`,
		`{"type":"map","values":{"type":"array","items":{"type":"bytes","logicalType":"decimal","precision":4}}}`,
		`{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"record","name":"S","fields":[{"name":"x","type":"int","default":1}]},"default":{}}]}`,
	} {
		f.Add(s, []byte{2, 4, 0, 1})
	}
	h := New()
	f.Fuzz(func(t *testing.T, text string, payload []byte) {
		s, err := h.Parse(text, nil)
		if err != nil {
			return
		}
		roundTrip(t, h, s.Canonical(), s.Canonical, func(s schema.Schema) string { return s.Canonical() })
		roundTrip(t, h, s.Normalized(), s.Normalized, func(s schema.Schema) string { return s.Normalized() })
		resolved, err := s.Format("resolved")
		if err != nil || resolved != s.Canonical() {
			t.Fatalf("Format(resolved) = %q, %v; want the canonical form without references", resolved, err)
		}
		if issues := h.Check(s, s); len(issues) != 0 {
			t.Fatalf("schema incompatible with itself: %v\n%s", issues, s.Canonical())
		}
		_ = s.Validate(payload, nil)
	})
}

func roundTrip(t *testing.T, h schema.Handler, text string, want func() string, form func(schema.Schema) string) {
	t.Helper()
	again, err := h.Parse(text, nil)
	if err != nil {
		t.Fatalf("form %s does not parse: %v", text, err)
	}
	if got := form(again); got != want() {
		t.Fatalf("form does not round-trip:\n first %s\nsecond %s", want(), got)
	}
}
