package transform

import (
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/connect"
	"github.com/samsa-streaming/samsa/internal/connect/convert"
)

// FuzzChain runs records decoded from arbitrary JsonConverter input
// (with and without schemas) through every transformation with a
// plausible configuration: a transformation may refuse a record with an
// error but must never panic (a panic would kill the task's worker).
func FuzzChain(f *testing.F) {
	f.Add([]byte(`{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"a"},{"type":"string","optional":true,"field":"b"}]},"payload":{"a":1,"b":"x"}}`), true)
	f.Add([]byte(`{"a":1,"b":{"c":[1,2]},"ts":"2024-01-01"}`), false)
	reg := connect.NewRegistry()
	if err := Register(reg); err != nil {
		f.Fatal(err)
	}
	configs := []map[string]string{
		{"type": "InsertField$Value", "topic.field": "t", "timestamp.field": "ts!", "static.field": "s", "static.value": "v"},
		{"type": "ReplaceField$Value", "exclude": "b", "renames": "a:z"},
		{"type": "MaskField$Value", "fields": "a,b"},
		{"type": "MaskField$Value", "fields": "a", "replacement": "7"},
		{"type": "ValueToKey", "fields": "a"},
		{"type": "ExtractField$Value", "field": "b"},
		{"type": "HoistField$Key", "field": "k"},
		{"type": "Cast$Value", "spec": "a:string,b:int64"},
		{"type": "Cast$Value", "spec": "float64"},
		{"type": "Flatten$Value"},
		{"type": "TimestampConverter$Value", "field": "ts", "target.type": "unix", "format": "yyyy-MM-dd"},
		{"type": "HeaderFrom$Value", "fields": "a", "headers": "h", "operation": "move"},
		{"type": "SetSchemaMetadata$Value", "schema.name": "n"},
		{"type": "TimestampRouter"},
		{"type": "RegexRouter", "regex": "(.*)", "replacement": "$1-x"},
	}
	var chains []*Chain
	for _, cfg := range configs {
		props := map[string]string{"transforms": "t"}
		for k, v := range cfg {
			props["transforms.t."+k] = v
		}
		c, err := NewChain(reg, props)
		if err != nil {
			f.Fatalf("%v: %v", cfg, err)
		}
		chains = append(chains, c)
	}
	f.Fuzz(func(t *testing.T, data []byte, schemas bool) {
		jc := convert.NewJSONConverter(convert.JSONConfig{SchemasEnable: schemas, ReplaceNullWithDefault: true})
		s, v, err := jc.ToConnect("topic", nil, data)
		if err != nil {
			return
		}
		for _, c := range chains {
			r := &connect.Record{Topic: "topic", ValueSchema: s, Value: v, KeySchema: s, Key: v, Timestamp: time.UnixMilli(1)}
			_, _ = c.Apply(r)
		}
	})
}
