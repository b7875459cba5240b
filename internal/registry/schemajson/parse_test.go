package schemajson

import (
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
)

func mustParse(t *testing.T, text string, deps ...schema.Dep) *Schema {
	t.Helper()
	s, err := New().Parse(text, deps)
	if err != nil {
		t.Fatalf("Parse(%s): %v", text, err)
	}
	return s.(*Schema)
}

func TestType(t *testing.T) {
	if got := New().Type(); got != schema.JSON {
		t.Fatalf("Type() = %q, want %q", got, schema.JSON)
	}
}

// Each draft is picked by $schema: a payload that only one reading of the
// schema rejects tells which draft was used.
func TestParseDrafts(t *testing.T) {
	tests := []struct {
		name, schema, good, bad string
	}{
		{"draft4 boolean exclusiveMaximum",
			`{"$schema":"http://json-schema.org/draft-04/schema#","type":"number","maximum":10,"exclusiveMaximum":true}`, `9`, `10`},
		{"draft6 const",
			`{"$schema":"http://json-schema.org/draft-06/schema#","const":"x"}`, `"x"`, `"y"`},
		{"draft7 if/then",
			`{"$schema":"http://json-schema.org/draft-07/schema#","if":{"type":"integer"},"then":{"minimum":5}}`, `7`, `3`},
		{"draft2019 dependentRequired",
			`{"$schema":"https://json-schema.org/draft/2019-09/schema","dependentRequired":{"a":["b"]}}`, `{"a":1,"b":2}`, `{"a":1}`},
		{"draft2020 prefixItems",
			`{"$schema":"https://json-schema.org/draft/2020-12/schema","prefixItems":[{"type":"string"}],"items":false}`, `["a"]`, `["a",1]`},
		{"default is draft7: if/then applies",
			`{"if":{"type":"integer"},"then":{"minimum":5}}`, `7`, `3`},
		{"default is draft7: prefixItems is not a keyword",
			`{"prefixItems":[{"type":"string"}],"maxItems":1}`, `[1]`, `[1,2]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustParse(t, tt.schema)
			if err := s.Validate([]byte(tt.good), nil); err != nil {
				t.Errorf("Validate(%s) = %v, want nil", tt.good, err)
			}
			if err := s.Validate([]byte(tt.bad), nil); err == nil {
				t.Errorf("Validate(%s) = nil, want an error", tt.bad)
			}
		})
	}
}

func TestParseBooleanSchemas(t *testing.T) {
	if err := mustParse(t, `true`).Validate([]byte(`{"any":1}`), nil); err != nil {
		t.Errorf("true schema rejected a document: %v", err)
	}
	if err := mustParse(t, ` false `).Validate([]byte(`1`), nil); err == nil {
		t.Error("false schema accepted a document")
	}
}

func TestParseRefsViaDeps(t *testing.T) {
	address := `{"type":"object","properties":{"zip":{"type":"string","maxLength":5}},"required":["zip"]}`
	tests := []struct {
		name   string
		schema string
		deps   []schema.Dep
	}{
		{"relative name, no $id",
			`{"type":"object","properties":{"home":{"$ref":"address.json"}}}`,
			[]schema.Dep{{Name: "address.json", Schema: address}}},
		{"absolute name",
			`{"type":"object","properties":{"home":{"$ref":"https://example.com/address.schema.json"}}}`,
			[]schema.Dep{{Name: "https://example.com/address.schema.json", Schema: address}}},
		{"relative name against the main $id",
			`{"$id":"https://example.com/schemas/person.json","type":"object","properties":{"home":{"$ref":"address.json"}}}`,
			[]schema.Dep{{Name: "address.json", Schema: address}}},
		{"fragment into a reference",
			`{"type":"object","properties":{"home":{"$ref":"defs.json#/definitions/address"}}}`,
			[]schema.Dep{{Name: "defs.json", Schema: `{"definitions":{"address":` + address + `}}`}}},
		{"transitive references",
			`{"type":"object","properties":{"home":{"$ref":"wrapper.json"}}}`,
			[]schema.Dep{{Name: "address.json", Schema: address}, {Name: "wrapper.json", Schema: `{"$ref":"address.json"}`}}},
		{"reference reached by its $id",
			`{"type":"object","properties":{"home":{"$ref":"https://example.com/a.json"}}}`,
			[]schema.Dep{{Name: "a", Schema: `{"$id":"https://example.com/a.json","type":"object","properties":{"zip":{"type":"string","maxLength":5}},"required":["zip"]}`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustParse(t, tt.schema, tt.deps...)
			if err := s.Validate([]byte(`{"home":{"zip":"12345"}}`), nil); err != nil {
				t.Errorf("valid payload rejected: %v", err)
			}
			err := s.Validate([]byte(`{"home":{"zip":"123456"}}`), nil)
			if err == nil || !strings.Contains(err.Error(), "/home/zip") {
				t.Errorf("invalid payload: err = %v, want one naming /home/zip", err)
			}
		})
	}
}

// Nothing outside the references is loaded: not from the network, not
// from files. Each must fail fast with an error naming the URL.
func TestParseNoRemoteLoading(t *testing.T) {
	tests := []struct{ name, schema, want string }{
		{"http ref", `{"$ref":"http://127.0.0.1:1/x.json"}`, "127.0.0.1"},
		{"https ref", `{"$ref":"https://example.com/address.schema.json"}`, "example.com"},
		{"file ref", `{"$ref":"file:///etc/passwd"}`, "/etc/passwd"},
		{"relative ref without dep", `{"properties":{"a":{"$ref":"missing.json"}}}`, "missing.json"},
		{"custom metaschema", `{"$schema":"https://example.com/my-meta","type":"string"}`, "example.com/my-meta"},
		{"unknown json-schema.org draft", `{"$schema":"http://json-schema.org/draft-03/schema#"}`, "draft-03"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := New().Parse(tt.schema, nil)
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "never loaded") {
				t.Errorf("error %q does not name %q as not loaded", err, tt.want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Parse took %v: something was fetched", d)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	deep := strings.Repeat(`{"items":`, 200) + `{}` + strings.Repeat(`}`, 200)
	tests := []struct{ name, schema, want string }{
		{"empty", ``, "end of JSON"},
		{"not JSON", `{"type":`, "JSON"},
		{"trailing data", `{"type":"string"} {}`, "after the JSON value"},
		{"array document", `["string"]`, "object or a boolean"},
		{"string document", `"string"`, "object or a boolean"},
		{"bad type", `{"type":"strin"}`, "type"},
		{"type not a string", `{"type":5}`, "type"},
		{"negative minLength", `{"minLength":-1}`, "minLength"},
		{"required not an array", `{"required":"a"}`, "required"},
		{"bad pattern", `{"pattern":"(unclosed"}`, "pattern"},
		{"lookahead pattern (RE2)", `{"pattern":"^(?=a)"}`, "pattern"},
		{"draft4 exclusiveMinimum number", `{"$schema":"http://json-schema.org/draft-04/schema#","exclusiveMinimum":3}`, "exclusiveMinimum"},
		{"draft7 exclusiveMinimum boolean", `{"exclusiveMinimum":true}`, "exclusiveMinimum"},
		{"duplicate member", `{"type":"string","type":"integer"}`, `duplicate member "type"`},
		{"duplicate nested member", `{"properties":{"a":{},"a":{}}}`, "/properties"},
		{"too deep", deep, "nesting deeper"},
		{"huge exponent", `{"maximum":1e999999}`, "exponent"},
		{"invalid UTF-8", "{\"title\":\"\xff\"}", "UTF-8"},
		{"bad $ref pointer", `{"$ref":"#/definitions/missing"}`, "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New().Parse(tt.schema, nil)
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
	if _, err := New().Parse(strings.Repeat(" ", maxSchemaBytes+1), nil); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("oversized schema: err = %v, want a limit error", err)
	}
	if _, err := New().Parse(`{}`, []schema.Dep{{Name: "x.json", Schema: `{"type":`}}); err == nil || !strings.Contains(err.Error(), "x.json") {
		t.Errorf("broken reference: err = %v, want one naming x.json", err)
	}
}

// Recursive schemas are fine; the library rejects only a $ref loop that
// never reaches a keyword, when validating.
func TestParseRecursive(t *testing.T) {
	s := mustParse(t, `{"definitions":{"node":{"type":"object","properties":{"next":{"$ref":"#/definitions/node"},"v":{"type":"integer"}}}},"$ref":"#/definitions/node"}`)
	if err := s.Validate([]byte(`{"v":1,"next":{"v":2,"next":{"v":3}}}`), nil); err != nil {
		t.Errorf("valid list rejected: %v", err)
	}
	if err := s.Validate([]byte(`{"v":1,"next":{"v":"x"}}`), nil); err == nil {
		t.Error("invalid list accepted")
	}
	// A $ref loop that never reaches a keyword: the library accepts it at
	// compile time and reports it when validating; Check terminates.
	loop := `{"$schema":"https://json-schema.org/draft/2020-12/schema","$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}`
	l := mustParse(t, loop)
	if err := l.Validate([]byte(`1`), nil); err == nil {
		t.Error("validating against a $ref loop succeeded, want an error")
	} else {
		t.Logf("$ref loop: %v", err)
	}
	_ = New().Check(l, mustParse(t, loop))
	_ = New().Check(mustParse(t, `{"type":"string"}`), l)
	_ = New().Check(l, mustParse(t, `{"type":"string"}`))
}
