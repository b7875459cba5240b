package schemajson

import (
	"fmt"
	"strings"
	"testing"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
)

const (
	d4    = `"$schema":"http://json-schema.org/draft-04/schema#",`
	d2019 = `"$schema":"https://json-schema.org/draft/2019-09/schema",`
	d2020 = `"$schema":"https://json-schema.org/draft/2020-12/schema",`
)

// want is one expected incompatibility: its rule at its path.
type want struct{ rule, path string }

type compatCase struct {
	name           string
	reader, writer string
	rdeps, wdeps   []schema.Dep
	wants          []want // nil: compatible
}

func addressDep(zip string) []schema.Dep {
	return []schema.Dep{{Name: "address.json", Schema: `{"type":"object","properties":{"zip":` + zip + `}}`}}
}

const list = `{"definitions":{"n":{"type":"object","properties":{"next":{"$ref":"#/definitions/n"},"v":{"type":"%s"}}}},"$ref":"#/definitions/n"}`

const tagged = `{"oneOf":[
 {"type":"object","properties":{"kind":{"const":"a"},"x":{"type":"integer"}},"required":["kind"]},
 {"type":"object","properties":{"kind":{"const":"b"},"y":{"type":"string"}},"required":["kind"]}]}`

var compatible = []compatCase{
	{name: "identical object", reader: `{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}`, writer: `{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}`},
	{name: "number reads integer", reader: `{"type":"number"}`, writer: `{"type":"integer"}`},
	{name: "type extended with null", reader: `{"type":["string","null"]}`, writer: `{"type":"string"}`},
	{name: "maxLength removed", reader: `{"type":"string"}`, writer: `{"type":"string","maxLength":10}`},
	{name: "maxLength increased", reader: `{"type":"string","maxLength":20}`, writer: `{"type":"string","maxLength":10}`},
	{name: "minLength decreased", reader: `{"type":"string","minLength":1}`, writer: `{"type":"string","minLength":3}`},
	{name: "minimum decreased", reader: `{"type":"integer","minimum":0}`, writer: `{"type":"integer","minimum":5}`},
	{name: "exclusiveMinimum below writer minimum", reader: `{"exclusiveMinimum":0}`, writer: `{"type":"number","minimum":1}`},
	{name: "maximum above writer exclusiveMaximum", reader: `{"maximum":100}`, writer: `{"exclusiveMaximum":50}`},
	{name: "exclusiveMaximum equal to writer's exclusive", reader: `{"exclusiveMaximum":50}`, writer: `{"exclusiveMaximum":50}`},
	{name: "multipleOf divides writer's", reader: `{"multipleOf":2}`, writer: `{"multipleOf":4}`},
	{name: "multipleOf 0.5 of integers", reader: `{"multipleOf":0.5}`, writer: `{"type":"integer"}`},
	{name: "enum extended", reader: `{"enum":["a","b","c"]}`, writer: `{"enum":["a","b"]}`},
	{name: "enum reads const", reader: `{"enum":[1,2,3]}`, writer: `{"const":2.0}`},
	{name: "type string reads enum of strings", reader: `{"type":"string","maxLength":1}`, writer: `{"enum":["x","y"]}`},
	{name: "integer reads integral enum", reader: `{"type":"integer","maximum":2}`, writer: `{"enum":[1,2]}`},
	{name: "property removed from open model", reader: `{"type":"object","properties":{"a":{"type":"string"}}}`, writer: `{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}}}`},
	{name: "optional property added to closed writer", reader: `{"type":"object","properties":{"a":{},"b":{"type":"string"}},"additionalProperties":false}`, writer: `{"type":"object","properties":{"a":{}},"additionalProperties":false}`},
	{name: "required removed", reader: `{"required":["a"]}`, writer: `{"required":["a","b"]}`},
	{name: "content model opened", reader: `{"properties":{"a":{}}}`, writer: `{"properties":{"a":{}},"additionalProperties":false}`},
	{name: "additionalProperties extended", reader: `{"additionalProperties":{"type":"string"}}`, writer: `{"additionalProperties":{"type":"string","maxLength":5}}`},
	{name: "property covered by additionalProperties", reader: `{"additionalProperties":{"type":"string"}}`, writer: `{"properties":{"a":{"type":"string","minLength":2}},"additionalProperties":{"type":"string"}}`},
	{name: "items type extended", reader: `{"type":"array","items":{"type":"number"}}`, writer: `{"type":"array","items":{"type":"integer"}}`},
	{name: "maxItems increased", reader: `{"maxItems":10}`, writer: `{"maxItems":5}`},
	{name: "type changed to combined including it", reader: `{"oneOf":[{"type":"string"},{"type":"integer"}]}`, writer: `{"type":"string"}`},
	{name: "anyOf extended", reader: `{"anyOf":[{"type":"string"},{"type":"null"}]}`, writer: `{"anyOf":[{"type":"string"}]}`},
	{name: "oneOf read by a wider anyOf", reader: `{"anyOf":[{"type":"string"},{"type":"integer"},{"type":"null"}]}`, writer: `{"oneOf":[{"type":"string"},{"type":"integer"}]}`},
	{name: "oneOf extended with a disjoint subschema", reader: `{"oneOf":[{"type":"string"},{"type":"integer"},{"type":"boolean"}]}`, writer: `{"oneOf":[{"type":"string"},{"type":"integer"}]}`},
	{name: "allOf narrowed", reader: `{"allOf":[{"type":"object"}]}`, writer: `{"allOf":[{"type":"object"},{"required":["a"]}]}`},
	{name: "allOf split differently", reader: `{"type":"string","maxLength":10}`, writer: `{"allOf":[{"type":"string"},{"maxLength":5}]}`},
	{name: "recursive list identical", reader: fmt.Sprintf(list, "string"), writer: fmt.Sprintf(list, "string")},
	{name: "recursive list integer to number", reader: fmt.Sprintf(list, "number"), writer: fmt.Sprintf(list, "integer")},
	{name: "not read by disjoint writer", reader: `{"not":{"type":"string"}}`, writer: `{"type":"integer"}`},
	{name: "not narrowed", reader: `{"not":{"type":"string","maxLength":2}}`, writer: `{"not":{"type":"string"}}`},
	{name: "dependency array narrowed", reader: `{` + d2019 + `"dependentRequired":{"a":["b"]}}`, writer: `{` + d2019 + `"dependentRequired":{"a":["b","c"]}}`},
	{name: "dependency array implied by required", reader: `{"dependencies":{"a":["b"]}}`, writer: `{"required":["b"]}`},
	{name: "empty reader", reader: `{}`, writer: `{"type":"object","properties":{"a":{"type":"string"}}}`},
	{name: "true reader", reader: `true`, writer: `{"type":"string"}`},
	{name: "false writer", reader: `{"type":"string"}`, writer: `false`},
	{name: "refs via deps identical", reader: `{"properties":{"home":{"$ref":"address.json"}}}`, writer: `{"properties":{"home":{"$ref":"address.json"}}}`,
		rdeps: addressDep(`{"type":"string"}`), wdeps: addressDep(`{"type":"string","maxLength":5}`)},
	{name: "draft4 exclusive maximum reads lower maximum", reader: `{` + d4 + `"maximum":10,"exclusiveMaximum":true}`, writer: `{` + d4 + `"maximum":5}`},
	{name: "prefixItems tuple reads longer closed tuple", reader: `{` + d2020 + `"prefixItems":[{"type":"string"}],"items":{"type":"number"}}`, writer: `{` + d2020 + `"prefixItems":[{"type":"string"},{"type":"integer"}],"items":false}`},
	{name: "patternProperties extended", reader: `{"patternProperties":{"^x_":{"type":"string"}}}`, writer: `{"patternProperties":{"^x_":{"type":"string","maxLength":3}}}`},
	{name: "tagged union identical", reader: tagged, writer: tagged},
	{name: "tagged union reads one branch", reader: tagged, writer: `{"type":"object","properties":{"kind":{"const":"a"},"x":{"type":"integer","minimum":0}},"required":["kind","x"]}`},
	{name: "if/then identical", reader: `{"if":{"properties":{"a":{"const":1}}},"then":{"required":["b"]}}`, writer: `{"if":{"properties":{"a":{"const":1}}},"then":{"required":["b"]}}`},
	{name: "uniqueItems of single-item arrays", reader: `{"uniqueItems":true}`, writer: `{"type":"array","maxItems":1}`},
	{name: "writer anyOf all read", reader: `{"type":["string","null"]}`, writer: `{"anyOf":[{"type":"string"},{"type":"null"}]}`},
	{name: "enum reads boolean", reader: `{"enum":[true,false,"x"]}`, writer: `{"type":"boolean"}`},
	{name: "2019 $ref with siblings", reader: `{` + d2019 + `"$ref":"#/$defs/a","maxLength":3,"$defs":{"a":{"type":"string"}}}`, writer: `{"type":"string","maxLength":2}`},
	{name: "unevaluatedProperties with allOf-declared property", reader: `{` + d2019 + `"allOf":[{"properties":{"a":{"type":"string"}}}],"unevaluatedProperties":false}`, writer: `{` + d2019 + `"properties":{"a":{"type":"string"}},"additionalProperties":false}`},
	{name: "contains implied", reader: `{"contains":{"type":"number"}}`, writer: `{"contains":{"type":"integer"}}`},
}

var incompatible = []compatCase{
	{name: "type narrowed", reader: `{"properties":{"a":{"type":"integer"}}}`, writer: `{"properties":{"a":{"type":"number"}}}`, wants: []want{{ruleTypeNarrowed, "#/properties/a/type"}}},
	{name: "type changed", reader: `{"type":"string"}`, writer: `{"type":"integer"}`, wants: []want{{ruleTypeChanged, "#/type"}}},
	{name: "maxLength added", reader: `{"type":"string","maxLength":5}`, writer: `{"type":"string"}`, wants: []want{{ruleMaxLengthAdded, "#/maxLength"}}},
	{name: "maxLength decreased", reader: `{"maxLength":5}`, writer: `{"maxLength":6}`, wants: []want{{ruleMaxLengthDecreased, "#/maxLength"}}},
	{name: "minLength increased", reader: `{"minLength":5}`, writer: `{"minLength":2}`, wants: []want{{ruleMinLengthIncreased, "#/minLength"}}},
	{name: "minimum added", reader: `{"type":"integer","minimum":0}`, writer: `{"type":"integer"}`, wants: []want{{ruleMinimumAdded, "#/minimum"}}},
	{name: "minimum increased", reader: `{"minimum":5}`, writer: `{"minimum":0}`, wants: []want{{ruleMinimumIncreased, "#/minimum"}}},
	{name: "exclusiveMaximum excludes writer maximum", reader: `{"exclusiveMaximum":10}`, writer: `{"maximum":10}`, wants: []want{{ruleExclusiveMaximumDecreased, "#/exclusiveMaximum"}}},
	{name: "exclusiveMinimum added", reader: `{"exclusiveMinimum":0}`, writer: `{"type":"number"}`, wants: []want{{ruleExclusiveMinimumAdded, "#/exclusiveMinimum"}}},
	{name: "multipleOf changed", reader: `{"multipleOf":4}`, writer: `{"multipleOf":2}`, wants: []want{{ruleMultipleOfChanged, "#/multipleOf"}}},
	{name: "multipleOf added", reader: `{"multipleOf":2}`, writer: `{"type":"integer"}`, wants: []want{{ruleMultipleOfAdded, "#/multipleOf"}}},
	{name: "enum narrowed", reader: `{"enum":["a","b"]}`, writer: `{"enum":["a","b","c"]}`, wants: []want{{ruleEnumNarrowed, "#/enum"}}},
	{name: "enum changed", reader: `{"enum":["x"]}`, writer: `{"enum":["a","b"]}`, wants: []want{{ruleEnumChanged, "#/enum"}}},
	{name: "enum added", reader: `{"type":"string","enum":["a"]}`, writer: `{"type":"string"}`, wants: []want{{ruleEnumAdded, "#/enum"}}},
	{name: "const changed", reader: `{"const":"a"}`, writer: `{"const":"b"}`, wants: []want{{ruleConstChanged, "#/const"}}},
	{name: "pattern added", reader: `{"type":"string","pattern":"^a"}`, writer: `{"type":"string"}`, wants: []want{{rulePatternAdded, "#/pattern"}}},
	{name: "property added to open model", reader: `{"properties":{"a":{},"b":{"type":"string"}}}`, writer: `{"properties":{"a":{}}}`, wants: []want{{rulePropertyAddedToOpen, "#/properties/b"}}},
	{name: "property removed from closed model", reader: `{"properties":{"a":{}},"additionalProperties":false}`, writer: `{"properties":{"a":{},"b":{}},"additionalProperties":false}`, wants: []want{{rulePropertyRemovedFromClosed, "#/properties/b"}}},
	{name: "content model closed", reader: `{"properties":{"a":{}},"additionalProperties":false}`, writer: `{"properties":{"a":{}}}`, wants: []want{{ruleAdditionalPropertiesRemoved, "#/additionalProperties"}}},
	{name: "required attribute added", reader: `{"properties":{"a":{}},"required":["a"]}`, writer: `{"properties":{"a":{}}}`, wants: []want{{ruleRequiredAttributeAdded, "#/required"}}},
	{name: "required property added to unopen model", reader: `{"properties":{"a":{},"b":{}},"required":["b"]}`, writer: `{"properties":{"a":{}},"additionalProperties":false}`, wants: []want{{ruleRequiredPropertyAddedToUnopen, "#/required"}}},
	{name: "required property added with a default", reader: `{"properties":{"b":{"type":"string","default":"x"}},"required":["b"]}`, writer: `{}`, wants: []want{{ruleRequiredPropertyAddedToOpen, "#/required"}, {rulePropertyAddedToOpen, "#/properties/b"}}},
	{name: "property added not covered by partially open model", reader: `{"properties":{"b":{"type":"integer"}}}`, writer: `{"additionalProperties":{"type":"string"}}`, wants: []want{{rulePropertyAddedNotCovered, "#/properties/b"}}},
	{name: "property removed not covered by partially open model", reader: `{"additionalProperties":{"type":"string"}}`, writer: `{"properties":{"b":{"type":"integer"}},"additionalProperties":{"type":"string"}}`, wants: []want{{rulePropertyRemovedNotCovered, "#/properties/b"}}},
	{name: "additionalProperties narrowed", reader: `{"additionalProperties":{"type":"string"}}`, writer: `{}`, wants: []want{{ruleAdditionalPropertiesNarrowed, "#/additionalProperties"}}},
	{name: "items type changed", reader: `{"items":{"type":"string"}}`, writer: `{"items":{"type":"integer"}}`, wants: []want{{ruleTypeChanged, "#/items/type"}}},
	{name: "maxItems added", reader: `{"maxItems":3}`, writer: `{"type":"array"}`, wants: []want{{ruleMaxItemsAdded, "#/maxItems"}}},
	{name: "minItems increased", reader: `{"minItems":3}`, writer: `{"minItems":1}`, wants: []want{{ruleMinItemsIncreased, "#/minItems"}}},
	{name: "uniqueItems added", reader: `{"uniqueItems":true}`, writer: `{"type":"array"}`, wants: []want{{ruleUniqueItemsAdded, "#/uniqueItems"}}},
	{name: "item removed from closed tuple", reader: `{` + d2020 + `"prefixItems":[{"type":"string"}],"items":false}`, writer: `{` + d2020 + `"prefixItems":[{"type":"string"},{"type":"integer"}],"items":false}`, wants: []want{{ruleItemRemovedFromClosed, "#/prefixItems/1"}}},
	{name: "item added to open tuple", reader: `{"items":[{"type":"string"},{"type":"integer"}]}`, writer: `{"items":[{"type":"string"}]}`, wants: []want{{ruleItemAddedToOpen, "#/items/1"}}},
	{name: "item added not covered", reader: `{"items":[{"type":"string"},{"type":"integer"}]}`, writer: `{"items":[{"type":"string"}],"additionalItems":{"type":"string"}}`, wants: []want{{ruleItemAddedNotCovered, "#/items/1"}}},
	{name: "additionalItems removed", reader: `{"items":[{"type":"string"}],"additionalItems":false}`, writer: `{"items":[{"type":"string"}]}`, wants: []want{{ruleAdditionalItemsRemoved, "#/additionalItems"}}},
	{name: "sum type narrowed", reader: `{"oneOf":[{"type":"string"},{"type":"integer"}]}`, writer: `{"oneOf":[{"type":"string"},{"type":"integer"},{"type":"null"}]}`, wants: []want{{ruleSumTypeNarrowed, "#/oneOf"}}},
	{name: "type changed to a combined type without it", reader: `{"anyOf":[{"type":"integer"},{"type":"null"}]}`, writer: `{"type":"string"}`, wants: []want{{ruleCombinedSubschemasChanged, "#/anyOf"}}},
	{name: "anyOf changed to oneOf", reader: `{"oneOf":[{"type":"integer"},{"type":"boolean"}]}`, writer: `{"anyOf":[{"type":"string"},{"type":"integer"}]}`, wants: []want{{ruleCombinedTypeChanged, "#/oneOf"}}},
	{name: "product type extended", reader: `{"allOf":[{"type":"object"},{"required":["a"]}]}`, writer: `{"allOf":[{"type":"object"}]}`, wants: []want{{ruleProductTypeExtended, "#/allOf/1"}}},
	{name: "combined writer narrowed to one type", reader: `{"type":"string"}`, writer: `{"oneOf":[{"type":"string"},{"type":"null"}]}`, wants: []want{{ruleTypeChanged, "#/type"}}},
	{name: "oneOf extended with an overlapping subschema", reader: `{"oneOf":[{"type":"string"},{"maxLength":5}]}`, writer: `{"type":"string"}`, wants: []want{{ruleOneOfOverlap, "#/oneOf/1"}}},
	{name: "not added", reader: `{"not":{"type":"string"}}`, writer: `{}`, wants: []want{{ruleNotTypeExtended, "#/not"}}},
	{name: "not extended", reader: `{"not":{"type":["string","null"]}}`, writer: `{"not":{"type":"string"}}`, wants: []want{{ruleNotTypeExtended, "#/not"}}},
	{name: "dependency array added", reader: `{` + d2019 + `"dependentRequired":{"a":["b"]}}`, writer: `{` + d2019 + `"properties":{"a":{}}}`, wants: []want{{ruleDependencyArrayAdded, "#/dependentRequired/a"}}},
	{name: "dependency array extended", reader: `{"dependencies":{"a":["b","c"]}}`, writer: `{"dependencies":{"a":["b"]}}`, wants: []want{{ruleDependencyArrayExtended, "#/dependencies/a"}}},
	{name: "dependency schema added", reader: `{"dependencies":{"a":{"required":["b"]}}}`, writer: `{}`, wants: []want{{ruleDependencySchemaAdded, "#/dependencies/a"}}},
	{name: "$ref followed", reader: `{"$ref":"#/definitions/A","definitions":{"A":{"properties":{"x":{"type":"string"}}}}}`, writer: `{"$ref":"#/definitions/A","definitions":{"A":{"properties":{"x":{"type":"integer"}}}}}`, wants: []want{{ruleTypeChanged, "#/definitions/A/properties/x/type"}}},
	{name: "ref into deps", reader: `{"properties":{"home":{"$ref":"address.json"}}}`, writer: `{"properties":{"home":{"$ref":"address.json"}}}`,
		rdeps: addressDep(`{"type":"string","maxLength":5}`), wdeps: addressDep(`{"type":"string"}`), wants: []want{{ruleMaxLengthAdded, "address.json#/properties/zip/maxLength"}}},
	{name: "recursive list type changed", reader: fmt.Sprintf(list, "string"), writer: fmt.Sprintf(list, "integer"), wants: []want{{ruleTypeChanged, "#/definitions/n/properties/v/type"}}},
	{name: "false reader", reader: `false`, writer: `{}`, wants: []want{{ruleSchemaFalse, "#"}}},
	{name: "conditional added", reader: `{"if":{"properties":{"a":{"const":1}}},"then":{"required":["b"]}}`, writer: `{}`, wants: []want{{ruleConditionalAdded, "#/if"}}},
	{name: "propertyNames added", reader: `{"propertyNames":{"maxLength":3}}`, writer: `{"type":"object"}`, wants: []want{{rulePropertyNamesAdded, "#/propertyNames"}}},
	{name: "contains added", reader: `{"contains":{"type":"string"}}`, writer: `{"type":"array"}`, wants: []want{{ruleContainsAdded, "#/contains"}}},
	{name: "format added", reader: `{"type":"string","format":"email"}`, writer: `{"type":"string"}`, wants: []want{{ruleFormatAdded, "#/format"}}},
	{name: "maxProperties added", reader: `{"maxProperties":2}`, writer: `{"type":"object"}`, wants: []want{{ruleMaxPropertiesAdded, "#/maxProperties"}}},
	{name: "tagged union branch removed", reader: `{"oneOf":[{"type":"object","properties":{"kind":{"const":"a"}},"required":["kind"]}]}`, writer: tagged, wants: []want{{ruleSumTypeNarrowed, "#/oneOf"}}},
	{name: "enum value rejected by reader type", reader: `{"type":"integer"}`, writer: `{"enum":[1,1.5]}`, wants: []want{{ruleTypeNarrowed, "#/type"}}},
	{name: "draft4 exclusive maximum", reader: `{` + d4 + `"maximum":5,"exclusiveMaximum":true}`, writer: `{` + d4 + `"maximum":5}`, wants: []want{{ruleExclusiveMaximumDecreased, "#/exclusiveMaximum"}}},
	{name: "property name with slash and tilde", reader: `{"properties":{"a/b~c":{"type":"string"}}}`, writer: `{"properties":{"a/b~c":{"type":"integer"}}}`, wants: []want{{ruleTypeChanged, "#/properties/a~1b~0c/type"}}},
	{name: "writer pattern removed from closed model", reader: `{"properties":{"a":{}},"additionalProperties":false}`, writer: `{"properties":{"a":{}},"patternProperties":{"^x":{}},"additionalProperties":false}`, wants: []want{{rulePropertyRemovedFromClosed, "#/patternProperties/^x"}}},
	{name: "unevaluatedProperties closes an open writer", reader: `{` + d2020 + `"properties":{"a":{}},"unevaluatedProperties":false}`, writer: `{` + d2020 + `"properties":{"a":{}}}`, wants: []want{{ruleAdditionalPropertiesRemoved, "#/unevaluatedProperties"}}},
	{name: "2019 $ref with siblings narrowed", reader: `{` + d2019 + `"$ref":"#/$defs/a","maxLength":3,"$defs":{"a":{"type":"string"}}}`, writer: `{"type":"string","maxLength":4}`, wants: []want{{ruleMaxLengthDecreased, "#/maxLength"}}},
	{name: "writer unevaluatedItems does not hide allOf items", reader: `{` + d2019 + `"items":{"type":"string"}}`, writer: `{` + d2019 + `"allOf":[{"items":{"type":"integer"}}],"unevaluatedItems":false}`, wants: []want{{ruleTypeChanged, "#/items/type"}}},
	{name: "writer unevaluatedProperties does not hide anyOf properties", reader: `{"properties":{"a":{}},"additionalProperties":false}`, writer: `{` + d2019 + `"anyOf":[{"properties":{"b":{}}}],"unevaluatedProperties":false}`, wants: []want{{rulePropertyRemovedFromClosed, "#/properties/b"}}},
	{name: "reader $ref loop accepts nothing", reader: `{"$ref":"#"}`, writer: `{"type":"string"}`, wants: []want{{ruleReferenceCycle, "#"}}},
	{name: "reader anyOf self reference does not read integers", reader: `{"anyOf":[{"type":"string"},{"$ref":"#"}]}`, writer: `{"type":"integer"}`, wants: []want{{ruleCombinedSubschemasChanged, "#/anyOf"}}},
	{name: "every incompatibility reported",
		reader: `{"type":"object","properties":{"a":{"type":"integer","maximum":5}},"required":["a"],"additionalProperties":false}`,
		writer: `{"type":"object","properties":{"a":{"type":"number"},"b":{}}}`,
		wants: []want{{ruleTypeNarrowed, "#/properties/a/type"}, {ruleMaximumAdded, "#/properties/a/maximum"}, {ruleRequiredAttributeAdded, "#/required"},
			{rulePropertyRemovedFromClosed, "#/properties/b"}, {ruleAdditionalPropertiesRemoved, "#/additionalProperties"}}},
}

func TestCheckTable(t *testing.T) {
	if len(compatible) < 30 || len(incompatible) < 30 {
		t.Fatalf("table has %d compatible and %d incompatible pairs, want ≥30 each", len(compatible), len(incompatible))
	}
	h := New()
	for _, tt := range append(append([]compatCase{}, compatible...), incompatible...) {
		t.Run(tt.name, func(t *testing.T) {
			r := mustParse(t, tt.reader, tt.rdeps...)
			w := mustParse(t, tt.writer, tt.wdeps...)
			got := h.Check(r, w)
			if tt.wants == nil {
				if len(got) != 0 {
					t.Fatalf("want compatible, got %v", got)
				}
				return
			}
			for _, wt := range tt.wants {
				if !hasIncompat(got, wt) {
					t.Errorf("missing %s at %s in %v", wt.rule, wt.path, got)
				}
			}
			for _, i := range got {
				if i.Detail == "" || !strings.HasSuffix(i.Detail, ".") {
					t.Errorf("incompatibility %v has no one-sentence detail", i)
				}
			}
			// Every schema reads itself.
			if self := h.Check(r, mustParse(t, tt.reader, tt.rdeps...)); len(self) != 0 && !hasRule(self, ruleReferenceCycle) {
				t.Errorf("reader does not read itself: %v", self)
			}
		})
	}
}

func hasRule(got []schema.Incompatibility, rule string) bool {
	for _, i := range got {
		if i.Rule == rule {
			return true
		}
	}
	return false
}

func hasIncompat(got []schema.Incompatibility, w want) bool {
	for _, i := range got {
		if i.Rule == w.rule && i.Path == w.path {
			return true
		}
	}
	return false
}

func TestCheckReaderWriterValues(t *testing.T) {
	h := New()
	got := h.Check(mustParse(t, `{"properties":{"age":{"type":"integer"}}}`), mustParse(t, `{"properties":{"age":{"type":"number"}}}`))
	if len(got) != 1 || got[0].Reader != "integer" || got[0].Writer != "number" {
		t.Fatalf("got %v, want one TYPE_NARROWED integer/number", got)
	}
	got = h.Check(mustParse(t, `{"enum":["a","b"]}`), mustParse(t, `{"enum":["a","b","c"]}`))
	if len(got) != 1 || got[0].Reader != "[a b]" || got[0].Writer != "[a b c]" {
		t.Fatalf("got %v, want ENUM_ARRAY_NARROWED [a b]/[a b c]", got)
	}
	want := `TYPE_NARROWED at #/properties/age/type (reader integer, writer number)`
	if s := h.Check(mustParse(t, `{"properties":{"age":{"type":"integer"}}}`), mustParse(t, `{"properties":{"age":{"type":"number"}}}`))[0].String(); !strings.HasPrefix(s, want) {
		t.Errorf("String() = %q, want prefix %q", s, want)
	}
}

// Mutually recursive schemas terminate, and deep ones hit the bound
// rather than the stack.
func TestCheckTerminates(t *testing.T) {
	h := New()
	mutual := `{"definitions":{"a":{"type":"object","properties":{"b":{"$ref":"#/definitions/b"}}},"b":{"type":"object","properties":{"a":{"$ref":"#/definitions/a"},"v":{"type":"%s"}}}},"$ref":"#/definitions/a"}`
	if got := h.Check(mustParse(t, fmt.Sprintf(mutual, "number")), mustParse(t, fmt.Sprintf(mutual, "integer"))); len(got) != 0 {
		t.Errorf("mutual recursion, number reads integer: %v", got)
	}
	got := h.Check(mustParse(t, fmt.Sprintf(mutual, "integer")), mustParse(t, fmt.Sprintf(mutual, "number")))
	if !hasIncompat(got, want{ruleTypeNarrowed, "#/definitions/b/properties/v/type"}) {
		t.Errorf("mutual recursion, integer reads number: %v", got)
	}
	deep := strings.Repeat(`{"properties":{"a":`, 60) + `{"type":"string"}` + strings.Repeat(`}}`, 60)
	deepInt := strings.Repeat(`{"properties":{"a":`, 60) + `{"type":"integer"}` + strings.Repeat(`}}`, 60)
	if got := h.Check(mustParse(t, deep), mustParse(t, deepInt)); len(got) != 1 || got[0].Rule != ruleTypeChanged {
		t.Errorf("deep schemas: %v", got)
	}
}
