package restproxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/samsa-streaming/samsa/internal/clustertest"
	"github.com/samsa-streaming/samsa/internal/registry/schemaproto"
	"github.com/samsa-streaming/samsa/serde/wire"
)

// offsetsOf checks a produce answer and returns its offsets.
func offsetsOf(t testing.TB, what string, a answer, n int) []map[string]any {
	t.Helper()
	expect(t, what, a, 200, ctV2, 0, "offsets", "key_schema_id", "value_schema_id")
	var out []map[string]any
	for _, o := range a.Map()["offsets"].([]any) {
		m := o.(map[string]any)
		for _, k := range []string{"partition", "offset", "error_code", "error"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("%s: offset entry lacks %q: %s", what, k, a)
			}
		}
		out = append(out, m)
	}
	if len(out) != n {
		t.Fatalf("%s: %d offsets, want %d: %s", what, len(out), n, a)
	}
	return out
}

// TestV2ProduceBinaryJSON produces binary and json records, keyed and to
// chosen partitions, and reads them back with franz-go: keyed records are
// where the Java client would put them (murmur2).
func TestV2ProduceBinaryJSON(t *testing.T) {
	bootstrap, url := startNode(t)
	createTopic(t, bootstrap, "keyed", 8, nil)
	createTopic(t, bootstrap, "small", 1, map[string]*string{"max.message.bytes": ptr("200")})

	var recs []map[string]any
	for i := 0; i < 200; i++ {
		recs = append(recs, map[string]any{"key": b64(fmt.Sprintf("key-%d", i)), "value": b64(fmt.Sprintf("value-%d", i))})
	}
	a := call(t, "POST", url+"/topics/keyed", mustJSON(t, map[string]any{"records": recs}), ctBinary, "")
	offs := offsetsOf(t, "binary keyed", a, 200)
	if a.Map()["key_schema_id"] != nil || a.Map()["value_schema_id"] != nil {
		t.Fatalf("binary: schema ids not null: %s", a)
	}
	for i, o := range offs {
		want := clustertest.KeyPartition([]byte(fmt.Sprintf("key-%d", i)), 8)
		if o["partition"] != float64(want) || o["error_code"] != nil {
			t.Fatalf("record %d: %v, want partition %d", i, o, want)
		}
	}

	// json: keys are their JSON text, partitioned the same way.
	a = call(t, "POST", url+"/topics/keyed", `{"records":[{"key":"k1","value":{"a":[1, 2]}},{"key":{"id": 7},"value":null},{"value":"plain"}]}`, ctJSON, "")
	offs = offsetsOf(t, "json", a, 3)
	if offs[0]["partition"] != float64(clustertest.KeyPartition([]byte(`"k1"`), 8)) ||
		offs[1]["partition"] != float64(clustertest.KeyPartition([]byte(`{"id":7}`), 8)) {
		t.Fatalf("json keyed partitions: %v", offs)
	}

	// Chosen partitions: in the record and in the path.
	a = call(t, "POST", url+"/topics/keyed", `{"records":[{"key":"`+b64("x")+`","value":"`+b64("p5")+`","partition":5}]}`, ctBinary, "")
	if o := offsetsOf(t, "record partition", a, 1)[0]; o["partition"] != 5.0 {
		t.Fatalf("record partition: %v", o)
	}
	a = call(t, "POST", url+"/topics/keyed/partitions/6", `{"records":[{"key":"`+b64("x")+`","value":"`+b64("p6")+`"}]}`, ctBinary, "")
	if o := offsetsOf(t, "path partition", a, 1)[0]; o["partition"] != 6.0 {
		t.Fatalf("path partition: %v", o)
	}

	got := readAll(t, bootstrap, "keyed", 205)
	byValue := map[string]int32{}
	for _, r := range got {
		byValue[string(r.Value)] = r.Partition
		if r.Key != nil && !strings.HasPrefix(string(r.Value), "p") && r.Partition != clustertest.KeyPartition(r.Key, 8) {
			t.Fatalf("record %q/%q in partition %d, Java would use %d", r.Key, r.Value, r.Partition, clustertest.KeyPartition(r.Key, 8))
		}
	}
	if byValue["p5"] != 5 || byValue["p6"] != 6 {
		t.Fatalf("chosen partitions: %v %v", byValue["p5"], byValue["p6"])
	}
	if _, ok := byValue[`{"a":[1,2]}`]; !ok {
		t.Fatalf("json value not stored compact: %v", byValue)
	}
	if _, ok := byValue[`"plain"`]; !ok {
		t.Fatalf("json string value not stored as JSON text")
	}

	// kcat (librdkafka) reads the same records in the same partitions.
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatalf("kcat (Debian package kcat) is needed: %v", err)
	}
	out, err := exec.Command(kcat, "-b", bootstrap, "-C", "-t", "keyed", "-e", "-q", "-J").Output()
	if err != nil {
		t.Fatalf("kcat: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 205 {
		t.Fatalf("kcat read %d records, want 205", len(lines))
	}
	for _, l := range lines {
		var kr struct {
			Partition int32   `json:"partition"`
			Key       *string `json:"key"`
			Payload   string  `json:"payload"`
		}
		if err := json.Unmarshal([]byte(l), &kr); err != nil {
			t.Fatalf("kcat line %q: %v", l, err)
		}
		if byValue[kr.Payload] != kr.Partition {
			t.Fatalf("kcat: %q in partition %d, franz-go saw %d", kr.Payload, kr.Partition, byValue[kr.Payload])
		}
	}

	// A record Kafka refuses as too large: per record 40002, as Confluent.
	// (random bytes: the producer compresses)
	noise := make([]byte, 1000)
	rand.New(rand.NewSource(1)).Read(noise)
	a = call(t, "POST", url+"/topics/small", `{"records":[{"value":"`+b64(string(noise))+`"}]}`, ctBinary, "")
	if o := offsetsOf(t, "too large", a, 1)[0]; o["error_code"] != 40002.0 || o["error"] == nil || o["offset"] != nil {
		t.Fatalf("too large record: %v", o)
	}

	// A slow client (1 byte/s) gets 408 once the body read times out
	// (30 s); meanwhile the 50003 case below waits as long.
	slow := make(chan string, 1)
	go func() { slow <- slowClient(url, "/topics/keyed") }() // received below

	// A retriable error that outlasts the produce timeout (30 s): the
	// topic wants two in-sync replicas of one; per record 50003.
	createTopic(t, bootstrap, "isr", 1, map[string]*string{"min.insync.replicas": ptr("2")})
	a = call(t, "POST", url+"/topics/isr", `{"records":[{"value":"`+b64("x")+`"}]}`, ctBinary, "")
	if o := offsetsOf(t, "not enough replicas", a, 1)[0]; o["error_code"] != 50003.0 || o["error"] == nil {
		t.Fatalf("not enough replicas: %v", o)
	}

	if status := <-slow; !strings.HasPrefix(status, "HTTP/1.1 408") {
		t.Fatalf("slow client: %q", status)
	}

	// A body over the request limit (64 MiB) is 413.
	big := `{"records":[{"value":"` + strings.Repeat("A", 65<<20) + `"}]}`
	req, _ := http.NewRequest("POST", url+"/topics/keyed", strings.NewReader(big))
	req.Header.Set("Content-Type", ctBinary)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("big body: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("big body: %d, want 413", resp.StatusCode)
	}
	// The proxy is still there.
	expect(t, "after big body", call(t, "GET", url+"/brokers", "", "", ""), 200, ctV2, 0, "brokers")
}

func ptr(s string) *string { return &s }

const avroSchema = `{"type":"record","name":"Payment","namespace":"test","fields":[
	{"name":"id","type":"string"},
	{"name":"note","type":["null","string"],"default":null},
	{"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}}]}`

// TestV2ProduceAvro produces Avro-JSON (unions wrapped, decimal bytes)
// with an inline schema and then by id; franz-go reads the framed records
// and goavro decodes them with the schema the registry holds.
func TestV2ProduceAvro(t *testing.T) {
	n := startRESTNode(t)
	createTopic(t, n.Bootstrap, "pay", 2, nil)
	body := mustJSON(t, map[string]any{
		"key_schema":   `"string"`,
		"value_schema": avroSchema,
		"records": []any{
			map[string]any{"key": "a", "value": map[string]any{"id": "1", "note": map[string]any{"string": "hi"}, "amount": "\u0001\u0002"}},
			map[string]any{"key": "b", "value": map[string]any{"id": "2", "note": nil, "amount": "\u0030"}},
		},
	})
	a := call(t, "POST", n.URL+"/topics/pay", body, ctAvro, "")
	offsetsOf(t, "avro inline", a, 2)
	keyID, valueID := a.Map()["key_schema_id"], a.Map()["value_schema_id"]
	if keyID == nil || valueID == nil {
		t.Fatalf("avro: schema ids: %s", a)
	}
	// The schema is registered under pay-value.
	v := call(t, "GET", n.Registry+"/subjects/pay-value/versions/latest", "", "", "")
	if v.Map()["id"] != valueID {
		t.Fatalf("pay-value latest %v, answer value_schema_id %v", v.Map()["id"], valueID)
	}
	// By id.
	body = mustJSON(t, map[string]any{"value_schema_id": valueID, "records": []any{
		map[string]any{"value": map[string]any{"id": "3", "note": map[string]any{"string": "by id"}, "amount": "\u0000"}}}})
	a = call(t, "POST", n.URL+"/topics/pay", body, ctAvro, "")
	offsetsOf(t, "avro by id", a, 1)
	if a.Map()["value_schema_id"] != valueID || a.Map()["key_schema_id"] != nil {
		t.Fatalf("avro by id: %s", a)
	}
	// Unions must be wrapped: a bare string for ["null","string"] is 42205.
	bad := mustJSON(t, map[string]any{"value_schema_id": valueID, "records": []any{
		map[string]any{"value": map[string]any{"id": "4", "note": "bare", "amount": "\u0000"}}}})
	expect(t, "unwrapped union", call(t, "POST", n.URL+"/topics/pay", bad, ctAvro, ""), 422, ctV2, 42205)

	s := call(t, "GET", n.Registry+"/schemas/ids/"+strconv.Itoa(int(valueID.(float64))), "", "", "").Map()["schema"].(string)
	codec, err := goavro.NewCodec(s)
	if err != nil {
		t.Fatal(err)
	}
	notes := map[string]string{}
	for _, r := range readAll(t, n.Bootstrap, "pay", 3) {
		id, payload, err := wire.ParseHeader(r.Value)
		if err != nil || float64(id) != valueID.(float64) {
			t.Fatalf("value header: id %d err %v", id, err)
		}
		native, _, err := codec.NativeFromBinary(payload)
		if err != nil {
			t.Fatal(err)
		}
		txt, _ := codec.TextualFromNative(nil, native)
		var m map[string]any
		json.Unmarshal(txt, &m)
		notes[m["id"].(string)] = string(mustJSON(t, m["note"]))
		if r.Key != nil {
			if kid, kp, err := wire.ParseHeader(r.Key); err != nil || float64(kid) != keyID.(float64) || len(kp) != 2 {
				t.Fatalf("key %x: id %d err %v", r.Key, kid, err)
			}
		}
	}
	if notes["1"] != `{"string":"hi"}` || notes["2"] != "null" || notes["3"] != `{"string":"by id"}` {
		t.Fatalf("notes read back: %v", notes)
	}

	// franz-go's pkg/sr: its client fetches the schema by the id in the
	// record and its Serde decodes the records.
	src, err := sr.NewClient(sr.URLs(n.Registry))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ss, err := src.SchemaByID(ctx, int(valueID.(float64)))
	if err != nil {
		t.Fatal(err)
	}
	srCodec, err := goavro.NewCodec(ss.Schema)
	if err != nil {
		t.Fatal(err)
	}
	var serde sr.Serde
	serde.Register(int(valueID.(float64)), &avroNative{}, sr.DecodeFn(func(b []byte, v any) error {
		native, rest, err := srCodec.NativeFromBinary(b)
		if err == nil && len(rest) > 0 {
			err = fmt.Errorf("%d trailing bytes", len(rest))
		}
		v.(*avroNative).v = native
		return err
	}))
	for _, r := range readAll(t, n.Bootstrap, "pay", 3) {
		var av avroNative
		if err := serde.Decode(r.Value, &av); err != nil {
			t.Fatalf("pkg/sr decode: %v", err)
		}
		if m, ok := av.v.(map[string]any); !ok || m["id"] == nil {
			t.Fatalf("pkg/sr decoded %v", av.v)
		}
	}
}

// avroNative holds a goavro native value for pkg/sr's Serde.
type avroNative struct{ v any }

const protoSchema = `syntax = "proto3";
package test;
message Order {
  string id = 1;
  int32 qty = 2;
  repeated string tags = 3;
}
message Other { string x = 1; }
`

// TestV2ProduceJSONSchemaProtobuf produces jsonschema and protobuf records
// and checks the framing and the payloads read back with franz-go.
func TestV2ProduceJSONSchemaProtobuf(t *testing.T) {
	n := startRESTNode(t)
	createTopic(t, n.Bootstrap, "js", 1, nil)
	createTopic(t, n.Bootstrap, "pb", 1, nil)

	jsSchema := `{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}`
	a := call(t, "POST", n.URL+"/topics/js", mustJSON(t, map[string]any{"value_schema": jsSchema,
		"records": []any{map[string]any{"value": map[string]any{"n": 1}}}}), ctJSONSch, "")
	offsetsOf(t, "jsonschema", a, 1)
	jsID := a.Map()["value_schema_id"]
	expect(t, "jsonschema mismatch", call(t, "POST", n.URL+"/topics/js", mustJSON(t, map[string]any{"value_schema_id": jsID,
		"records": []any{map[string]any{"value": map[string]any{"n": "one"}}}}), ctJSONSch, ""), 422, ctV2, 42205)
	// An avro schema id given to the jsonschema format is refused.
	r := readAll(t, n.Bootstrap, "js", 1)[0]
	id, payload, err := wire.ParseHeader(r.Value)
	if err != nil || float64(id) != jsID.(float64) || string(payload) != `{"n":1}` {
		t.Fatalf("jsonschema record: id %d payload %q err %v", id, payload, err)
	}

	a = call(t, "POST", n.URL+"/topics/pb", mustJSON(t, map[string]any{"value_schema": protoSchema,
		"records": []any{map[string]any{"value": map[string]any{"id": "o1", "qty": 3, "tags": []string{"x", "y"}}}}}), ctProtobuf, "")
	offsetsOf(t, "protobuf", a, 1)
	pbID := a.Map()["value_schema_id"]
	expect(t, "protobuf mismatch", call(t, "POST", n.URL+"/topics/pb", mustJSON(t, map[string]any{"value_schema_id": pbID,
		"records": []any{map[string]any{"value": map[string]any{"qty": "many"}}}}), ctProtobuf, ""), 422, ctV2, 42205)
	expect(t, "protobuf given a jsonschema id", call(t, "POST", n.URL+"/topics/pb", mustJSON(t, map[string]any{"value_schema_id": jsID,
		"records": []any{map[string]any{"value": map[string]any{"id": "x"}}}}), ctProtobuf, ""), 422, ctV2, 42205)

	r = readAll(t, n.Bootstrap, "pb", 1)[0]
	fr, err := wire.Split(r.Value, nil, false)
	if err != nil || float64(fr.Header.ID) != pbID.(float64) {
		t.Fatalf("protobuf header: %v %v", fr.Header, err)
	}
	idx, msg, err := fr.ProtoIndexes()
	if err != nil || len(idx) != 0 && !(len(idx) == 1 && idx[0] == 0) {
		t.Fatalf("protobuf indexes %v %v", idx, err)
	}
	sch, err := schemaproto.New().Parse(protoSchema, nil)
	if err != nil {
		t.Fatal(err)
	}
	md, _ := sch.(*schemaproto.Schema).MessageByIndexes([]int{0})
	m := dynamicpb.NewMessage(md)
	if err := proto.Unmarshal(msg, m); err != nil {
		t.Fatal(err)
	}
	if got := m.Get(md.Fields().ByName("id")).String(); got != "o1" || m.Get(md.Fields().ByName("qty")).Int() != 3 ||
		m.Get(md.Fields().ByName("tags")).List().Len() != 2 {
		t.Fatalf("protobuf message read back: %v", m)
	}
	if !bytes.Equal(r.Value[:5], wire.AppendHeader(nil, int32(pbID.(float64)))) {
		t.Fatalf("protobuf prefix %x", r.Value[:6])
	}
}

// slowClient sends a produce request's body one byte a second and returns
// the status line of the answer ("" and the error if there is none).
func slowClient(url, path string) string {
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		return err.Error()
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: 1000\r\n\r\n", path, ctBinary)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(stop)
	wg.Add(1)
	go func() { // ends at stop or when the connection fails; waited above
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	conn.SetReadDeadline(time.Now().Add(90 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "error: " + err.Error()
	}
	return line
}
