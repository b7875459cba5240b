package schemaavro

import "testing"

func TestCanonical(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"primitive string", ` "string" `, `"string"`},
		{"comments", "/* a */ {\"type\": // the type\n \"string\", \"x\": \"/* not a comment */ // nor this\"}", `{"type":"string","x":"/* not a comment */ // nor this"}`},
		{"primitive object", `{"type": "string"}`, `"string"`},
		{"primitive with reserved attribute only", `{"type":"int","doc":"ignored","name":"x"}`, `"int"`},
		{"logical type kept", `{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}`,
			`{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}`},
		{"property order kept", `{"type":"long","z":1,"a":{"y":[1,2],"b":null}}`, `{"type":"long","z":1,"a":{"y":[1,2],"b":null}}`},
		{"union", `[ "null", {"type":"string"} ]`, `["null","string"]`},
		{"empty union", `[]`, `[]`},
		{"array and map", `{"items":{"values":"int","type":"map"},"type":"array","x":"y"}`,
			`{"type":"array","items":{"type":"map","values":"int"},"x":"y"}`},
		{"record attribute order", `{"fields":[{"type":"int","name":"a","aliases":["b"],"order":"descending","default":1,"doc":"d","p":true}],"aliases":["Old"],"doc":"R doc","name":"R","type":"record","q":1}`,
			`{"type":"record","name":"R","doc":"R doc","fields":[{"name":"a","type":"int","doc":"d","default":1,"order":"descending","aliases":["b"],"p":true}],"q":1,"aliases":["Old"]}`},
		{"ascending order dropped", `{"type":"record","name":"R","fields":[{"name":"a","type":"int","order":"ascending"}]}`,
			`{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}`},
		{"error record", `{"type":"error","name":"E","fields":[]}`, `{"type":"error","name":"E","fields":[]}`},
		{"namespace from dotted name", `{"type":"record","name":"a.b.R","fields":[]}`, `{"type":"record","name":"R","namespace":"a.b","fields":[]}`},
		{"dotted name wins over namespace", `{"type":"record","name":"a.R","namespace":"x","fields":[]}`, `{"type":"record","name":"R","namespace":"a","fields":[]}`},
		{"nested type inherits namespace", `{"type":"record","name":"R","namespace":"n","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"],"default":"B","doc":"x","aliases":["n.Old","other.Old2"]}},{"name":"f","type":"n.E"},{"name":"g","type":"E"}]}`,
			`{"type":"record","name":"R","namespace":"n","fields":[{"name":"e","type":{"type":"enum","name":"E","doc":"x","symbols":["A","B"],"default":"B","aliases":["Old","other.Old2"]}},{"name":"f","type":"E"},{"name":"g","type":"E"}]}`},
		{"null namespace inside namespaced", `{"type":"record","name":"n.R","fields":[{"name":"f","type":{"type":"fixed","name":"F","namespace":"","size":16}},{"name":"g","type":"F"}]}`,
			`{"type":"record","name":"R","namespace":"n","fields":[{"name":"f","type":{"type":"fixed","name":"F","namespace":"","size":16}},{"name":"g","type":"F"}]}`},
		{"other namespace", `{"type":"record","name":"n.R","fields":[{"name":"f","type":{"type":"fixed","name":"m.F","size":1,"logicalType":"x"}},{"name":"g","type":"m.F"}]}`,
			`{"type":"record","name":"R","namespace":"n","fields":[{"name":"f","type":{"type":"fixed","name":"F","namespace":"m","size":1,"logicalType":"x"}},{"name":"g","type":"m.F"}]}`},
		{"type-like name is qualified", `{"type":"record","name":"n.R","fields":[{"name":"f","type":{"type":"fixed","name":"record","size":1}},{"name":"g","type":"n.record"}]}`,
			`{"type":"record","name":"R","namespace":"n","fields":[{"name":"f","type":{"type":"fixed","name":"record","size":1}},{"name":"g","type":"n.record"}]}`},
		{"null-namespace reference that a short name would misread", `["null",{"type":"fixed","name":"F","size":1},{"type":"record","name":"n.R","fields":[{"name":"a","type":{"type":"fixed","name":"F","size":2}},{"name":"b","type":".F"},{"name":"c","type":"F"}]}]`,
			`["null",{"type":"fixed","name":"F","size":1},{"type":"record","name":"R","namespace":"n","fields":[{"name":"a","type":{"type":"fixed","name":"F","size":2}},{"name":"b","type":".F"},{"name":"c","type":"F"}]}]`},
		{"recursive", `{"type":"record","name":"List","fields":[{"name":"next","type":["null","List"],"default":null}]}`,
			`{"type":"record","name":"List","fields":[{"name":"next","type":["null","List"],"default":null}]}`},
		{"escapes and unicode", `{"type":"enum","name":"Ä","doc":"a \"q\" \\ \n \u0001 é </>","symbols":["é"]}`,
			`{"type":"enum","name":"Ä","doc":"a \"q\" \\ \n \u0001 é </>","symbols":["é"]}`},
		{"string defaults of doubles become numbers", `{"type":"record","name":"R","fields":[{"name":"a","type":"double","default":"1"},{"name":"b","type":"float","default":"NaN"},{"name":"c","type":"double","default":"-2.5e10"},{"name":"d","type":"double","default":"0.0001"},{"name":"e","type":"double","default":"-Infinity"}]}`,
			`{"type":"record","name":"R","fields":[{"name":"a","type":"double","default":1.0},{"name":"b","type":"float","default":"NaN"},{"name":"c","type":"double","default":-2.5E10},{"name":"d","type":"double","default":1.0E-4},{"name":"e","type":"double","default":"-Infinity"}]}`},
		{"default kept as written", `{"type":"record","name":"R","fields":[{"name":"a","type":"double","default":1e3},{"name":"m","type":{"type":"map","values":"int"},"default":{"z":1,"a":2}}]}`,
			`{"type":"record","name":"R","fields":[{"name":"a","type":"double","default":1e3},{"name":"m","type":{"type":"map","values":"int"},"default":{"z":1,"a":2}}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := mustParse(t, c.text)
			if got := s.Canonical(); got != c.want {
				t.Fatalf("Canonical:\n got %s\nwant %s", got, c.want)
			}
			if again := mustParse(t, s.Canonical()).Canonical(); again != c.want {
				t.Fatalf("canonical form does not round-trip: %s", again)
			}
		})
	}
}

// TestCanonicalEquates: texts that differ only in whitespace or in the
// spelling of a primitive have the same canonical form.
func TestCanonicalEquates(t *testing.T) {
	groups := [][]string{
		{`"int"`, `{"type":"int"}`, ` { "type" : "int" } `},
		{
			`{"type":"record","name":"R","fields":[{"name":"a","type":"string"},{"name":"b","type":["null","long"]}]}`,
			"{\n  \"type\": \"record\",\n  \"name\": \"R\",\n  \"fields\": [\n    {\"name\": \"a\", \"type\": {\"type\": \"string\"}},\n    {\"name\": \"b\", \"type\": [{\"type\":\"null\"}, \"long\"]}\n  ]\n}",
			`{"name":"R","type":"record","fields":[{"type":"string","name":"a"},{"type":["null",{"type":"long"}],"name":"b"}]}`,
		},
	}
	for _, g := range groups {
		want := mustParse(t, g[0]).Canonical()
		for _, text := range g[1:] {
			if got := mustParse(t, text).Canonical(); got != want {
				t.Errorf("Canonical(%s) = %s, want %s", text, got, want)
			}
		}
	}
}

func TestNormalized(t *testing.T) {
	equal := [][]string{
		{
			`{"type":"record","name":"R","namespace":"a.b","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["X"]}},{"name":"f","type":"E"}]}`,
			`{"type":"record","name":"a.b.R","fields":[{"name":"e","type":{"type":"enum","name":"a.b.E","symbols":["X"]}},{"name":"f","type":"a.b.E"}]}`,
		},
		{
			`{"type":"string","b":1,"a":{"y":1,"x":2}}`,
			`{"a":{"x":2,"y":1},"type":"string","b":1}`,
		},
		{
			`{"type":"record","name":"R","fields":[{"name":"m","type":{"type":"map","values":"int"},"default":{"z":1,"a":2},"p2":1,"p1":2}]}`,
			`{"type":"record","name":"R","fields":[{"name":"m","type":{"type":"map","values":"int"},"default":{"a":2,"z":1},"p1":2,"p2":1}]}`,
		},
		{
			`{"type":"record","name":"n.R","aliases":["Old","x.Y"],"fields":[{"name":"a","type":"int","aliases":["c","b"]}]}`,
			`{"type":"record","name":"R","namespace":"n","aliases":["x.Y","n.Old"],"fields":[{"name":"a","type":"int","aliases":["b","c"]}]}`,
		},
	}
	for _, g := range equal {
		a, b := mustParse(t, g[0]), mustParse(t, g[1])
		if a.Normalized() != b.Normalized() {
			t.Errorf("Normalized differs:\n %s\n %s", a.Normalized(), b.Normalized())
		}
	}
	differ := [][]string{
		{`{"type":"record","name":"R","fields":[]}`, `{"type":"record","name":"R","doc":"d","fields":[]}`},
		{`{"type":"record","name":"a.R","fields":[]}`, `{"type":"record","name":"b.R","fields":[]}`},
		{`{"type":"enum","name":"E","symbols":["A","B"]}`, `{"type":"enum","name":"E","symbols":["B","A"]}`},
	}
	for _, g := range differ {
		if a, b := mustParse(t, g[0]), mustParse(t, g[1]); a.Normalized() == b.Normalized() {
			t.Errorf("Normalized equal for %s and %s", g[0], g[1])
		}
	}
	s := mustParse(t, `{"type":"record","name":"R","namespace":"n","fields":[{"name":"f","type":{"type":"fixed","name":"F","namespace":"","size":1}},{"name":"g","type":"F"},{"name":"h","type":{"type":"fixed","name":"G","size":1}}]}`)
	want := `{"type":"record","name":"n.R","fields":[{"name":"f","type":{"type":"fixed","name":"F","namespace":"","size":1}},{"name":"g","type":"F"},{"name":"h","type":{"type":"fixed","name":"n.G","size":1}}]}`
	if got := s.Normalized(); got != want {
		t.Errorf("Normalized:\n got %s\nwant %s", got, want)
	}
	if again := mustParse(t, s.Normalized()).Normalized(); again != want {
		t.Errorf("normalized form does not round-trip: %s", again)
	}
}

// TestNullNamespaceReference: ".F" names F in the null namespace, and
// the canonical form keeps it so when n.F also exists.
func TestNullNamespaceReference(t *testing.T) {
	text := `["null",{"type":"fixed","name":"F","size":1},{"type":"record","name":"n.R","fields":[{"name":"a","type":{"type":"fixed","name":"F","size":2}},{"name":"b","type":".F"},{"name":"c","type":"F"}]}]`
	for _, form := range []func(*avroSchema) string{
		func(s *avroSchema) string { return s.Canonical() },
		func(s *avroSchema) string { return s.Normalized() },
	} {
		s := mustParse(t, form(mustParse(t, text).(*avroSchema))).(*avroSchema)
		r := s.root.branches[2]
		if b, c := r.fields[1].typ, r.fields[2].typ; b.fullName() != "F" || b.size != 1 || c.fullName() != "n.F" || c.size != 2 {
			t.Errorf("after a round trip b is %s(%d), c is %s(%d)", b.fullName(), b.size, c.fullName(), c.size)
		}
	}
}
