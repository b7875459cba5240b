package schemajson

import (
	"fmt"
	"testing"
)

func TestSmoke(t *testing.T) {
	h := New()
	pairs := [][2]string{
		{`{"type":"object","properties":{"a":{"type":"integer"}}}`, `{"type":"object","properties":{"a":{"type":"number"}}}`},
		{`{"type":"object","properties":{"a":{"type":"number"}}}`, `{"type":"object","properties":{"a":{"type":"integer"}}}`},
		{`{"oneOf":[{"type":"string"},{"type":"integer"}]}`, `{"type":"string"}`},
		{`{"type":"string"}`, `{"oneOf":[{"type":"string"},{"type":"integer"}]}`},
		{`{"$ref":"#/definitions/n","definitions":{"n":{"type":"object","properties":{"next":{"$ref":"#/definitions/n"},"v":{"type":"string"}}}}}`, `{"$ref":"#/definitions/n","definitions":{"n":{"type":"object","properties":{"next":{"$ref":"#/definitions/n"},"v":{"type":"integer"}}}}}`},
	}
	for _, p := range pairs {
		r, err := h.Parse(p[0], nil)
		if err != nil {
			t.Fatal(err)
		}
		w, err := h.Parse(p[1], nil)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println(h.Check(r, w))
		fmt.Println(h.Check(r, r))
	}
	s, _ := h.Parse(`{"type":"object","properties":{"age":{"type":"integer","minimum":0}}}`, nil)
	fmt.Println(s.Validate([]byte(`{"age":-1}`), nil))
}
