package schemaavro

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
)

func mustParse(t *testing.T, text string, deps ...schema.Dep) schema.Schema {
	t.Helper()
	s, err := New().Parse(text, deps)
	if err != nil {
		t.Fatalf("Parse(%s): %v", text, err)
	}
	return s
}

func TestType(t *testing.T) {
	if got := New().Type(); got != schema.Avro {
		t.Fatalf("Type() = %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	deep := strings.Repeat(`{"type":"array","items":`, 130) + `"int"` + strings.Repeat(`}`, 130)
	cases := []struct{ name, text, want string }{
		{"not json", `{"type":`, "invalid JSON"},
		{"bare word", `int`, "invalid JSON"},
		{"unterminated comment", `"int" /* x`, "unterminated /* comment"},
		{"trailing", `"int" "long"`, "unexpected data after the schema"},
		{"number", `42`, "must be a type name"},
		{"unknown name", `"Foo"`, `unknown type "Foo"`},
		{"no type", `{"name":"x"}`, `needs a "type"`},
		{"type object", `{"type":{"type":"int"}}`, `"type" must be a string`},
		{"bad type", `{"type":"integer"}`, `"type" "integer" is not a primitive`},
		{"record no name", `{"type":"record","fields":[]}`, `record has no "name"`},
		{"record no fields", `{"type":"record","name":"R"}`, `record R has no "fields" array`},
		{"bad name", `{"type":"record","name":"1R","fields":[]}`, `invalid name "1R"`},
		{"bad namespaced name", `{"type":"record","name":"a.b-c","fields":[]}`, `invalid name "b-c"`},
		{"primitive name", `{"type":"fixed","name":"int","size":1}`, `may not be named after the primitive "int"`},
		{"redefined", `["null",{"type":"fixed","name":"F","size":1},{"type":"enum","name":"F","symbols":["A"]}]`, `type "F" is defined twice`},
		{"dup field", `{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"a","type":"long"}]}`, `two fields named "a"`},
		{"field no type", `{"type":"record","name":"R","fields":[{"name":"a"}]}`, `field "a" has no "type"`},
		{"field bad order", `{"type":"record","name":"R","fields":[{"name":"a","type":"int","order":"up"}]}`, `"order" of field "a"`},
		{"int default string", `{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":"x"}]}`, `invalid default for field "a": "x" is not a valid int`},
		{"int default fraction", `{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":1.5}]}`, `invalid default for field "a"`},
		{"int default too big", `{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":2147483648}]}`, `invalid default for field "a"`},
		{"null default for string", `{"type":"record","name":"R","fields":[{"name":"a","type":"string","default":null}]}`, `invalid default for field "a"`},
		{"union default matches no branch", `{"type":"record","name":"R","fields":[{"name":"a","type":["null","int"],"default":"x"}]}`, `is not a valid [null, int]`},
		{"record default missing field", `{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"record","name":"S","fields":[{"name":"x","type":"int"}]},"default":{}}]}`, `invalid default for field "a"`},
		{"array default", `{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"array","items":"int"},"default":[1,"2"]}]}`, `invalid default for field "a"`},
		{"enum no symbols", `{"type":"enum","name":"E"}`, `enum E has no "symbols" array`},
		{"enum dup symbol", `{"type":"enum","name":"E","symbols":["A","A"]}`, `symbol "A" twice`},
		{"enum bad symbol", `{"type":"enum","name":"E","symbols":["A-1"]}`, `invalid name "A-1"`},
		{"enum bad default", `{"type":"enum","name":"E","symbols":["A"],"default":"B"}`, `default "B" is not one of its symbols`},
		{"fixed no size", `{"type":"fixed","name":"F"}`, `fixed F has no "size" number`},
		{"fixed negative", `{"type":"fixed","name":"F","size":-1}`, `size -1 is not an integer`},
		{"fixed fraction", `{"type":"fixed","name":"F","size":1.5}`, `size 1.5 is not an integer`},
		{"array no items", `{"type":"array"}`, `array has no "items"`},
		{"map no values", `{"type":"map","items":"int"}`, `map has no "values"`},
		{"nested union", `["null",["int"]]`, `itself a union`},
		{"dup union branch", `["int","string",{"type":"int"}]`, `union contains int twice`},
		{"dup union map", `[{"type":"map","values":"int"},{"type":"map","values":"long"}]`, `union contains map twice`},
		{"dup key", `{"type":"int","type":"long"}`, `duplicate key "type"`},
		{"doc not string", `{"type":"record","name":"R","doc":1,"fields":[]}`, `"doc" of R must be a string`},
		{"aliases not array", `{"type":"record","name":"R","aliases":"S","fields":[]}`, `"aliases" of R must be an array`},
		{"deep", deep, "nests deeper than 128 levels"},
		{"forward reference", `{"type":"record","name":"R","fields":[{"name":"a","type":"S"},{"name":"b","type":{"type":"fixed","name":"S","size":1}}]}`, `unknown type "S"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New().Parse(c.text, nil)
			if err == nil {
				t.Fatalf("Parse(%s) succeeded, want an error with %q", c.text, c.want)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "invalid AVRO schema") {
				t.Fatalf("Parse error %q, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestParseDepErrors(t *testing.T) {
	_, err := New().Parse(`"int"`, []schema.Dep{{Name: "a.B", Schema: `{"type":"record"}`}})
	if err == nil || !strings.Contains(err.Error(), `in reference "a.B"`) {
		t.Fatalf("err = %v, want one naming the reference", err)
	}
	// The main schema may not redefine a referenced type.
	dep := schema.Dep{Name: "a.B", Schema: `{"type":"fixed","name":"B","namespace":"a","size":2}`}
	_, err = New().Parse(`{"type":"fixed","name":"a.B","size":2}`, []schema.Dep{dep})
	if err == nil || !strings.Contains(err.Error(), `type "a.B" is defined twice`) {
		t.Fatalf("err = %v, want a redefinition error", err)
	}
}

func TestParseValidDefaults(t *testing.T) {
	for _, f := range []string{
		`{"name":"a","type":"int","default":-2147483648}`,
		`{"name":"a","type":"long","default":9223372036854775807}`,
		`{"name":"a","type":"float","default":1}`,
		`{"name":"a","type":"double","default":"NaN"}`,
		`{"name":"a","type":"double","default":"-Infinity"}`,
		`{"name":"a","type":"bytes","default":"\u00ff"}`,
		`{"name":"a","type":["null","string"],"default":null}`,
		`{"name":"a","type":["null","string"],"default":"x"}`,
		`{"name":"a","type":{"type":"map","values":["int","null"]},"default":{"k":1,"l":null}}`,
		`{"name":"a","type":{"type":"record","name":"S","fields":[{"name":"x","type":"int","default":3},{"name":"y","type":"string"}]},"default":{"y":"q"}}`,
		`{"name":"a","type":{"type":"enum","name":"E","symbols":["A"]},"default":"A"}`,
		`{"name":"a","type":"boolean","default":false}`,
	} {
		mustParse(t, `{"type":"record","name":"R","fields":[`+f+`]}`)
	}
}

func TestParseReferences(t *testing.T) {
	deps := []schema.Dep{
		{Name: "com.acme.Money", Schema: `{"type":"record","name":"Money","namespace":"com.acme","fields":[{"name":"cents","type":"long"},{"name":"cur","type":{"type":"enum","name":"Currency","symbols":["EUR","USD"]}}]}`},
		{Name: "com.acme.Item", Schema: `{"type":"record","name":"com.acme.Item","fields":[{"name":"price","type":"Money"}]}`},
	}
	s := mustParse(t, `{"type":"record","name":"Order","namespace":"com.acme","fields":[
		{"name":"items","type":{"type":"array","items":"Item"}},
		{"name":"total","type":"com.acme.Money"},
		{"name":"cur","type":"Currency"}]}`, deps...)
	wantCanonical := `{"type":"record","name":"Order","namespace":"com.acme","fields":[{"name":"items","type":{"type":"array","items":"Item"}},{"name":"total","type":"Money"},{"name":"cur","type":"Currency"}]}`
	if got := s.Canonical(); got != wantCanonical {
		t.Errorf("Canonical:\n got %s\nwant %s", got, wantCanonical)
	}
	wantResolved := `{"type":"record","name":"Order","namespace":"com.acme","fields":[{"name":"items","type":{"type":"array","items":{"type":"record","name":"Item","fields":[{"name":"price","type":{"type":"record","name":"Money","fields":[{"name":"cents","type":"long"},{"name":"cur","type":{"type":"enum","name":"Currency","symbols":["EUR","USD"]}}]}}]}}},{"name":"total","type":"Money"},{"name":"cur","type":"Currency"}]}`
	got, err := s.Format("resolved")
	if err != nil || got != wantResolved {
		t.Errorf("Format(resolved) = %s, %v\nwant %s", got, err, wantResolved)
	}
	// The resolved form stands alone.
	if r := mustParse(t, got); r.Canonical() != wantResolved {
		t.Errorf("resolved form does not round-trip: %s", r.Canonical())
	}
	if _, err := s.Format("bogus"); err == nil || !strings.Contains(err.Error(), `unknown format "bogus"`) {
		t.Errorf("Format(bogus) err = %v", err)
	}
	if f, err := s.Format(""); err != nil || f != s.Canonical() {
		t.Errorf(`Format("") = %s, %v`, f, err)
	}
	// Without the references the schema does not parse.
	if _, err := New().Parse(wantCanonical, nil); err == nil || !strings.Contains(err.Error(), `unknown type "Item"`) {
		t.Errorf("parse without references: err = %v", err)
	}
}

// TestParseNestedDefaultsFast: a record default that omits fields takes
// their defaults, which may omit others; checking must not take
// exponential time in the nesting.
func TestParseNestedDefaultsFast(t *testing.T) {
	text := `{"type":"record","name":"T0","fields":[{"name":"x","type":"int","default":1}]}`
	for i := 1; i < 40; i++ {
		text = fmt.Sprintf(`{"type":"record","name":"T%d","fields":[{"name":"a","type":%s,"default":{}},{"name":"b","type":"T%d","default":{}}]}`, i, text, i-1)
	}
	done := make(chan error, 1)
	go func() { _, err := New().Parse(text, nil); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Parse takes exponential time on nested record defaults")
	}
}
