package schemaproto

import (
	"math/rand/v2"
	"testing"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
)

// FuzzParse checks that Parse never panics and that whatever it accepts
// prints forms that parse back to themselves (the same descriptor, the
// same text), is compatible with itself and validates without panicking.
func FuzzParse(f *testing.F) {
	for _, text := range roundTrip {
		f.Add(text)
	}
	for _, c := range compatCases {
		if len(c.oldDeps) == 0 {
			f.Add(c.old)
			f.Add(c.new)
		}
	}
	f.Add(ordersProto)
	for seed := uint64(0); seed < 16; seed++ {
		g := &gen{r: rand.New(rand.NewPCG(seed, 7))}
		f.Add(g.file())
	}
	f.Add(`syntax = "proto3"; import "confluent/meta.proto"; message M { int32 a = 1 [(confluent.field_meta) = { doc: "x" }]; }`)
	f.Add(`syntax = "proto2"; message M { optional string s = 1 [default = "\xff\0"]; extensions 1 to max; }`)
	f.Add(`syntax = "proto3"; message M { map<string, M> m = 1; oneof o { M x = 2; } }`)
	f.Fuzz(func(t *testing.T, text string) {
		s, err := New().Parse(text, nil)
		if err != nil {
			return
		}
		ps := s.(*Schema)
		again, err := New().Parse(ps.Canonical(), nil)
		if err != nil {
			t.Fatalf("canonical does not parse: %v\n%s\nfrom\n%q", err, ps.Canonical(), text)
		}
		assertSameDescriptor(t, ps, again.(*Schema))
		norm, err := New().Parse(ps.Normalized(), nil)
		if err != nil {
			t.Fatalf("normalized does not parse: %v\n%s", err, ps.Normalized())
		}
		if norm.Normalized() != ps.Normalized() {
			t.Fatalf("normalized is not a fixed point:\n%s\n----\n%s", ps.Normalized(), norm.Normalized())
		}
		for _, format := range []string{FormatSerialized, FormatIgnoreExtensions} {
			if _, err := ps.Format(format); err != nil {
				t.Fatalf("Format(%q): %v", format, err)
			}
		}
		if inc := New().Check(s, again); len(inc) != 0 {
			t.Fatalf("schema incompatible with its canonical form: %v", inc)
		}
		var _ []schema.Incompatibility = New().Check(norm, s)
		_ = ps.Validate([]byte(text), nil)
		_ = ps.Validate([]byte{0x0a, 0x01, 0x00}, []int{0, 0})
	})
}
