package schemajson

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Adversarial schemas: Parse and Check stay within a few seconds and
// answer (conservatively when they give up).
func TestCheckBounded(t *testing.T) {
	var props, pats []string
	for i := range 3000 {
		props = append(props, fmt.Sprintf(`"p%d":{"type":"string"}`, i))
	}
	for i := range 300 {
		pats = append(pats, fmt.Sprintf(`"^q%d":{"type":"integer"}`, i))
	}
	wide := `{"properties":{` + strings.Join(props, ",") + `},"patternProperties":{` + strings.Join(pats, ",") + `}}`

	var defs []string
	for i := range 40 {
		defs = append(defs, fmt.Sprintf(`"a%d":{"anyOf":[{"$ref":"#/$defs/a%d"},{"type":"object","properties":{"x":{"$ref":"#/$defs/a%d"}},"required":["x"]}]}`, i, i+1, i+1))
	}
	defs = append(defs, `"a40":{"type":"object"}`)
	chain := `{"$schema":"https://json-schema.org/draft/2020-12/schema","$defs":{` + strings.Join(defs, ",") + `},"$ref":"#/$defs/a0"}`

	var alts []string
	for i := range 8 {
		alts = append(alts, fmt.Sprintf(`{"anyOf":[{"type":"object","required":["k%d"]},{"type":"object","properties":{"k%d":{"const":%d}}}]}`, i, i, i))
	}
	product := `{"allOf":[` + strings.Join(alts, ",") + `]}`
	oneOfProduct := `{"oneOf":[` + strings.Join(alts, ",") + `,` + strings.Join(alts, ",") + `]}`

	tests := []struct {
		name, reader, writer string
		compatible           bool
	}{
		{"wide", wide, wide, true},
		{"chain of anyOf", chain, chain, true},
		{"anyOf product", product, product, true},
		// Every subschema is there twice: nothing is valid under the oneOf.
		{"oneOf of duplicates", oneOfProduct, product, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			r := mustParse(t, tt.reader)
			w := mustParse(t, tt.writer)
			got := New().Check(r, w)
			_ = New().Check(w, r)
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
			if tt.compatible != (len(got) == 0) {
				t.Errorf("compatible = %v, want %v: %v", len(got) == 0, tt.compatible, got)
			}
		})
	}
}
