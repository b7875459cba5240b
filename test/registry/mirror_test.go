package registry

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestMirroredSchemasServed: records another tool wrote to _schemas in
// Confluent's format (a mirrored _schemas) are served, including configs,
// soft deletes and fields this registry does not know; a new registration
// then gets an id above every mirrored one, and a later version number.
func TestMirroredSchemasServed(t *testing.T) {
	n := startNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl := n.Client(t)
	if err := benchCreateSchemasTopic(ctx, cl); err != nil {
		t.Fatal(err)
	}
	rec := func(key, value map[string]any) *kgo.Record {
		k, _ := json.Marshal(key)
		r := &kgo.Record{Topic: "_schemas", Key: k}
		if value != nil {
			r.Value, _ = json.Marshal(value)
		}
		return r
	}
	schemaKey := func(s string, v int) map[string]any {
		return map[string]any{"keytype": "SCHEMA", "subject": s, "version": v, "magic": 1}
	}
	mirrored := []*kgo.Record{
		rec(map[string]any{"keytype": "NOOP", "magic": 0}, nil),
		rec(schemaKey("pay-value", 1), map[string]any{"subject": "pay-value", "version": 1, "id": 100, "schema": `{"type":"record","name":"Pay","fields":[{"name":"a","type":"int"}]}`, "deleted": false}),
		rec(schemaKey("pay-value", 2), map[string]any{"subject": "pay-value", "version": 2, "id": 101, "schema": `{"type":"record","name":"Pay","fields":[{"name":"a","type":"int"},{"name":"b","type":"string","default":""}]}`, "deleted": false, "confluent:version": 3, "futureField": []int{1}}),
		rec(schemaKey("old-value", 1), map[string]any{"subject": "old-value", "version": 1, "id": 102, "schema": `"string"`, "deleted": true}),
		rec(map[string]any{"keytype": "CONFIG", "subject": "pay-value", "magic": 0}, map[string]any{"compatibilityLevel": "FULL"}),
		rec(map[string]any{"keytype": "SOMETHING_NEWER", "magic": 0}, map[string]any{"x": 1}),
		{Topic: "_schemas", Key: []byte("garbage"), Value: []byte("{")},
	}
	if err := cl.ProduceSync(ctx, mirrored...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	// The registry catches up on a miss by id.
	if a := call(t, "GET", n.URL+"/schemas/ids/101", ""); a.Status != 200 {
		t.Fatalf("GET id 101: %d %s", a.Status, a.Body)
	}
	if a := call(t, "GET", n.URL+"/subjects/pay-value/versions", ""); a.Status != 200 || string(a.Body) != "[1,2]" {
		t.Fatalf("versions: %d %s", a.Status, a.Body)
	}
	if a := call(t, "GET", n.URL+"/subjects", ""); string(a.Body) != `["pay-value"]` {
		t.Fatalf("subjects: %s (old-value is soft-deleted)", a.Body)
	}
	if a := call(t, "GET", n.URL+"/subjects?deleted=true", ""); string(a.Body) != `["old-value","pay-value"]` {
		t.Fatalf("subjects?deleted=true: %s", a.Body)
	}
	if a := call(t, "GET", n.URL+"/config/pay-value", ""); a.Status != 200 || a.JSON.(map[string]any)["compatibilityLevel"] != "FULL" {
		t.Fatalf("config: %d %s", a.Status, a.Body)
	}
	// FULL: adding a field without a default breaks backward reads.
	bad := schemaBody(`{"type":"record","name":"Pay","fields":[{"name":"a","type":"int"},{"name":"b","type":"string","default":""},{"name":"c","type":"long"}]}`, "")
	if a := call(t, "POST", n.URL+"/subjects/pay-value/versions", bad); a.Status != 409 || a.ErrorCode() != 409 {
		t.Fatalf("incompatible under the mirrored FULL: %d %s", a.Status, a.Body)
	}
	good := schemaBody(`{"type":"record","name":"Pay","fields":[{"name":"a","type":"int"},{"name":"b","type":"string","default":""},{"name":"c","type":"long","default":0}]}`, "")
	a := call(t, "POST", n.URL+"/subjects/pay-value/versions", good)
	if a.Status != 200 {
		t.Fatalf("register: %d %s", a.Status, a.Body)
	}
	if id := int(a.JSON.(map[string]any)["id"].(float64)); id != 103 {
		t.Fatalf("new id %d, want 103 (above every mirrored id)", id)
	}
	if a := call(t, "GET", n.URL+"/subjects/pay-value/versions/latest", ""); a.JSON.(map[string]any)["version"].(float64) != 3 {
		t.Fatalf("latest: %s", a.Body)
	}
}
