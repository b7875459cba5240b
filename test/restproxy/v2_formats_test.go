package restproxy

import (
	"encoding/json"
	"testing"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/serde/wire"
)

// jsonEq says a and b are the same JSON value.
func jsonEq(t testing.TB, a any, b string) bool {
	t.Helper()
	var bv any
	if err := json.Unmarshal([]byte(b), &bv); err != nil {
		t.Fatal(err)
	}
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(bv)
	return string(x) == string(y)
}

// TestV2FormatRoundTrips produces avro, jsonschema and protobuf through
// v2 and reads them back through v2 consumer instances of each format;
// an Avro record framed by another client (franz-go with goavro) reads
// the same way.
func TestV2FormatRoundTrips(t *testing.T) {
	n := startRESTNode(t)
	type tc struct {
		format, ct, schema, value, want string
	}
	cases := []tc{
		{"avro", ctAvro, avroSchema, `{"id":"1","note":{"string":"hi"},"amount":"\u0001\u0002"}`, `{"id":"1","note":{"string":"hi"},"amount":"\u0001\u0002"}`},
		{"jsonschema", ctJSONSch, `{"type":"object","properties":{"n":{"type":"integer"},"s":{"type":"string"}}}`, `{"n":5,"s":"x"}`, `{"n":5,"s":"x"}`},
		{"protobuf", ctProtobuf, protoSchema, `{"id":"o1","qty":2,"tags":["a"]}`, `{"id":"o1","qty":2,"tags":["a"]}`},
	}
	for _, c := range cases {
		topic := "rt-" + c.format
		createTopic(t, n.Bootstrap, topic, 1, nil)
		body := `{"key_schema":` + mustJSON(t, c.schema) + `,"value_schema":` + mustJSON(t, c.schema) +
			`,"records":[{"key":` + c.value + `,"value":` + c.value + `},{"value":null}]}`
		a := call(t, "POST", n.URL+"/topics/"+topic, body, c.ct, "")
		offsetsOf(t, c.format+" produce", a, 2)
		valueID := a.Map()["value_schema_id"]

		base := newConsumer(t, n.URL, "g-"+c.format, `{"format":"`+c.format+`","auto.offset.reset":"earliest"}`)
		if a := call(t, "POST", base+"/subscription", `{"topics":["`+topic+`"]}`, ctV2, ""); a.Status != 204 {
			t.Fatalf("%s subscribe: %s", c.format, a)
		}
		recs := readRecords(t, base, c.ct, 2)
		if !jsonEq(t, recs[0]["value"], c.want) || !jsonEq(t, recs[0]["key"], c.want) {
			t.Fatalf("%s read back: %v, want %s", c.format, recs[0], c.want)
		}
		if recs[1]["value"] != nil || recs[1]["key"] != nil {
			t.Fatalf("%s null record read back: %v", c.format, recs[1])
		}
		// Records the other formats cannot read are 422, never 500.
		if c.format == "avro" {
			codec, err := goavro.NewCodec(avroSchema)
			if err != nil {
				t.Fatal(err)
			}
			native, _, err := codec.NativeFromTextual([]byte(`{"id":"2","note":null,"amount":"\u0000"}`))
			if err != nil {
				t.Fatal(err)
			}
			v, err := codec.BinaryFromNative(wire.AppendHeader(nil, int32(valueID.(float64))), native)
			if err != nil {
				t.Fatal(err)
			}
			produceFranz(t, n.Bootstrap, &kgo.Record{Topic: topic, Value: v})
			r := readRecords(t, base, c.ct, 1)[0]
			if !jsonEq(t, r["value"], `{"id":"2","note":null,"amount":"\u0000"}`) {
				t.Fatalf("avro framed by franz-go read back: %v", r)
			}
			produceFranz(t, n.Bootstrap, &kgo.Record{Topic: topic, Value: []byte("not avro")})
			var bad answer
			for i := 0; i < 10; i++ {
				if bad = call(t, "GET", base+"/records?timeout=2000", "", "", c.ct); bad.Status != 200 {
					break
				}
			}
			expect(t, "avro undecodable", bad, 422, ctV2, 0)
		}
	}
	// Strimzi Bridge's text format: UTF-8 strings both ways.
	const ctText = "application/vnd.kafka.text.v2+json"
	createTopic(t, n.Bootstrap, "rt-text", 1, nil)
	a := call(t, "POST", n.URL+"/topics/rt-text", `{"records":[{"key":"k","value":"héllo <b>"}]}`, ctText, "")
	if o := offsetsOf(t, "text produce", a, 1)[0]; o["offset"] != 0.0 || a.Map()["value_schema_id"] != nil {
		t.Fatalf("text produce: %s", a)
	}
	expect(t, "text not a string", call(t, "POST", n.URL+"/topics/rt-text", `{"records":[{"value":{"a":1}}]}`, ctText, ""), 422, ctV2, 42203)
	if r := readAll(t, n.Bootstrap, "rt-text", 1)[0]; string(r.Key) != "k" || string(r.Value) != "héllo <b>" {
		t.Fatalf("text record: %q %q", r.Key, r.Value)
	}
	produceFranz(t, n.Bootstrap, &kgo.Record{Topic: "rt-text", Value: []byte{0xff, 0xfe}})
	base := newConsumer(t, n.URL, "g-text", `{"format":"text","auto.offset.reset":"earliest"}`)
	call(t, "POST", base+"/subscription", `{"topics":["rt-text"]}`, ctV2, "")
	if r := readRecords(t, base, ctText, 1)[0]; r["key"] != "k" || r["value"] != "héllo <b>" {
		t.Fatalf("text read back: %v", r)
	}
	var bad answer
	for i := 0; i < 10; i++ {
		if bad = call(t, "GET", base+"/records?timeout=2000", "", "", ctText); bad.Status != 200 {
			break
		}
	}
	expect(t, "text not UTF-8", bad, 422, ctV2, 0)

	// The schema ids the answers named are registered under <topic>-value.
	a = call(t, "GET", n.Registry+"/subjects/rt-protobuf-value/versions/1", "", "", "")
	if a.Map()["schemaType"] != "PROTOBUF" || a.Map()["id"] == nil {
		t.Fatalf("rt-protobuf-value: %s", a)
	}
}
