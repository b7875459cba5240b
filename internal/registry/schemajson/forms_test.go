package schemajson

import (
	"strings"
	"testing"
)

func TestCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{ "type" : "object",
		    "properties": { "b": {"type":"string"}, "a": {"type":"integer"} } }`,
			`{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"integer"}}}`},
		{`{"enum":["\u0041", "a\/b", "\u00e9", "tab\t", "\u0001"]}`, `{"enum":["A","a/b","é","tab\t","\u0001"]}`},
		{`{"maximum": 1.50, "minimum": -0}`, `{"maximum":1.50,"minimum":-0}`},
		{` true `, `true`},
		{`{"description":"<b>&</b>"}`, `{"description":"<b>&</b>"}`},
	}
	for _, tt := range tests {
		if got := mustParse(t, tt.in).Canonical(); got != tt.want {
			t.Errorf("Canonical(%s)\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

func TestCanonicalEquality(t *testing.T) {
	same := [][2]string{
		{`{"type":"string","maxLength":5}`, "{\n  \"type\": \"string\",\n  \"maxLength\": 5\n}"},
		{`{"const":"A"}`, `{"const":"\u0041"}`},
	}
	for _, p := range same {
		if a, b := mustParse(t, p[0]).Canonical(), mustParse(t, p[1]).Canonical(); a != b {
			t.Errorf("Canonical differs: %s vs %s", a, b)
		}
	}
	// Member order is kept: these are different canonical texts (as in
	// Confluent), made equal only by Normalized.
	a, b := mustParse(t, `{"type":"string","maxLength":5}`), mustParse(t, `{"maxLength":5,"type":"string"}`)
	if a.Canonical() == b.Canonical() {
		t.Error("Canonical should keep member order")
	}
	if a.Normalized() != b.Normalized() {
		t.Errorf("Normalized differs: %s vs %s", a.Normalized(), b.Normalized())
	}
}

func TestNormalized(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"type":"object","properties":{"b":{"type":["string","null"]},"a":{"type":["integer"]}},"required":["b","a"]}`,
			`{"properties":{"a":{"type":"integer"},"b":{"type":["null","string"]}},"required":["a","b"],"type":"object"}`},
		// Data is sorted by member but never treated as a schema: the
		// "required" inside const stays an array in its order.
		{`{"const":{"z":1,"required":["b","a"]},"default":{"y":2.0,"x":1e2}}`,
			`{"const":{"required":["b","a"],"z":1},"default":{"x":100,"y":2}}`},
		{`{"dependencies":{"a":["c","b"],"b":{"required":["y","x"]}},"dependentRequired":{"q":["s","r"]}}`,
			`{"dependencies":{"a":["b","c"],"b":{"required":["x","y"]}},"dependentRequired":{"q":["r","s"]}}`},
		{`{"allOf":[{"type":"string","minLength":1},{"maxLength":3}],"items":[{"b":1,"a":2}]}`,
			`{"allOf":[{"minLength":1,"type":"string"},{"maxLength":3}],"items":[{"a":2,"b":1}]}`},
		{`{"multipleOf":0.5,"maximum":1.0e1,"minimum":-0}`, `{"maximum":10,"minimum":0,"multipleOf":0.5}`},
		// A property named like a keyword is a name, not a keyword.
		{`{"properties":{"type":{"type":["string"]},"required":{"enum":[2,1]}}}`,
			`{"properties":{"required":{"enum":[2,1]},"type":{"type":"string"}}}`},
	}
	for _, tt := range tests {
		if got := mustParse(t, tt.in).Normalized(); got != tt.want {
			t.Errorf("Normalized(%s)\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
	// The normalized form is itself a valid schema that normalizes to itself.
	for _, tt := range tests {
		n := mustParse(t, tt.in).Normalized()
		if again := mustParse(t, n).Normalized(); again != n {
			t.Errorf("Normalized is not idempotent: %s → %s", n, again)
		}
	}
}

func TestFormat(t *testing.T) {
	s := mustParse(t, `{ "type": "string" }`)
	if got, err := s.Format(""); err != nil || got != `{"type":"string"}` {
		t.Errorf(`Format("") = %q, %v`, got, err)
	}
	if _, err := s.Format("serialized"); err == nil || !strings.Contains(err.Error(), "serialized") {
		t.Errorf(`Format("serialized") error = %v, want one naming the format`, err)
	}
}

func TestValidate(t *testing.T) {
	s := mustParse(t, `{"type":"object","properties":{"age":{"type":"integer","minimum":0},"name":{"type":"string","maxLength":3},"tags":{"type":"array","items":{"type":"string"}}},"required":["age"],"additionalProperties":false}`)
	tests := []struct {
		name, payload string
		wants         []string // substrings of the error; nil: valid
	}{
		{"valid", `{"age":3,"name":"bob","tags":["a"]}`, nil},
		{"minimum", `{"age":-1}`, []string{"/age", "minimum"}},
		{"type", `{"age":"x"}`, []string{"/age", "type"}},
		{"nested item", `{"age":1,"tags":["a",2]}`, []string{"/tags/1", "type"}},
		{"required", `{}`, []string{"the root", "required", "age"}},
		{"additional", `{"age":1,"zzz":1}`, []string{"additionalProperties", "zzz"}},
		{"several", `{"age":-1,"name":"long"}`, []string{"/age", "/name", "maxLength"}},
		{"not JSON", `{"age":`, []string{"not valid JSON"}},
		{"two values", `{"age":1} {"age":2}`, []string{"not valid JSON"}},
		{"empty", ``, []string{"not valid JSON"}},
		{"invalid UTF-8", "{\"age\":1,\"name\":\"\xc3\"}", []string{"UTF-8"}},
		{"too deep", strings.Repeat("[", 2000) + strings.Repeat("]", 2000), []string{"nesting"}},
		{"huge exponent", `{"age":1e999999}`, []string{"exponent"}},
		{"large exponent is fine", `{"age":1e4000}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Validate([]byte(tt.payload), nil)
			if tt.wants == nil {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate = nil, want an error")
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestValidateFormats(t *testing.T) {
	// Drafts up to 7 assert "format"; 2020-12 treats it as an annotation.
	d7 := mustParse(t, `{"type":"string","format":"email"}`)
	if err := d7.Validate([]byte(`"not an email"`), nil); err == nil || !strings.Contains(err.Error(), "format") {
		t.Errorf("draft 7 format: err = %v, want a format error", err)
	}
	d2020 := mustParse(t, `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"string","format":"email"}`)
	if err := d2020.Validate([]byte(`"not an email"`), nil); err != nil {
		t.Errorf("draft 2020-12 format: err = %v, want nil (annotation)", err)
	}
}
