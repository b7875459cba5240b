package restproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// moduleRoot finds the module root (the directory holding go.mod).
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// requireDep fails the test under CI when a dependency that make deps
// installs is missing, and skips it elsewhere (as test/compat and
// test/registry do).
func requireDep(t testing.TB, what string, err error, install string) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s unavailable in CI (%s should have installed it): %v", what, install, err)
	}
	t.Skipf("%s unavailable (run %s): %v", what, install, err)
}

// runDriver runs an external program with a deadline and returns its
// stdout; a non-zero exit fails the test with its stderr.
func runDriver(t testing.TB, stdin []byte, env []string, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstderr:\n%s\nstdout:\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String(), stdout.String())
	}
	return stdout.Bytes()
}

// restPython returns the compat venv's interpreter (make deps-python, or
// SAMSA_COMPAT_PYTHON) after checking confluent-kafka 2.16.1 and its
// three Schema Registry serdes import.
func restPython(t testing.TB) string {
	t.Helper()
	clustertest.SkipInShort(t, "runs the Python confluent-kafka drivers")
	python := os.Getenv("SAMSA_COMPAT_PYTHON")
	if python == "" {
		python = filepath.Join(moduleRoot(t), ".cache", "venv", "bin", "python")
	}
	_, err := os.Stat(python)
	if err == nil {
		var out []byte
		out, err = exec.Command(python, "-c", `import confluent_kafka
import confluent_kafka.schema_registry.avro, confluent_kafka.schema_registry.protobuf, confluent_kafka.schema_registry.json_schema
assert confluent_kafka.__version__ == "2.16.1", confluent_kafka.__version__`).CombinedOutput()
		if err != nil {
			err = fmt.Errorf("%v: %s", err, out)
		}
	}
	requireDep(t, "Python confluent-kafka[avro,json,protobuf,schemaregistry] 2.16.1", err, "make deps-python")
	return python
}

// pyRecord is one line of rest_serde.py: a record it read or produced.
type pyRecord struct {
	Partition int32 `json:"partition"`
	Offset    int64 `json:"offset"`
	Key       any   `json:"key"`
	Value     any   `json:"value"`
}

// restSerde runs test/restproxy/python/rest_serde.py and decodes its lines.
func restSerde(t testing.TB, python, cmd string, n *restNode, topic, format string, count int) []pyRecord {
	t.Helper()
	script := filepath.Join(moduleRoot(t), "test", "restproxy", "python", "rest_serde.py")
	out := runDriver(t, nil, nil, python, script, cmd, n.Bootstrap, n.Registry, topic, format, strconv.Itoa(count))
	var recs []pyRecord
	for _, line := range bytes.Split(out, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r pyRecord
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("rest_serde.py line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	if len(recs) != count {
		t.Fatalf("rest_serde.py %s %s: %d records, want %d", cmd, format, len(recs), count)
	}
	return recs
}

// The Go side's schemas of Reading (rest_serde.py has the same shapes;
// the Protobuf text puts Reading first, so v2 produces message index [0]).
const (
	restAvroSchema = `{"type":"record","name":"Reading","namespace":"samsa.rest","fields":[
 {"name":"name","type":"string"},{"name":"id","type":"long"},{"name":"score","type":"double"},
 {"name":"ok","type":"boolean"},{"name":"tags","type":{"type":"array","items":"string"}},
 {"name":"origin","type":{"type":"record","name":"Origin","fields":[{"name":"lang","type":"string"}]}},
 {"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B","C"]}},
 {"name":"note","type":["null","string"],"default":null},{"name":"blob","type":"bytes"}]}`
	restJSONSchema = `{"$schema":"http://json-schema.org/draft-07/schema#","title":"Reading","type":"object",
 "properties":{"name":{"type":"string"},"id":{"type":"integer"},"score":{"type":"number"},"ok":{"type":"boolean"},
 "tags":{"type":"array","items":{"type":"string"}},"origin":{"type":"object","properties":{"lang":{"type":"string"}},"required":["lang"]},
 "kind":{"type":"string","enum":["A","B","C"]},"note":{"type":["null","string"]}},
 "required":["name","id","score","ok","tags","origin","kind"]}`
	restProtoSchema = `syntax = "proto3";
package samsa.rest;
message Reading {
  string name = 1;
  int64 id = 2;
  double score = 3;
  bool ok = 4;
  repeated string tags = 5;
  Origin origin = 6;
  Kind kind = 7;
}
message Origin { string lang = 1; }
enum Kind { A = 0; B = 1; C = 2; }
`
)

// goReading is record i as Go produces it, in the plain form (unions
// unwrapped, Avro bytes as a string of code points 0-255) for format
// avro, json or protobuf.
func goReading(i int, format string) map[string]any {
	r := map[string]any{
		"name":   fmt.Sprintf("go-%d", i),
		"id":     float64(int64(i)*10_000_000_000 + 3),
		"score":  float64(i) + 0.25,
		"ok":     i%2 == 0,
		"tags":   []any{},
		"origin": map[string]any{"lang": "go"},
		"kind":   []string{"A", "B", "C"}[i%3],
	}
	for j := 0; j < i%3; j++ {
		r["tags"] = append(r["tags"].([]any), fmt.Sprintf("g%d", j))
	}
	if format != "protobuf" {
		r["note"] = nil
		if i%2 == 0 {
			r["note"] = fmt.Sprintf("note %d ü", i)
		}
	}
	if format == "avro" {
		r["blob"] = string([]rune{rune(i % 256), 0, 255})
	}
	return r
}

// avroJSONOf is a plain Reading in Avro-JSON: the note union wrapped.
func avroJSONOf(plain map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range plain {
		out[k] = v
	}
	if s, ok := plain["note"].(string); ok {
		out["note"] = map[string]any{"string": s}
	}
	return out
}

// plainOf turns a value the v2 consumer returned in format into the plain
// form: Avro unions unwrapped, Protobuf's int64 strings as numbers.
func plainOf(t testing.TB, format string, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s value %v is not an object", format, v)
	}
	out := map[string]any{}
	for k, x := range m {
		out[k] = x
	}
	if u, ok := out["note"].(map[string]any); ok && format == "avro" {
		if len(u) != 1 || u["string"] == nil {
			t.Fatalf("avro note union %v", u)
		}
		out["note"] = u["string"]
	}
	if s, ok := out["id"].(string); ok && format == "protobuf" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("protobuf id %q: %v", s, err)
		}
		out["id"] = f
	}
	return out
}

// sameJSON compares two values as JSON (numbers as float64).
func sameJSON(t testing.TB, a, b any) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(mustJSON(t, a)), &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(mustJSON(t, b)), &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

// restFormats are the three schema formats: rest_serde.py's name, the v2
// consumer's format and content type, and the Go side's schema.
var restFormats = []struct{ py, v2, v3, ct, schema string }{
	{"avro", "avro", "AVRO", ctAvro, restAvroSchema},
	{"json", "jsonschema", "JSONSCHEMA", ctJSONSch, restJSONSchema},
	{"protobuf", "protobuf", "PROTOBUF", ctProtobuf, restProtoSchema},
}

// v3Extra is how many records TestPythonDecodesV2Records also produces
// through v3.
const v3Extra = 4

// TestPythonDecodesV2Records: records produced through v2 in avro (with a
// "string" key), jsonschema and protobuf, the first half with inline
// schemas and the second by the ids the first answer gave, and four more
// through v3 (AVRO, JSONSCHEMA, PROTOBUF; two inline, two by schema_id,
// one streaming request), are decoded by
// confluent-kafka's AvroDeserializer, JSONDeserializer and
// ProtobufDeserializer (DeserializingConsumer, fetching the schemas from
// the node's registry) with every field equal to what was sent.
func TestPythonDecodesV2Records(t *testing.T) {
	python := restPython(t)
	n := startRESTNode(t)
	const count = 10
	for _, f := range restFormats {
		topic := "to-python-" + f.py
		createTopic(t, n.Bootstrap, topic, 2, nil)
		want := map[string]map[string]any{}
		var ids [2]any
		for half := 0; half < 2; half++ {
			body := map[string]any{}
			if half == 0 {
				body["value_schema"] = f.schema
			} else {
				body["value_schema_id"] = ids[1]
			}
			if f.py == "avro" {
				if half == 0 {
					body["key_schema"] = `"string"`
				} else {
					body["key_schema_id"] = ids[0]
				}
			}
			var recs []any
			for i := half * count / 2; i < (half+1)*count/2; i++ {
				plain := goReading(i, f.py)
				want[plain["name"].(string)] = plain
				rec := map[string]any{"value": plain}
				if f.py == "avro" {
					rec = map[string]any{"key": fmt.Sprintf("k%d", i), "value": avroJSONOf(plain)}
				} else {
					rec["partition"] = i % 2
				}
				recs = append(recs, rec)
			}
			body["records"] = recs
			a := call(t, "POST", n.URL+"/topics/"+topic, mustJSON(t, body), f.ct, "")
			offsetsOf(t, f.v2+" produce", a, count/2)
			if a.Map()["value_schema_id"] == nil || (f.py == "avro") != (a.Map()["key_schema_id"] != nil) {
				t.Fatalf("%s produce: schema ids in %s", f.v2, a)
			}
			if half == 0 {
				ids = [2]any{a.Map()["key_schema_id"], a.Map()["value_schema_id"]}
			} else if a.Map()["value_schema_id"] != ids[1] || a.Map()["key_schema_id"] != ids[0] {
				t.Fatalf("%s by id: ids %v, first answer %v", f.v2, a, ids)
			}
		}
		// Through v3: two records with the schema inline, two by id.
		cid := clusterID(t, n.URL)
		var v3body strings.Builder
		for i := count; i < count+v3Extra; i++ {
			plain := goReading(i, f.py)
			want[plain["name"].(string)] = plain
			value := map[string]any{"type": f.v3}
			if i%2 == 0 {
				value["schema"] = f.schema
			} else {
				value["schema_id"] = ids[1]
			}
			rec := map[string]any{"value": value}
			if f.py == "avro" {
				value["data"] = avroJSONOf(plain)
				key := map[string]any{"type": "AVRO", "data": fmt.Sprintf("k%d", i)}
				if i%2 == 0 {
					key["schema"] = `"string"`
				} else {
					key["schema_id"] = ids[0]
				}
				rec["key"] = key
			} else {
				value["data"] = plain
				rec["partition_id"] = i % 2
			}
			v3body.WriteString(mustJSON(t, rec))
		}
		a := call(t, "POST", n.URL+"/v3/clusters/"+cid+"/topics/"+topic+"/records", v3body.String(), "application/json", "")
		if a.Status != 200 || bytes.Count(a.Body, []byte(`"error_code":200`)) != v3Extra {
			t.Fatalf("%s v3 produce: %s", f.v3, a)
		}
		got := restSerde(t, python, "consume", n, topic, f.py, count+v3Extra)
		for _, r := range got {
			m, _ := r.Value.(map[string]any)
			name, _ := m["name"].(string)
			w, ok := want[name]
			if !ok {
				t.Fatalf("%s: Python read an unexpected or duplicate record %v", f.py, r)
			}
			delete(want, name)
			if !sameJSON(t, m, w) {
				t.Fatalf("%s: Python decoded %s, v2 sent %s", f.py, mustJSON(t, m), mustJSON(t, w))
			}
			var i int
			fmt.Sscanf(name, "go-%d", &i)
			wantKey := any(nil)
			if f.py == "avro" {
				wantKey = fmt.Sprintf("k%d", i)
			}
			if r.Key != wantKey {
				t.Fatalf("%s: key %v, want %v", f.py, r.Key, wantKey)
			}
		}
		t.Logf("%s: Python's deserializer decoded %d v2 and v3 records (schema ids %v)", f.py, len(got), ids)
	}
}

// TestV2ReadsPythonRecords: the reverse. confluent-kafka's
// SerializingProducer writes records with its Avro (and an Avro "string"
// key), JSON Schema and Protobuf serializers (Protobuf's Reading is the
// second message of its file: message index [1]); a v2 consumer instance
// in the matching format reads them back with every field equal.
func TestV2ReadsPythonRecords(t *testing.T) {
	python := restPython(t)
	n := startRESTNode(t)
	const count = 10
	for _, f := range restFormats {
		topic := "from-python-" + f.py
		createTopic(t, n.Bootstrap, topic, 1, nil)
		sent := restSerde(t, python, "produce", n, topic, f.py, count)
		base := newConsumer(t, n.URL, "g-python-"+f.py, `{"format":"`+f.v2+`","auto.offset.reset":"earliest"}`)
		if a := call(t, "POST", base+"/subscription", `{"topics":["`+topic+`"]}`, ctV2, ""); a.Status != 204 {
			t.Fatalf("%s subscribe: %s", f.v2, a)
		}
		got := readRecords(t, base, f.ct, count)
		byOffset := map[int64]pyRecord{}
		for _, s := range sent {
			byOffset[s.Offset] = s
		}
		for _, r := range got {
			off := int64(r["offset"].(float64))
			s, ok := byOffset[off]
			if !ok {
				t.Fatalf("%s: v2 read offset %d twice or never produced: %v", f.v2, off, r)
			}
			delete(byOffset, off)
			if v := plainOf(t, f.py, r["value"]); !sameJSON(t, v, s.Value) {
				t.Fatalf("%s offset %d: v2 read %s, Python sent %s", f.v2, off, mustJSON(t, r["value"]), mustJSON(t, s.Value))
			}
			if r["key"] != s.Key {
				t.Fatalf("%s offset %d: key %v, Python sent %v", f.v2, off, r["key"], s.Key)
			}
		}
		if a := call(t, "DELETE", base, "", ctV2, ""); a.Status != 204 {
			t.Fatalf("delete consumer: %s", a)
		}
		t.Logf("%s: the v2 consumer read %d records Python's serializer wrote", f.v2, len(got))
	}
}
