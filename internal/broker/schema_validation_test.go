package broker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/serde/wire"
)

// mapValidator is a SchemaValidator over a fixed set of schemas per
// subject (ids and GUIDs); a payload "decodes" when it is JSON. The
// registry-backed validator takes its place in a node.
type mapValidator struct {
	mu      sync.Mutex
	schemas map[string]map[wire.Header]bool // subject → registered references
	calls   atomic.Int64
}

func newMapValidator() *mapValidator {
	return &mapValidator{schemas: map[string]map[wire.Header]bool{}}
}

func (v *mapValidator) register(subject string, h wire.Header) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.schemas[subject] == nil {
		v.schemas[subject] = map[wire.Header]bool{}
	}
	v.schemas[subject][h] = true
}

func (v *mapValidator) ValidateRecord(_ context.Context, subject string, key bool, data []byte, headers []wire.RecordHeader) error {
	v.calls.Add(1)
	f, err := wire.Split(data, headers, key)
	if err != nil {
		return err
	}
	v.mu.Lock()
	ok := v.schemas[subject][f.Header]
	v.mu.Unlock()
	if !ok {
		return fmt.Errorf("schema %s is not registered under subject %s", f.Header, subject)
	}
	if !json.Valid(f.Payload) {
		return fmt.Errorf("does not decode with schema %s: not JSON", f.Header)
	}
	return nil
}

// framed is payload behind the 5-byte header of schema id.
func framed(id int32, payload string) []byte {
	return append(wire.AppendHeader(nil, id), payload...)
}

// schemaEnv is a stack with a mapValidator, a client and an admin client.
type schemaEnv struct {
	*testStack
	v   *mapValidator
	cl  *kgo.Client
	adm *kadm.Client
}

func newSchemaEnv(t *testing.T, withValidator bool) *schemaEnv {
	t.Helper()
	v := newMapValidator()
	var cfg Config
	if withValidator {
		cfg.SchemaValidator = v
	}
	s := newTestStack(t, cfg)
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &schemaEnv{testStack: s, v: v, cl: cl, adm: kadm.NewClient(cl)}
}

// createTopic creates a one-partition topic with samsa.schema.validation
// set to mode ("" leaves it unset) and waits until it can be produced to.
func (e *schemaEnv) createTopic(t *testing.T, topic, mode string) {
	t.Helper()
	configs := map[string]*string{}
	want := config.SchemaValidationNone
	if mode != "" {
		configs[config.SchemaValidationConfig] = &mode
		want = config.ParseSchemaValidation(mode)
	}
	resp, err := e.adm.CreateTopic(testCtx(t, 20*time.Second), 1, 1, configs, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create %s: %v", topic, err)
	}
	e.partition(t, topic, 0, want)
}

// produceRaw sends batch b to partition 0 of topic in a Produce request of
// the highest version both sides know, and returns the partition's answer.
func (e *schemaEnv) produceRaw(t *testing.T, topic string, b []byte) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic, rt.TopicID = topic, e.ctl.Image().Topics[topic].ID
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = b
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(testCtx(t, 20*time.Second), e.cl)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Topics[0].Partitions[0]
}

// fetchRaw returns the stored batch bytes of partition 0 of topic from
// offset.
func (e *schemaEnv) fetchRaw(t *testing.T, topic string, offset int64) []byte {
	t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID, req.MaxWaitMillis, req.MinBytes, req.MaxBytes = -1, 0, 1, 50<<20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = topic, e.ctl.Image().Topics[topic].ID
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.FetchOffset, rp.PartitionMaxBytes, rp.LogStartOffset, rp.CurrentLeaderEpoch = offset, 50<<20, -1, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(testCtx(t, 20*time.Second), e.cl)
	if err != nil {
		t.Fatal(err)
	}
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != 0 {
		t.Fatalf("fetch: %v", kerr.ErrorForCode(p.ErrorCode))
	}
	return p.RecordBatches
}

// build is batch.Build for the test: a plain producer's batch, timestamped
// now.
func build(t *testing.T, codec batch.Codec, recs []batch.Record) []byte {
	t.Helper()
	b, err := batch.Build(codec, recs, batch.BuildOptions{BaseTimestamp: time.Now().UnixMilli()})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var allTestCodecs = []batch.Codec{batch.CodecNone, batch.CodecGzip, batch.CodecSnappy, batch.CodecLZ4, batch.CodecZstd}

// A batch with one record that fails is refused whole with
// INVALID_RECORD, naming the record; nothing is appended. Valid batches,
// compressed or not, are stored byte for byte as produced.
func TestSchemaValidationProduceRaw(t *testing.T) {
	e := newSchemaEnv(t, true)
	e.v.register("orders-value", wire.IDHeader(1))
	e.createTopic(t, "orders", "value")
	part := e.partition(t, "orders", 0, config.SchemaValidationValue)

	big := `{"blob":"` + strings.Repeat("x", 100<<10) + `"}` // larger than the validation window
	for _, codec := range allTestCodecs {
		recs := make([]batch.Record, 5)
		for i := range recs {
			recs[i] = batch.Record{Key: fmt.Appendf(nil, "k%d", i), Value: framed(1, fmt.Sprintf(`{"n":%d}`, i))}
		}
		recs[1].Value = framed(1, big)
		recs[3].Value = framed(17, `{"n":3}`)
		leo := part.LogEndOffset()
		sp := e.produceRaw(t, "orders", build(t, codec, recs))
		wantMsg := "record 3 of the batch: value: schema id 17 is not registered under subject orders-value"
		if sp.ErrorCode != kerr.InvalidRecord.Code || sp.ErrorMessage == nil || *sp.ErrorMessage != wantMsg {
			t.Fatalf("%s: error %v, message %v", codec, kerr.ErrorForCode(sp.ErrorCode), deref(sp.ErrorMessage))
		}
		if len(sp.ErrorRecords) != 1 || sp.ErrorRecords[0].RelativeOffset != 3 ||
			deref(sp.ErrorRecords[0].ErrorMessage) != "value: schema id 17 is not registered under subject orders-value" {
			t.Fatalf("%s: record errors %+v", codec, sp.ErrorRecords)
		}
		if sp.BaseOffset != -1 || part.LogEndOffset() != leo {
			t.Fatalf("%s: base offset %d, log end %d (was %d): the refused batch was appended", codec, sp.BaseOffset, part.LogEndOffset(), leo)
		}

		recs[3].Value = framed(1, `{"n":3}`)
		good := build(t, codec, recs)
		sp = e.produceRaw(t, "orders", good)
		if sp.ErrorCode != 0 || sp.BaseOffset != leo {
			t.Fatalf("%s: valid batch: %v (%s), base offset %d", codec, kerr.ErrorForCode(sp.ErrorCode), deref(sp.ErrorMessage), sp.BaseOffset)
		}
		stored := e.fetchRaw(t, "orders", leo)
		// Only the base offset and the partition leader epoch, before
		// the CRC-covered range, are the broker's.
		if len(stored) != len(good) || !bytes.Equal(stored[8:12], good[8:12]) || !bytes.Equal(stored[16:], good[16:]) {
			t.Fatalf("%s: stored batch (%d bytes) differs from the produced one (%d bytes)", codec, len(stored), len(good))
		}
	}
}

// The checks of a key, a null key or value, a payload that does not
// decode, and both parts at once.
func TestSchemaValidationRecordRules(t *testing.T) {
	e := newSchemaEnv(t, true)
	e.v.register("keyed-key", wire.IDHeader(5))
	e.v.register("both-key", wire.IDHeader(5))
	e.v.register("both-value", wire.IDHeader(6))
	e.createTopic(t, "keyed", "key")
	e.createTopic(t, "both", "both")
	for _, tc := range []struct {
		topic string
		recs  []batch.Record
		msg   string // "" for accepted
	}{
		{"keyed", []batch.Record{{Key: framed(5, `"a"`), Value: []byte("anything")}, {Key: framed(5, `"b"`)}}, ""},
		{"keyed", []batch.Record{{Key: framed(5, `"a"`)}, {Value: framed(5, `"b"`)}},
			"record 1 of the batch: key: null, but the topic's keys are validated against subject keyed-key"},
		{"keyed", []batch.Record{{Key: framed(6, `"a"`)}}, "record 0 of the batch: key: schema id 6 is not registered under subject keyed-key"},
		{"keyed", []batch.Record{{Key: []byte(`"plain"`)}}, "record 0 of the batch: key: wire: unknown magic byte: 0x22 (a schema registry header starts with 0x00, or 0x01 before a GUID)"},
		{"keyed", []batch.Record{{Key: []byte{0, 0, 5}}}, "record 0 of the batch: key: wire: too short for a schema registry header: a schema id header takes 5 bytes, have 3"},
		{"keyed", []batch.Record{{Key: framed(5, `{"a":`)}}, "record 0 of the batch: key: does not decode with schema id 5: not JSON"},
		{"both", []batch.Record{{Key: framed(5, `1`), Value: framed(6, `2`)}}, ""},
		{"both", []batch.Record{{Key: framed(5, `1`), Value: framed(6, `2`)}, {Key: framed(5, `1`)}},
			"record 1 of the batch: value: null, but the topic's values are validated against subject both-value"},
		{"both", []batch.Record{{Key: framed(6, `1`), Value: framed(6, `2`)}}, "record 0 of the batch: key: schema id 6 is not registered under subject both-key"},
	} {
		sp := e.produceRaw(t, tc.topic, build(t, batch.CodecLZ4, tc.recs))
		switch {
		case tc.msg == "" && sp.ErrorCode != 0:
			t.Errorf("%s %v: %v (%s)", tc.topic, tc.recs, kerr.ErrorForCode(sp.ErrorCode), deref(sp.ErrorMessage))
		case tc.msg != "" && (sp.ErrorCode != kerr.InvalidRecord.Code || deref(sp.ErrorMessage) != tc.msg):
			t.Errorf("%s: got %v %q, want INVALID_RECORD %q", tc.topic, kerr.ErrorForCode(sp.ErrorCode), deref(sp.ErrorMessage), tc.msg)
		}
	}
}

// A schema named in the __value_schema_id record header, by GUID as
// Confluent's serializers write it, frames a bare payload.
func TestSchemaValidationRecordHeader(t *testing.T) {
	e := newSchemaEnv(t, true)
	guid, _ := wire.ParseGUID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
	e.v.register("events-value", wire.GUIDHeader(guid))
	e.createTopic(t, "events", "value")
	hdr := func(g wire.GUID) []batch.RecordHeader {
		return []batch.RecordHeader{{Key: "trace", Value: []byte("t")}, {Key: wire.ValueSchemaIDHeader, Value: wire.GUIDHeader(g).AppendTo(nil)}}
	}
	sp := e.produceRaw(t, "events", build(t, batch.CodecZstd, []batch.Record{{Value: []byte(`{"ok":true}`), Headers: hdr(guid)}}))
	if sp.ErrorCode != 0 {
		t.Fatalf("registered GUID: %v (%s)", kerr.ErrorForCode(sp.ErrorCode), deref(sp.ErrorMessage))
	}
	other := guid
	other[15] = 0
	sp = e.produceRaw(t, "events", build(t, batch.CodecZstd, []batch.Record{{Value: []byte(`{"ok":true}`), Headers: hdr(other)}}))
	want := "record 0 of the batch: value: schema guid 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e100 is not registered under subject events-value"
	if sp.ErrorCode != kerr.InvalidRecord.Code || deref(sp.ErrorMessage) != want {
		t.Fatalf("unregistered GUID: %v %q", kerr.ErrorForCode(sp.ErrorCode), deref(sp.ErrorMessage))
	}
}

// franz-go's producer, with every codec: valid records are acknowledged
// and consumed back; a batch with an invalid record fails with
// INVALID_RECORD and none of its records is stored.
func TestSchemaValidationFranzGoProducer(t *testing.T) {
	e := newSchemaEnv(t, true)
	e.v.register("payments-value", wire.IDHeader(3))
	e.createTopic(t, "payments", "value")
	codecs := map[string]kgo.CompressionCodec{
		"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
		"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
	}
	want := 0
	for name, codec := range codecs {
		p, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.DefaultProduceTopic("payments"),
			kgo.ProducerBatchCompression(codec), kgo.RecordRetries(1))
		if err != nil {
			t.Fatal(err)
		}
		ctx := testCtx(t, 20*time.Second)
		var good []*kgo.Record
		for i := range 20 {
			good = append(good, &kgo.Record{Value: framed(3, fmt.Sprintf(`{"codec":%q,"i":%d}`, name, i))})
		}
		if err := p.ProduceSync(ctx, good...).FirstErr(); err != nil {
			t.Fatalf("%s: valid records: %v", name, err)
		}
		want += len(good)
		bad := &kgo.Record{Value: framed(4, `{"bad":true}`)}
		if err := p.ProduceSync(ctx, bad).FirstErr(); !errors.Is(err, kerr.InvalidRecord) {
			t.Fatalf("%s: invalid record: %v", name, err)
		}
		// The producer goes on after the refusal.
		if err := p.ProduceSync(ctx, &kgo.Record{Value: framed(3, `{"after":true}`)}).FirstErr(); err != nil {
			t.Fatalf("%s: after the refusal: %v", name, err)
		}
		want++
		p.Close()
	}
	c, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.ConsumeTopics("payments"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := testCtx(t, 20*time.Second)
	got := 0
	for got < want {
		fs := c.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records", got, want)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if id, _, err := wire.ParseHeader(r.Value); err != nil || id != 3 {
				t.Errorf("stored record %q: id %d, %v", r.Value, id, err)
			}
			got++
		})
	}
	if hw := e.partition(t, "payments", 0, config.SchemaValidationValue).HighWatermark(); hw != int64(want) {
		t.Fatalf("high watermark %d, want %d", hw, want)
	}
}

// Validation on and no validator: every batch is refused; installing one
// later (SetSchemaValidator) lets valid batches in. Topics without
// validation never call the validator.
func TestSchemaValidationNoValidator(t *testing.T) {
	e := newSchemaEnv(t, false)
	e.createTopic(t, "orders", "both")
	e.createTopic(t, "plain", "")
	recs := []batch.Record{{Key: framed(1, `1`), Value: framed(2, `2`)}}
	sp := e.produceRaw(t, "orders", build(t, batch.CodecNone, recs))
	want := "topic orders has samsa.schema.validation=both but no schema registry is configured on this broker, so its records cannot be validated"
	if sp.ErrorCode != kerr.InvalidRecord.Code || deref(sp.ErrorMessage) != want {
		t.Fatalf("no validator: %v %q", kerr.ErrorForCode(sp.ErrorCode), deref(sp.ErrorMessage))
	}
	e.v.register("orders-key", wire.IDHeader(1))
	e.v.register("orders-value", wire.IDHeader(2))
	e.b.SetSchemaValidator(e.v)
	if sp := e.produceRaw(t, "orders", build(t, batch.CodecNone, recs)); sp.ErrorCode != 0 {
		t.Fatalf("with a validator: %v %q", kerr.ErrorForCode(sp.ErrorCode), deref(sp.ErrorMessage))
	}
	calls := e.v.calls.Load()
	if sp := e.produceRaw(t, "plain", build(t, batch.CodecGzip, []batch.Record{{Value: []byte("not framed")}, {}})); sp.ErrorCode != 0 {
		t.Fatalf("topic without validation: %v %q", kerr.ErrorForCode(sp.ErrorCode), deref(sp.ErrorMessage))
	}
	if n := e.v.calls.Load(); n != calls {
		t.Fatalf("the validator was called %d times for a topic without validation", n-calls)
	}
}

// samsa.schema.validation is a topic config like the others: set at
// CreateTopics, AlterConfigs and IncrementalAlterConfigs, validated with
// INVALID_CONFIG, and described with its source.
func TestSchemaValidationTopicConfig(t *testing.T) {
	e := newSchemaEnv(t, true)
	ctx := testCtx(t, 20*time.Second)
	bad := "yes"
	resp, _ := e.adm.CreateTopic(ctx, 1, 1, map[string]*string{config.SchemaValidationConfig: &bad}, "refused")
	wantMsg := `invalid value yes for configuration samsa.schema.validation: value "yes" must be one of none, key, value, both`
	if !errors.Is(resp.Err, kerr.InvalidConfig) || resp.ErrMessage != wantMsg {
		t.Fatalf("create with %q: %v %q", bad, resp.Err, resp.ErrMessage)
	}
	e.createTopic(t, "orders", "value")
	e.createTopic(t, "plain", "")

	describe := func(topic string) (string, kmsg.ConfigSource) {
		t.Helper()
		rcs, err := e.adm.DescribeTopicConfigs(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := rcs.On(topic, nil)
		if err != nil || rc.Err != nil {
			t.Fatalf("describe %s: %v %v", topic, err, rc.Err)
		}
		for _, c := range rc.Configs {
			if c.Key == config.SchemaValidationConfig {
				return deref(c.Value), c.Source
			}
		}
		t.Fatalf("describe %s: no %s", topic, config.SchemaValidationConfig)
		return "", 0
	}
	if v, src := describe("orders"); v != "value" || src != kmsg.ConfigSourceDynamicTopicConfig {
		t.Fatalf("orders: %s from %v", v, src)
	}
	if v, src := describe("plain"); v != "none" || src != kmsg.ConfigSourceDefaultConfig {
		t.Fatalf("plain: %s from %v", v, src)
	}

	set := func(v string) []kadm.AlterConfig {
		return []kadm.AlterConfig{{Op: kadm.SetConfig, Name: config.SchemaValidationConfig, Value: &v}}
	}
	for name, alter := range map[string]func(context.Context, []kadm.AlterConfig, ...string) (kadm.AlterConfigsResponses, error){
		"IncrementalAlterConfigs": e.adm.AlterTopicConfigs,
		"AlterConfigs":            e.adm.AlterTopicConfigsState,
	} {
		rs, err := alter(ctx, set("Both"), "plain")
		if err != nil {
			t.Fatal(err)
		}
		if r := rs[0]; !errors.Is(r.Err, kerr.InvalidConfig) || !strings.Contains(r.ErrMessage, "must be one of none, key, value, both") {
			t.Fatalf("%s to Both: %v %q", name, r.Err, r.ErrMessage)
		}
		mode := map[string]string{"IncrementalAlterConfigs": "key", "AlterConfigs": "both"}[name]
		rs, err = alter(ctx, set(mode), "plain")
		if err != nil || rs[0].Err != nil {
			t.Fatalf("%s to %s: %v %v", name, mode, err, rs[0].Err)
		}
		if v, src := describe("plain"); v != mode || src != kmsg.ConfigSourceDynamicTopicConfig {
			t.Fatalf("%s: plain is %s from %v", name, v, src)
		}
		e.partition(t, "plain", 0, config.ParseSchemaValidation(mode))
	}
	// Now validated: an unframed key is refused.
	sp := e.produceRaw(t, "plain", build(t, batch.CodecNone, []batch.Record{{Key: []byte("k"), Value: []byte("v")}}))
	if sp.ErrorCode != kerr.InvalidRecord.Code {
		t.Fatalf("after AlterConfigs: %v", kerr.ErrorForCode(sp.ErrorCode))
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
