package restproxy

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestV2Metadata covers the v2 metadata endpoints, content negotiation and
// their error codes, one table row each.
func TestV2Metadata(t *testing.T) {
	bootstrap, url := startNode(t)
	createTopic(t, bootstrap, "meta", 3, nil)
	produce := `{"records":[{"value":"` + b64("x") + `"}]}`

	cases := []struct {
		name, method, path, body, ct, accept string
		status, code                         int
		keys                                 []string
	}{
		{"topics", "GET", "/topics", "", "", "", 200, 0, nil},
		{"topic", "GET", "/topics/meta", "", "", "", 200, 0, []string{"name", "configs", "partitions"}},
		{"unknown topic", "GET", "/topics/nope", "", "", "", 404, 40403, nil},
		{"partitions", "GET", "/topics/meta/partitions", "", "", "", 200, 0, nil},
		{"partitions of unknown topic", "GET", "/topics/nope/partitions", "", "", "", 404, 40401, nil},
		{"partition", "GET", "/topics/meta/partitions/2", "", "", "", 200, 0, []string{"partition", "leader", "replicas"}},
		{"unknown partition", "GET", "/topics/meta/partitions/7", "", "", "", 404, 40402, nil},
		{"bad partition", "GET", "/topics/meta/partitions/x", "", "", "", 404, 40402, nil},
		{"offsets", "GET", "/topics/meta/partitions/0/offsets", "", "", "", 200, 0, []string{"beginning_offset", "end_offset"}},
		{"offsets unknown partition", "GET", "/topics/meta/partitions/9/offsets", "", "", "", 404, 40402, nil},
		{"brokers", "GET", "/brokers", "", "", "", 200, 0, []string{"brokers"}},
		// Accept.
		{"accept */*", "GET", "/brokers", "", "", "*/*", 200, 0, nil},
		{"accept application/*", "GET", "/brokers", "", "", "application/*", 200, 0, nil},
		{"accept */json", "GET", "/brokers", "", "", "*/json", 200, 0, nil},
		{"accept v2", "GET", "/brokers", "", "", ctV2, 200, 0, nil},
		{"accept json", "GET", "/brokers", "", "", "application/json", 200, 0, nil},
		{"accept octet-stream", "GET", "/brokers", "", "", "application/octet-stream", 406, 406, nil},
		{"accept text", "GET", "/brokers", "", "", "application/text", 406, 406, nil},
		// Request content types of produce.
		{"produce binary v2", "POST", "/topics/meta", produce, ctBinary, "", 200, 0, []string{"offsets", "key_schema_id", "value_schema_id"}},
		{"produce binary v1", "POST", "/topics/meta", produce, "application/vnd.kafka.binary.v1+json", "", 200, 0, nil},
		{"produce v1", "POST", "/topics/meta", produce, "application/vnd.kafka.v1+json", "", 200, 0, nil},
		{"produce kafka+json", "POST", "/topics/meta", produce, "application/vnd.kafka+json", "", 200, 0, nil},
		{"produce json", "POST", "/topics/meta", produce, "application/json", "", 200, 0, nil},
		{"produce octet-stream", "POST", "/topics/meta", produce, "application/octet-stream", "", 200, 0, nil},
		{"produce v3 refused", "POST", "/topics/meta", produce, "application/vnd.kafka.v3+json", "", 415, 415, nil},
		{"produce avro v0 refused", "POST", "/topics/meta", produce, "application/vnd.kafka.avro.v0+json", "", 415, 415, nil},
		{"produce vnd.kafka refused", "POST", "/topics/meta", produce, "application/vnd.kafka", "", 415, 415, nil},
		{"produce text refused", "POST", "/topics/meta", produce, "application/text", "", 415, 415, nil},
		{"produce xml refused", "POST", "/topics/meta", produce, "application/xml", "", 415, 415, nil},
		// Produce errors.
		{"produce unknown topic", "POST", "/topics/nope", produce, ctBinary, "", 404, 40401, nil},
		{"produce unknown partition", "POST", "/topics/meta/partitions/5", produce, ctBinary, "", 404, 40402, nil},
		{"produce record partition unknown", "POST", "/topics/meta", `{"records":[{"value":"eA==","partition":4}]}`, ctBinary, "", 404, 40402, nil},
		{"produce malformed JSON", "POST", "/topics/meta", `{"records":[`, ctBinary, "", 400, 400, nil},
		{"produce bad base64", "POST", "/topics/meta", `{"records":[{"value":"!!!"}]}`, ctBinary, "", 422, 42203, nil},
		{"produce empty body", "POST", "/topics/meta", "", ctBinary, "", 422, 422, nil},
		{"produce without records", "POST", "/topics/meta", `{"value_schema_id":1}`, ctBinary, "", 422, 422, nil},
		{"produce records not a list", "POST", "/topics/meta", `{"records":{"value":"eA=="}}`, ctBinary, "", 422, 42203, nil},
		{"produce avro without value schema", "POST", "/topics/meta", `{"records":[{"value":{"a":1}}]}`, ctAvro, "", 422, 42202, nil},
		{"produce avro without key schema", "POST", "/topics/meta", `{"value_schema":"\"string\"","records":[{"key":"k","value":"v"}]}`, ctAvro, "", 422, 42201, nil},
		{"produce avro not matching", "POST", "/topics/meta", `{"value_schema":"\"string\"","records":[{"value":5}]}`, ctAvro, "", 422, 42205, nil},
		// meta-value holds "string" now (registered by the rows above);
		// "int" cannot read it under BACKWARD: Confluent's 408/40801.
		{"produce avro incompatible schema", "POST", "/topics/meta", `{"value_schema":"\"int\"","records":[{"value":1}]}`, ctAvro, "", 408, 40801, nil},
		{"produce unknown schema id", "POST", "/topics/meta", `{"value_schema_id":9999,"records":[{"value":1}]}`, ctAvro, "", 404, 40403, nil},
		// Names no Kafka topic can have are unknown topics, answered
		// without asking the cluster (no such topic is ever created).
		{"topic with an illegal name", "GET", "/topics/null,null", "", "", "", 404, 40403, nil},
		{"partitions of an illegal name", "GET", "/topics/a%20b/partitions", "", "", "", 404, 40401, nil},
		{"topic with a name too long", "GET", "/topics/" + strings.Repeat("a", 250), "", "", "", 404, 40403, nil},
		{"produce to an illegal name", "POST", "/topics/null,null", produce, ctBinary, "", 404, 40401, nil},
		// What the document refuses, the proxy refuses.
		{"produce a null record", "POST", "/topics/meta", `{"records":[null]}`, ctBinary, "", 422, 42203, nil},
		{"produce a negative partition", "POST", "/topics/meta/partitions/0", `{"records":[{"value":"eA==","partition":-1}]}`, ctBinary, "", 422, 42203, nil},
		{"produce a negative schema id", "POST", "/topics/meta", `{"value_schema_id":-3,"records":[]}`, ctBinary, "", 422, 42203, nil},
		{"produce a fractional partition", "POST", "/topics/meta", `{"records":[{"value":"eA==","partition":0.5}]}`, ctBinary, "", 422, 42203, nil},
		{"consumer null body", "POST", "/consumers/g", `null`, ctV2, "", 422, 42203, nil},
		// Consumer instance errors.
		{"unknown instance", "GET", "/consumers/g/instances/nope/records", "", "", "", 404, 40403, nil},
		{"records bad max_bytes", "GET", "/consumers/g/instances/nope/records?max_bytes=lots", "", "", "", 400, 400, nil},
		{"records bad timeout", "GET", "/consumers/g/instances/nope/records?timeout=-5", "", "", "", 400, 400, nil},
		{"unknown instance delete", "DELETE", "/consumers/g/instances/nope", "", "", "", 404, 40403, nil},
		{"consumer bad format", "POST", "/consumers/g", `{"name":"c","format":"xml"}`, ctV2, "", 422, 42204, nil},
		{"consumer bad reset", "POST", "/consumers/g", `{"name":"c","auto.offset.reset":"sometimes"}`, ctV2, "", 422, 42204, nil},
		{"consumer bad auto commit", "POST", "/consumers/g", `{"name":"c","auto.commit.enable":"maybe"}`, ctV2, "", 422, 42204, nil},
		{"consumer bad fetch.min.bytes", "POST", "/consumers/g", `{"name":"c","fetch.min.bytes":{"n":1}}`, ctV2, "", 422, 42204, nil},
		{"consumer bad timeout", "POST", "/consumers/g", `{"name":"c","consumer.request.timeout.ms":"soon"}`, ctV2, "", 422, 42204, nil},
		{"consumer body type refused", "POST", "/consumers/g", `{"name":"c"}`, "application/text", "", 415, 415, nil},
	}
	for _, c := range cases {
		a := call(t, c.method, url+c.path, c.body, c.ct, c.accept)
		expect(t, c.name, a, c.status, ctV2, c.code, c.keys...)
	}

	// Bodies in detail.
	if a := call(t, "GET", url+"/topics", "", "", ""); !containsAny(a.List(), "meta") {
		t.Fatalf("GET /topics lacks meta: %s", a)
	}
	a := call(t, "GET", url+"/topics/meta", "", "", "")
	if a.Map()["name"] != "meta" || len(a.Map()["partitions"].([]any)) != 3 {
		t.Fatalf("GET /topics/meta: %s", a)
	}
	if _, ok := a.Map()["configs"].(map[string]any)["cleanup.policy"]; !ok {
		t.Fatalf("GET /topics/meta: configs lack cleanup.policy: %s", a)
	}
	p := call(t, "GET", url+"/topics/meta/partitions/2", "", "", "").Map()
	reps := p["replicas"].([]any)
	if p["partition"] != 2.0 || p["leader"] != 1.0 || len(reps) != 1 || reps[0].(map[string]any)["leader"] != true || reps[0].(map[string]any)["in_sync"] != true {
		t.Fatalf("partition 2: %v", p)
	}
	if b := call(t, "GET", url+"/brokers", "", "", "").Map()["brokers"].([]any); len(b) != 1 || b[0] != 1.0 {
		t.Fatalf("brokers: %v", b)
	}
	// Six binary records were produced above, somewhere in meta's three
	// partitions; the offsets endpoints add up to that.
	var total float64
	for i := 0; i < 3; i++ {
		o := call(t, "GET", url+"/topics/meta/partitions/"+strconv.Itoa(i)+"/offsets", "", "", "").Map()
		total += o["end_offset"].(float64) - o["beginning_offset"].(float64)
	}
	if total != 6 {
		t.Fatalf("offsets add up to %v records, want 6", total)
	}
	recs := readAll(t, bootstrap, "meta", 6)
	for _, r := range recs {
		if string(r.Value) != "x" || r.Key != nil {
			t.Fatalf("record read back: key %q value %q", r.Key, r.Value)
		}
	}
	// No route: the mux's answer, not a 500.
	if a := call(t, "PUT", url+"/topics/meta", "", "", ""); a.Status != http.StatusMethodNotAllowed {
		t.Fatalf("PUT /topics/meta: %s", a)
	}
}

func containsAny(l []any, want string) bool {
	for _, v := range l {
		if v == want {
			return true
		}
	}
	return false
}
