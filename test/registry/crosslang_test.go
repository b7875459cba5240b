package registry

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/bufbuild/protocompile"
	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// Records cross languages here: Python's serializers write them, franz-go's
// sr.Serde and npm's @confluentinc/schemaregistry read them, and the Go side
// writes records (sr.Serde with ids the registry gave) that Python's
// DeserializingConsumer reads. Every reader is checked field by field
// against reading(i, lang), which test/registry/python/serde.py mirrors.

// reading is the record every driver writes and prints.
type reading struct {
	Name   string   `avro:"name" json:"name"`
	ID     int64    `avro:"id" json:"id"`
	Score  float64  `avro:"score" json:"score"`
	OK     bool     `avro:"ok" json:"ok"`
	Tags   []string `avro:"tags" json:"tags"`
	Origin origin   `avro:"origin" json:"origin"`
	Kind   string   `avro:"kind" json:"kind"`
}

type origin struct {
	Lang string `avro:"lang" json:"lang"`
}

var readingKinds = []string{"A", "B", "C"}

// wantReading is record i of a producer in language lang (serde.py's
// reading).
func wantReading(i int, lang string) reading {
	return reading{
		Name:   fmt.Sprintf("reading-%d", i),
		ID:     int64(i)*10_000_000_000 + 7,
		Score:  float64(i) + 0.25,
		OK:     i%2 == 0,
		Tags:   []string{fmt.Sprintf("t%d", i), "x"},
		Origin: origin{Lang: lang},
		Kind:   readingKinds[i%3],
	}
}

// serdeFormats are the three formats and their registry schema types.
var serdeFormats = []struct{ name, schemaType string }{
	{"avro", "AVRO"},
	{"protobuf", "PROTOBUF"},
	{"json", "JSON"},
}

// The Go producer's schemas: the same record as serde.py's.
const (
	goAvroSchema = `{"type":"record","name":"Reading","namespace":"samsa.test","fields":[
{"name":"name","type":"string"},{"name":"id","type":"long"},{"name":"score","type":"double"},
{"name":"ok","type":"boolean"},{"name":"tags","type":{"type":"array","items":"string"}},
{"name":"origin","type":{"type":"record","name":"Origin","fields":[{"name":"lang","type":"string"}]}},
{"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B","C"]}}]}`
	goProtoSchema = `syntax = "proto3";
package samsa.test;

message Origin {
  string lang = 1;
}

message Reading {
  string name = 1;
  int64 id = 2;
  double score = 3;
  bool ok = 4;
  repeated string tags = 5;
  Origin origin = 6;
  Kind kind = 7;
}

enum Kind {
  A = 0;
  B = 1;
  C = 2;
}
`
	goJSONSchema = `{"$schema":"http://json-schema.org/draft-07/schema#","title":"Reading","type":"object",
"properties":{"name":{"type":"string"},"id":{"type":"integer"},"score":{"type":"number"},"ok":{"type":"boolean"},
"tags":{"type":"array","items":{"type":"string"}},"origin":{"type":"object","properties":{"lang":{"type":"string"}},"required":["lang"]},
"kind":{"type":"string","enum":["A","B","C"]}},"required":["name","id","score","ok","tags","origin","kind"]}`
)

const serdeRecords = 5

// createTopic1 creates a topic with one partition.
func createTopic1(t testing.TB, n *node, topic string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(n.Client(t)).CreateTopic(ctx, 1, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// fetchValues reads the first count record values of partition 0 with
// franz-go, as raw bytes.
func fetchValues(t testing.TB, n *node, topic string, count int) [][]byte {
	t.Helper()
	cl := n.Client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var vals [][]byte
	for len(vals) < count {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("fetch %s: %d of %d records: %v", topic, len(vals), count, err)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatalf("fetch %s: %v", topic, err) })
		fs.EachRecord(func(r *kgo.Record) { vals = append(vals, r.Value) })
	}
	return vals[:count]
}

// pythonProduce writes count records with serde.py's SerializingProducer.
func pythonProduce(t testing.TB, python string, n *node, topic, format string, count int) {
	t.Helper()
	script := filepath.Join(clientsRoot(t), "test", "registry", "python", "serde.py")
	out := runDriver(t, nil, nil, python, script, "produce", n.Addr, n.URL, topic, format, strconv.Itoa(count))
	acks := jsonLines[struct {
		Partition int32
		Offset    int64
		Key       string
	}](t, out)
	if len(acks) != count {
		t.Fatalf("python produced %d deliveries, want %d", len(acks), count)
	}
	for i, a := range acks {
		if a.Partition != 0 || a.Offset != int64(i) || a.Key != fmt.Sprintf("k%d", i) {
			t.Errorf("python delivery %d: %+v", i, a)
		}
	}
}

// pythonConsume reads count records with serde.py's DeserializingConsumer.
func pythonConsume(t testing.TB, python string, n *node, topic, format string, count int) []reading {
	t.Helper()
	script := filepath.Join(clientsRoot(t), "test", "registry", "python", "serde.py")
	out := runDriver(t, nil, nil, python, script, "consume", n.Addr, n.URL, topic, format, strconv.Itoa(count))
	recs := jsonLines[struct {
		Offset int64
		Key    string
		Value  reading
	}](t, out)
	var got []reading
	for i, r := range recs {
		if r.Offset != int64(i) || r.Key != fmt.Sprintf("k%d", i) {
			t.Errorf("python consumed record %d at offset %d with key %q", i, r.Offset, r.Key)
		}
		got = append(got, r.Value)
	}
	return got
}

// checkReadings compares decoded records with wantReading(i, lang).
func checkReadings(t testing.TB, who string, got []reading, lang string, count int) {
	t.Helper()
	if len(got) != count {
		t.Errorf("%s: %d records, want %d", who, len(got), count)
	}
	for i, g := range got {
		if want := wantReading(i, lang); !eqJSON(g, want) {
			t.Errorf("%s: record %d = %+v, want %+v", who, i, g, want)
		}
	}
}

// checkFraming checks that each value is magic byte 0, the 4-byte id id,
// then (Protobuf) the message indexes of Reading, [1], as Confluent writes
// them (a zigzag varint count, then each index).
func checkFraming(t testing.TB, vals [][]byte, id int, format string) {
	t.Helper()
	for i, v := range vals {
		if len(v) < 5 || v[0] != 0 || int(binary.BigEndian.Uint32(v[1:5])) != id {
			t.Errorf("record %d does not start with magic 0 and id %d: % x", i, id, v[:min(len(v), 8)])
			continue
		}
		if format == "protobuf" && !bytes.HasPrefix(v[5:], []byte{2, 2}) {
			t.Errorf("record %d: Protobuf message indexes % x, want [1] (02 02)", i, v[5:min(len(v), 8)])
		}
	}
}

// latestID returns the id and schema type of subject's latest version.
func latestID(t testing.TB, n *node, subject string) (int, string) {
	t.Helper()
	a := call(t, "GET", n.URL+"/subjects/"+subject+"/versions/latest", "")
	m, _ := a.JSON.(map[string]any)
	id, _ := m["id"].(float64)
	if a.Status != 200 || id <= 0 {
		t.Fatalf("GET %s latest: %d %s", subject, a.Status, a.Body)
	}
	typ, _ := m["schemaType"].(string)
	if typ == "" {
		typ = "AVRO" // Confluent leaves schemaType out for Avro
	}
	return int(id), typ
}

// protoFile compiles a Protobuf schema from the registry with protocompile,
// its references fetched from the registry (google/protobuf imports come
// with protocompile).
func protoFile(t testing.TB, cl *sr.Client, s sr.Schema) protoreflect.FileDescriptor {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srcs := map[string]string{"registry-schema.proto": s.Schema}
	var add func(refs []sr.SchemaReference)
	add = func(refs []sr.SchemaReference) {
		for _, r := range refs {
			if _, ok := srcs[r.Name]; ok {
				continue
			}
			ss, err := cl.SchemaByVersion(ctx, r.Subject, r.Version)
			if err != nil {
				t.Fatalf("reference %s (%s v%d): %v", r.Name, r.Subject, r.Version, err)
			}
			srcs[r.Name] = ss.Schema.Schema
			add(ss.References)
		}
	}
	add(s.References)
	comp := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
		Accessor: protocompile.SourceAccessorFromMap(srcs),
	})}
	files, err := comp.Compile(ctx, "registry-schema.proto")
	if err != nil {
		t.Fatalf("protocompile of the registry's schema: %v\n%s", err, s.Schema)
	}
	return files[0]
}

// readingIndex is the index of samsa.test.Reading among fd's top-level
// messages.
func readingIndex(t testing.TB, fd protoreflect.FileDescriptor) (int, protoreflect.MessageDescriptor) {
	t.Helper()
	for i := 0; i < fd.Messages().Len(); i++ {
		if md := fd.Messages().Get(i); md.FullName() == "samsa.test.Reading" {
			return i, md
		}
	}
	t.Fatalf("no samsa.test.Reading in %s", fd.Path())
	return 0, nil
}

func readingFromProto(m protoreflect.Message) reading {
	f := m.Descriptor().Fields()
	var r reading
	r.Name = m.Get(f.ByName("name")).String()
	r.ID = m.Get(f.ByName("id")).Int()
	r.Score = m.Get(f.ByName("score")).Float()
	r.OK = m.Get(f.ByName("ok")).Bool()
	tags := m.Get(f.ByName("tags")).List()
	for i := 0; i < tags.Len(); i++ {
		r.Tags = append(r.Tags, tags.Get(i).String())
	}
	o := m.Get(f.ByName("origin")).Message()
	r.Origin.Lang = o.Get(o.Descriptor().Fields().ByName("lang")).String()
	kind := f.ByName("kind")
	if v := kind.Enum().Values().ByNumber(m.Get(kind).Enum()); v != nil {
		r.Kind = string(v.Name())
	}
	return r
}

func readingToProto(md protoreflect.MessageDescriptor, r reading) proto.Message {
	m := dynamicpb.NewMessage(md)
	f := md.Fields()
	m.Set(f.ByName("name"), protoreflect.ValueOfString(r.Name))
	m.Set(f.ByName("id"), protoreflect.ValueOfInt64(r.ID))
	m.Set(f.ByName("score"), protoreflect.ValueOfFloat64(r.Score))
	m.Set(f.ByName("ok"), protoreflect.ValueOfBool(r.OK))
	tags := m.Mutable(f.ByName("tags")).List()
	for _, tag := range r.Tags {
		tags.Append(protoreflect.ValueOfString(tag))
	}
	o := m.Mutable(f.ByName("origin")).Message()
	o.Set(o.Descriptor().Fields().ByName("lang"), protoreflect.ValueOfString(r.Origin.Lang))
	kind := f.ByName("kind")
	m.Set(kind, protoreflect.ValueOfEnum(kind.Enum().Values().ByName(protoreflect.Name(r.Kind)).Number()))
	return m
}

// goDecode decodes values with franz-go's sr.Serde: each id met is
// registered with a decoder built from the schema the registry serves for
// it (hamba/avro, protocompile + dynamicpb at Reading's message index, or
// encoding/json).
func goDecode(t testing.TB, cl *sr.Client, format, schemaType string, vals [][]byte) []reading {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	serde := sr.NewSerde()
	var got []reading
	for i, v := range vals {
		id, _, err := serde.DecodeID(v)
		if err != nil {
			t.Fatalf("record %d: sr header: %v", i, err)
		}
		if !serde.IsRegistered(id) {
			s, err := cl.SchemaByID(ctx, id)
			if err != nil {
				t.Fatalf("sr.Client.SchemaByID(%d): %v", id, err)
			}
			if s.Type.String() != schemaType {
				t.Fatalf("schema %d has type %s, want %s", id, s.Type, schemaType)
			}
			switch format {
			case "avro":
				sch, err := avro.Parse(s.Schema)
				if err != nil {
					t.Fatalf("hamba/avro cannot parse schema %d: %v\n%s", id, err, s.Schema)
				}
				serde.Register(id, reading{}, sr.DecodeFn(func(b []byte, v any) error { return avro.Unmarshal(sch, b, v) }))
			case "protobuf":
				idx, md := readingIndex(t, protoFile(t, cl, s))
				serde.Register(id, reading{}, sr.Index(idx), sr.DecodeFn(func(b []byte, v any) error {
					m := dynamicpb.NewMessage(md)
					if err := proto.Unmarshal(b, m); err != nil {
						return err
					}
					*v.(*reading) = readingFromProto(m)
					return nil
				}))
			case "json":
				var doc map[string]any
				if err := json.Unmarshal([]byte(s.Schema), &doc); err != nil || doc["title"] != "Reading" {
					t.Fatalf("JSON schema %d: %v %s", id, err, s.Schema)
				}
				serde.Register(id, reading{}, sr.DecodeFn(json.Unmarshal))
			}
		}
		var r reading
		if err := serde.Decode(v, &r); err != nil {
			t.Fatalf("sr.Serde.Decode of record %d (% x): %v", i, v[:min(len(v), 12)], err)
		}
		got = append(got, r)
	}
	return got
}

// goProduce registers the Go side's schema for format under topic-value
// with sr.Client, encodes count records with sr.Serde under the id it got,
// and produces them with kgo. It returns the id.
func goProduce(t testing.TB, n *node, cl *sr.Client, topic, format string, count int) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	serde := sr.NewSerde()
	var s sr.Schema
	switch format {
	case "avro":
		s = sr.Schema{Schema: goAvroSchema, Type: sr.TypeAvro}
	case "protobuf":
		s = sr.Schema{Schema: goProtoSchema, Type: sr.TypeProtobuf}
	case "json":
		s = sr.Schema{Schema: goJSONSchema, Type: sr.TypeJSON}
	}
	ss, err := cl.CreateSchema(ctx, topic+"-value", s)
	if err != nil {
		t.Fatalf("sr.Client.CreateSchema(%s-value): %v", topic, err)
	}
	switch format {
	case "avro":
		sch := avro.MustParse(goAvroSchema)
		serde.Register(ss.ID, reading{}, sr.EncodeFn(func(v any) ([]byte, error) { return avro.Marshal(sch, v) }))
	case "protobuf":
		idx, md := readingIndex(t, protoFile(t, cl, s))
		serde.Register(ss.ID, reading{}, sr.Index(idx), sr.EncodeFn(func(v any) ([]byte, error) {
			return proto.Marshal(readingToProto(md, v.(reading)))
		}))
	case "json":
		serde.Register(ss.ID, reading{}, sr.EncodeFn(json.Marshal))
	}
	var recs []*kgo.Record
	for i := range count {
		b, err := serde.Encode(wantReading(i, "go"))
		if err != nil {
			t.Fatalf("sr.Serde.Encode: %v", err)
		}
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(fmt.Sprintf("k%d", i)), Value: b})
	}
	checkFraming(t, func() [][]byte {
		var v [][]byte
		for _, r := range recs {
			v = append(v, r.Value)
		}
		return v
	}(), ss.ID, format)
	if err := n.Client(t).ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	return ss.ID
}

// TestCrossLanguage: records Python's serializers wrote are decoded by
// franz-go's sr.Serde and by npm's @confluentinc/schemaregistry under Node,
// and records sr.Serde wrote are decoded by Python's DeserializingConsumer
// and by the npm package.
func TestCrossLanguage(t *testing.T) {
	t.Parallel()
	python := clientsPython(t)
	nodeJS := clientsNode(t)
	n := startNode(t)
	waitReady(t, n.URL)
	cl, err := sr.NewClient(sr.URLs(n.URL))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range serdeFormats {
		t.Run("python-to-go-and-node/"+f.name, func(t *testing.T) {
			t.Parallel()
			topic := "xl-py-" + f.name
			createTopic1(t, n, topic)
			pythonProduce(t, python, n, topic, f.name, serdeRecords)
			id, typ := latestID(t, n, topic+"-value")
			if typ != f.schemaType {
				t.Errorf("%s-value has schemaType %s, want %s", topic, typ, f.schemaType)
			}
			vals := fetchValues(t, n, topic, serdeRecords)
			checkFraming(t, vals, id, f.name)
			checkReadings(t, "franz-go sr.Serde", goDecode(t, cl, f.name, f.schemaType, vals), "python", serdeRecords)
			checkReadings(t, "npm @confluentinc/schemaregistry", nodeJS.decode(t, n.URL, topic, f.name, vals), "python", serdeRecords)
		})
		t.Run("go-to-python-and-node/"+f.name, func(t *testing.T) {
			t.Parallel()
			topic := "xl-go-" + f.name
			createTopic1(t, n, topic)
			id := goProduce(t, n, cl, topic, f.name, serdeRecords)
			if got, _ := latestID(t, n, topic+"-value"); got != id {
				t.Errorf("%s-value latest id %d, sr.Client got %d", topic, got, id)
			}
			checkReadings(t, "Python DeserializingConsumer", pythonConsume(t, python, n, topic, f.name, serdeRecords), "go", serdeRecords)
			checkReadings(t, "npm @confluentinc/schemaregistry", nodeJS.decode(t, n.URL, topic, f.name, fetchValues(t, n, topic, serdeRecords)), "go", serdeRecords)
		})
	}
}
