package restproxy

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"

	"github.com/samsa-streaming/samsa/serde/wire"
)

const v3AvroSchema = `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"note","type":["null","string"],"default":null}]}`

// TestV3ProduceSchemas produces AVRO (inline, by id, by version, latest,
// by record-name strategy), JSONSCHEMA and PROTOBUF through v3, reads the
// wire-framed records back with franz-go and goavro, and through v3
// consume; then the errors.
func TestV3ProduceSchemas(t *testing.T) {
	n := v3Start(t)
	v3Topic(t, n, "sch", 1)
	url := n.C("/topics/sch/records")
	inline := fmt.Sprintf(`{"value":{"type":"AVRO","schema":%q,"data":{"id":1,"note":{"string":"first"}}}}`, v3AvroSchema)
	rep := v3Expect(t, v3Call(t, "POST", url, inline), 200, "offset", "value")
	val := rep["value"].(map[string]any)
	if val["type"] != "AVRO" || val["subject"] != "sch-value" || val["schema_id"] == nil {
		t.Fatalf("inline avro report: %v", rep)
	}
	id := jsonInt(val["schema_id"])
	for i, body := range []string{
		fmt.Sprintf(`{"value":{"schema_id":%d,"data":{"id":2,"note":null}}}`, id),
		`{"value":{"type":"AVRO","schema_version":1,"data":{"id":3,"note":{"string":"third"}}}}`,
		`{"value":{"type":"AVRO","data":{"id":4,"note":null}}}`,
		fmt.Sprintf(`{"value":{"type":"AVRO","subject_name_strategy":"RECORD_NAME","schema":%q,"data":{"id":5,"note":null}}}`, v3AvroSchema),
	} {
		rep := v3Expect(t, v3Call(t, "POST", url, body), 200, "offset", "value")
		if v := rep["value"].(map[string]any); v["type"] != "AVRO" || jsonInt(v["schema_id"]) != id {
			t.Fatalf("avro %d: %v", i, rep)
		}
	}
	if s := v3Call(t, "GET", n.Registry+"/subjects/shop.Order/versions/latest", ""); s.Status != 200 {
		t.Fatalf("RECORD_NAME subject not registered: %v", s)
	}
	jsonSchema := `{"type":"object","properties":{"sku":{"type":"string"}},"required":["sku"]}`
	rep = v3Expect(t, v3Call(t, "POST", url, fmt.Sprintf(`{"key":{"type":"JSONSCHEMA","schema":%q,"data":{"sku":"A-1"}}}`, jsonSchema)), 200, "key")
	if k := rep["key"].(map[string]any); k["type"] != "JSONSCHEMA" || k["subject"] != "sch-key" {
		t.Fatalf("jsonschema report: %v", rep)
	}
	protoSchema := `syntax = "proto3"; package shop; message Item { string name = 1; int32 qty = 2; }`
	rep = v3Expect(t, v3Call(t, "POST", url, fmt.Sprintf(`{"value":{"type":"PROTOBUF","subject":"sch-proto","schema":%q,"data":{"name":"pen","qty":3}}}`, protoSchema)), 200, "value")
	if v := rep["value"].(map[string]any); v["type"] != "PROTOBUF" {
		t.Fatalf("protobuf report: %v", rep)
	}

	// Read back: the Avro records carry schema id's framing and decode.
	recs := v3ReadAll(t, n, "sch", 7)
	codec, err := goavro.NewCodec(v3AvroSchema)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs[:5] {
		h, payload, err := wire.ParseHeader(r.Value)
		if err != nil || int(h) != id {
			t.Fatalf("record %d: header %v %v", i, h, err)
		}
		native, _, err := codec.NativeFromBinary(payload)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if got := native.(map[string]any)["id"]; got != int64(i+1) {
			t.Fatalf("record %d: id %v", i, got)
		}
	}
	if _, payload, err := wire.ParseHeader(recs[5].Key); err != nil || string(payload) != `{"sku":"A-1"}` {
		t.Fatalf("jsonschema key: %q %v", recs[5].Key, err)
	}
	if _, _, err := wire.ParseHeader(recs[6].Value); err != nil {
		t.Fatalf("protobuf value: %v", err)
	}

	// Through v3 consume, in Avro-JSON.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp := openStream(t, ctx, n.C("/topics/sch/records?max_records=1&value_format=AVRO"), "application/x-ndjson", "")
	sc := bufio.NewScanner(resp.Body)
	var line map[string]any
	for sc.Scan() && line == nil {
		if strings.TrimSpace(sc.Text()) != "" {
			json.Unmarshal(sc.Bytes(), &line)
		}
	}
	resp.Body.Close()
	v, _ := line["value"].(map[string]any)
	if data, _ := json.Marshal(v["data"]); v["type"] != "AVRO" || string(data) != `{"id":1,"note":{"string":"first"}}` {
		t.Fatalf("consumed avro: %v", line)
	}

	// Errors.
	v3ExpectError(t, v3Call(t, "POST", url, fmt.Sprintf(`{"value":{"schema_id":%d,"data":{"id":"x"}}}`, id)), 422)
	v3ExpectError(t, v3Call(t, "POST", url, `{"value":{"schema_id":99999,"data":{}}}`), 404)
	v3ExpectError(t, v3Call(t, "POST", url, fmt.Sprintf(`{"value":{"type":"PROTOBUF","schema_id":%d,"data":{}}}`, id)), 400)
	v3ExpectError(t, v3Call(t, "POST", url, `{"value":{"type":"AVRO","subject":"nothing-here","data":{}}}`), 404)
	v3ExpectError(t, v3Call(t, "POST", url, `{"value":{"type":"AVRO","subject_name_strategy":"RANDOM","data":{}}}`), 400)
	v3ExpectError(t, v3Call(t, "POST", url, `{"value":{"type":"AVRO","schema":"{not avro","data":{}}}`), 422)
	v3ExpectError(t, v3Call(t, "POST", url, `{"value":{"schema":"\"string\"","data":"x"}}`), 400)
}
