package schemajson

import (
	"fmt"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
)

func fuzzSeeds(f *testing.F) {
	docs := []string{`{"a":1,"b":"x"}`, `"x"`, `[1,"a",{}]`, `5`, `2.5`, `null`, `true`, `{"kind":"a","x":1}`, `{"next":{"v":1},"v":2}`}
	for i, c := range append(append([]compatCase{}, compatible...), incompatible...) {
		f.Add(c.reader, c.writer, docs[i%len(docs)])
	}
	f.Add(`{"$ref":"#"}`, `{"$defs":{"a":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}`, `1`)
	f.Add(`{"$ref":"dep.json"}`, `{"items":[true,false],"additionalItems":{"$ref":"#"}}`, `[]`)
	f.Add(`{"properties":{"a":{"$ref":"#"}},"oneOf":[{"$ref":"#"},{"not":{"$ref":"#"}}]}`, `{"anyOf":[{"$ref":"#"},{"allOf":[{"$ref":"#"}]}]}`, `{"a":{}}`)
}

// The fuzz targets panic (crashing the worker, which records the input)
// when one input takes more than 5 s: "terminates" is part of the check.

// FuzzParse: Parse, the forms and Validate never panic; a parsed schema's
// Canonical and Normalized forms parse again to the same forms.
func FuzzParse(f *testing.F) {
	fuzzSeeds(f)
	h := New()
	deps := []schema.Dep{{Name: "dep.json", Schema: `{"type":"object","properties":{"x":{"$ref":"#"}}}`}}
	f.Fuzz(func(t *testing.T, text, payload, _ string) {
		tm := time.AfterFunc(5*time.Second, func() { panic(fmt.Sprintf("slow input: %q %q", text, payload)) })
		defer tm.Stop()
		s, err := h.Parse(text, deps)
		if err != nil {
			return
		}
		c, err := h.Parse(s.Canonical(), deps)
		if err != nil {
			t.Fatalf("canonical form %s of %s does not parse: %v", s.Canonical(), text, err)
		}
		if c.Canonical() != s.Canonical() || c.Normalized() != s.Normalized() {
			t.Fatalf("forms of %s change when reparsed: %s, %s", text, c.Canonical(), c.Normalized())
		}
		n, err := h.Parse(s.Normalized(), deps)
		if err != nil {
			t.Fatalf("normalized form %s of %s does not parse: %v", s.Normalized(), text, err)
		}
		if n.Normalized() != s.Normalized() {
			t.Fatalf("Normalized is not idempotent for %s: %s → %s", text, s.Normalized(), n.Normalized())
		}
		_ = s.Validate([]byte(payload), nil)
		_ = s.Validate([]byte(text), nil)
	})
}

// FuzzCheck: Check never panics and terminates, both ways; a schema
// always reads itself; and a compatible verdict is never contradicted by
// a document valid under the writer and invalid under the reader.
func FuzzCheck(f *testing.F) {
	fuzzSeeds(f)
	h := New()
	deps := []schema.Dep{{Name: "dep.json", Schema: `{"type":"object","properties":{"x":{"$ref":"#"}}}`}}
	f.Fuzz(func(t *testing.T, reader, writer, doc string) {
		tm := time.AfterFunc(5*time.Second, func() { panic(fmt.Sprintf("slow input: %q %q", reader, writer)) })
		defer tm.Stop()
		r, err := h.Parse(reader, deps)
		if err != nil {
			return
		}
		w, err := h.Parse(writer, deps)
		if err != nil {
			return
		}
		// Soundness: when Check says compatible, a document valid under
		// the writer is valid under the reader.
		if len(h.Check(r, w)) == 0 && w.Validate([]byte(doc), nil) == nil {
			if err := r.Validate([]byte(doc), nil); err != nil {
				t.Fatalf("Check(%s, %s) is compatible but %s is valid under the writer and not the reader: %v", reader, writer, doc, err)
			}
		}
		_ = h.Check(w, r)
		// A schema reads itself, unless Check gave up (a bound, or a
		// reference cycle at one instance location).
		for _, i := range h.Check(r, r) {
			switch i.Rule {
			case ruleReferenceCycle, ruleCheckTooComplex, ruleCheckTooDeep:
			default:
				t.Fatalf("%s does not read itself: %v", reader, i)
			}
		}
	})
}
