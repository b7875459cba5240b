package config

import (
	"strings"
	"testing"
)

func TestSchemaValidationConfig(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  SchemaValidation
		key   bool
		val   bool
	}{
		{"none", SchemaValidationNone, false, false},
		{"key", SchemaValidationKey, true, false},
		{"value", SchemaValidationValue, false, true},
		{"both", SchemaValidationBoth, true, true},
	} {
		if err := ValidateTopicConfigs(map[string]string{SchemaValidationConfig: tc.value}); err != nil {
			t.Errorf("%s: %v", tc.value, err)
		}
		v := ParseSchemaValidation(tc.value)
		if v != tc.want || v.Key() != tc.key || v.Value() != tc.val || v.String() != tc.value {
			t.Errorf("ParseSchemaValidation(%s) = %v (key %v, value %v)", tc.value, v, v.Key(), v.Value())
		}
		b := Broker{}.Defaults()
		if got := b.ResolveTopic(Dynamic{}, map[string]string{SchemaValidationConfig: tc.value}).SchemaValidation; got != tc.want {
			t.Errorf("ResolveTopic(%s) = %v", tc.value, got)
		}
	}
	for _, bad := range []string{"", "Value", "true", "key,value", " both"} {
		err := ValidateTopicConfigs(map[string]string{SchemaValidationConfig: bad})
		if err == nil || !strings.Contains(err.Error(), SchemaValidationConfig) || !strings.Contains(err.Error(), "none, key, value, both") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// A topic-only setting resolves to its own default, named after itself.
func TestSchemaValidationDefault(t *testing.T) {
	b := Broker{}.Defaults()
	v, ok := b.Lookup(SchemaValidationConfig, Dynamic{PerBroker: map[string]string{"": "both"}}, nil)
	want := Synonym{SchemaValidationConfig, "none", SourceDefault}
	if !ok || v.Value != "none" || v.Source != SourceDefault || len(v.Synonyms) != 1 || v.Synonyms[0] != want {
		t.Fatalf("Lookup = %+v, %v", v, ok)
	}
	if got := b.ResolveTopic(Dynamic{}, nil).SchemaValidation; got != SchemaValidationNone {
		t.Fatalf("default resolves to %v", got)
	}
	v, _ = b.Lookup(SchemaValidationConfig, Dynamic{}, map[string]string{SchemaValidationConfig: "value"})
	if v.Value != "value" || v.Source != SourceDynamicTopic || len(v.Synonyms) != 2 {
		t.Fatalf("override: %+v", v)
	}
}
