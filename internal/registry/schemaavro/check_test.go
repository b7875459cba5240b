package schemaavro

import (
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/samsa-streaming/samsa/internal/registry/schema"
)

const personV1 = `{"type":"record","name":"Person","namespace":"com.acme","fields":[
	{"name":"name","type":"string"},
	{"name":"age","type":"int"},
	{"name":"suit","type":{"type":"enum","name":"Suit","symbols":["A","B","C"]}},
	{"name":"id","type":{"type":"fixed","name":"Id","size":16}},
	{"name":"tags","type":{"type":"array","items":"string"}},
	{"name":"attrs","type":{"type":"map","values":"long"}},
	{"name":"nick","type":["null","string"],"default":null}]}`

func TestCheck(t *testing.T) {
	type issue = schema.Incompatibility
	cases := []struct {
		name           string
		reader, writer string
		want           []issue
	}{
		{"identical", personV1, personV1, nil},
		{"promotions", `{"type":"record","name":"R","fields":[{"name":"a","type":"long"},{"name":"b","type":"double"},{"name":"c","type":"bytes"},{"name":"d","type":"string"},{"name":"e","type":"float"}]}`,
			`{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"float"},{"name":"c","type":"string"},{"name":"d","type":"bytes"},{"name":"e","type":"long"}]}`, nil},
		{"no demotion", `"int"`, `"long"`, []issue{{Path: "/", Rule: "TYPE_MISMATCH", Reader: "int", Writer: "long",
			Detail: "a reader of type int cannot read a writer's long"}}},
		{"every incompatibility reported", `{"type":"record","name":"Person","namespace":"com.acme","fields":[
			{"name":"name","type":"int"},
			{"name":"age","type":"int"},
			{"name":"suit","type":{"type":"enum","name":"Suit","symbols":["A","B"]}},
			{"name":"id","type":{"type":"fixed","name":"Key","size":8}},
			{"name":"tags","type":{"type":"array","items":"int"}},
			{"name":"attrs","type":{"type":"map","values":"int"}},
			{"name":"nick","type":["null","int"],"default":null},
			{"name":"email","type":"string"}]}`, personV1, []issue{
			{Path: "/fields/0/type", Rule: "TYPE_MISMATCH", Reader: "int", Writer: "string", Detail: "a reader of type int cannot read a writer's string"},
			{Path: "/fields/2/type/symbols", Rule: "MISSING_ENUM_SYMBOLS", Reader: "[A, B]", Writer: "[C]", Detail: "the reader's enum com.acme.Suit lacks the writer's symbols C and has no default symbol"},
			{Path: "/fields/3/type/name", Rule: "NAME_MISMATCH", Reader: "fixed com.acme.Key", Writer: "fixed com.acme.Id", Detail: "the reader's fixed is named com.acme.Key, the writer's com.acme.Id, and no reader alias names com.acme.Id"},
			{Path: "/fields/3/type/size", Rule: "FIXED_SIZE_MISMATCH", Reader: "fixed com.acme.Key", Writer: "fixed com.acme.Id", Detail: "the reader's fixed com.acme.Key has 8 bytes, the writer's 16"},
			{Path: "/fields/4/type/items", Rule: "TYPE_MISMATCH", Reader: "int", Writer: "string", Detail: "a reader of type int cannot read a writer's string"},
			{Path: "/fields/5/type/values", Rule: "TYPE_MISMATCH", Reader: "int", Writer: "long", Detail: "a reader of type int cannot read a writer's long"},
			{Path: "/fields/6/type/1", Rule: "MISSING_UNION_BRANCH", Reader: "[null, int]", Writer: "string", Detail: "the writer's union branch 1 (string) is not readable by any branch of the reader's union"},
			{Path: "/fields/7", Rule: "READER_FIELD_MISSING_DEFAULT_VALUE", Reader: "string", Detail: "reader field 'email' has no default and the writer has no such field"},
		}},
		{"new field with default, removed field", `{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":0}]}`,
			`{"type":"record","name":"R","fields":[{"name":"b","type":"int"}]}`, nil},
		{"field alias", `{"type":"record","name":"R","fields":[{"name":"a2","type":"long","aliases":["a"]}]}`,
			`{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}`, nil},
		{"record alias", `{"type":"record","name":"New","namespace":"x","aliases":["y.Old"],"fields":[]}`,
			`{"type":"record","name":"y.Old","fields":[]}`, nil},
		{"namespace ignored in names", `{"type":"record","name":"a.R","fields":[]}`, `{"type":"record","name":"b.R","fields":[]}`, nil},
		{"record name mismatch", `{"type":"record","name":"A","fields":[]}`, `{"type":"record","name":"B","fields":[]}`,
			[]issue{{Path: "/name", Rule: "NAME_MISMATCH", Reader: "record A", Writer: "record B", Detail: "the reader's record is named A, the writer's B, and no reader alias names B"}}},
		{"missing symbols sorted", `{"type":"enum","name":"E","symbols":["A"]}`, `{"type":"enum","name":"E","symbols":["Z","A","C"]}`,
			[]issue{{Path: "/symbols", Rule: "MISSING_ENUM_SYMBOLS", Reader: "[A]", Writer: "[C, Z]", Detail: "the reader's enum E lacks the writer's symbols C, Z and has no default symbol"}}},
		{"enum default allows new symbols", `{"type":"enum","name":"E","symbols":["A","U"],"default":"U"}`, `{"type":"enum","name":"E","symbols":["A","B"]}`, nil},
		{"reader union reads non-union writer", `["null","long"]`, `"int"`, nil},
		{"reader union lacks writer type", `["null","long"]`, `"string"`, []issue{{Path: "/", Rule: "MISSING_UNION_BRANCH", Reader: "[null, long]", Writer: "string",
			Detail: "no branch of the reader's union can read the writer's string"}}},
		{"non-union reader, union writer", `"long"`, `["int","string","float"]`, []issue{
			{Path: "/1", Rule: "TYPE_MISMATCH", Reader: "long", Writer: "string", Detail: "a reader of type long cannot read a writer's string"},
			{Path: "/2", Rule: "TYPE_MISMATCH", Reader: "long", Writer: "float", Detail: "a reader of type long cannot read a writer's float"},
		}},
		{"writer union subset", `["null","int","string"]`, `["string","null"]`, nil},
		{"recursive", `{"type":"record","name":"L","fields":[{"name":"v","type":"long"},{"name":"next","type":["null","L"]}]}`,
			`{"type":"record","name":"L","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","L"]}]}`, nil},
		{"recursive incompatible", `{"type":"record","name":"L","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","L"]}]}`,
			`{"type":"record","name":"L","fields":[{"name":"v","type":"long"},{"name":"next","type":["null","L"]}]}`,
			// As in Avro Java, the pair (L, L) met again inside itself is
			// taken as compatible, so the problem is reported once.
			[]issue{
				{Path: "/fields/0/type", Rule: "TYPE_MISMATCH", Reader: "int", Writer: "long", Detail: "a reader of type int cannot read a writer's long"},
			}},
		{"array vs map", `{"type":"array","items":"int"}`, `{"type":"map","values":"int"}`, []issue{{Path: "/", Rule: "TYPE_MISMATCH", Reader: "array<int>", Writer: "map<int>",
			Detail: "a reader of type array cannot read a writer's map"}}},
	}
	h := New()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, w := mustParse(t, c.reader), mustParse(t, c.writer)
			got := h.Check(r, w)
			if len(got) != len(c.want) {
				t.Fatalf("Check = %d issues %v, want %d %v", len(got), got, len(c.want), c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("issue %d:\n got %+v\nwant %+v", i, got[i], c.want[i])
				}
			}
			hambaAgrees(t, c.reader, c.writer, len(got) == 0)
		})
	}
}

// hambaAgrees cross-checks a verdict with hamba's compatibility check.
func hambaAgrees(t *testing.T, reader, writer string, compatible bool) {
	t.Helper()
	r, err1 := avro.ParseWithCache(reader, "", &avro.SchemaCache{})
	w, err2 := avro.ParseWithCache(writer, "", &avro.SchemaCache{})
	if err1 != nil || err2 != nil {
		t.Logf("hamba cannot parse: %v %v", err1, err2)
		return
	}
	if got := avro.NewSchemaCompatibility().Compatible(r, w) == nil; got != compatible {
		t.Logf("hamba says compatible=%v, we say %v", got, compatible)
	}
}

func TestCheckWithReferences(t *testing.T) {
	dep := schema.Dep{Name: "x.Money", Schema: `{"type":"record","name":"x.Money","fields":[{"name":"cents","type":"long"}]}`}
	dep2 := schema.Dep{Name: "x.Money", Schema: `{"type":"record","name":"x.Money","fields":[{"name":"cents","type":"int"}]}`}
	text := `{"type":"record","name":"x.Order","fields":[{"name":"total","type":"Money"}]}`
	newer, older := mustParse(t, text, dep), mustParse(t, text, dep2)
	if got := New().Check(newer, older); len(got) != 0 {
		t.Errorf("Check(long reader, int writer) = %v", got)
	}
	got := New().Check(older, newer)
	want := schema.Incompatibility{Path: "/fields/0/type/fields/0/type", Rule: "TYPE_MISMATCH", Reader: "int", Writer: "long",
		Detail: "a reader of type int cannot read a writer's long"}
	if len(got) != 1 || got[0] != want {
		t.Errorf("Check = %v, want [%v]", got, want)
	}
}
