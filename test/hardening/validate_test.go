package hardening

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// valEnv is one running broker and a client of it.
type valEnv struct {
	t   *testing.T
	ctx context.Context
	n   *clustertest.Node
	cl  *kgo.Client
	ids map[string][16]byte // topic ids, for Produce and Fetch v13+
}

func valStart(t *testing.T) *valEnv {
	if testing.Short() {
		t.Skip("starts the samsa binary")
	}
	n := clustertest.Start(t, clustertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return &valEnv{t: t, ctx: ctx, n: n, cl: n.Client(t), ids: map[string][16]byte{}}
}

func (e *valEnv) valCreateTopic(name string, configs map[string]*string) {
	e.t.Helper()
	resp, err := kadm.NewClient(e.cl).CreateTopic(e.ctx, 1, 1, configs, name)
	if err != nil || resp.Err != nil {
		e.t.Fatalf("create %s: %v %v", name, err, resp.Err)
	}
	e.ids[name] = resp.ID
}

// valRecord is one record as the test lays it out; OffsetDelta -1 means
// its index.
type valRecord struct {
	key, value  []byte
	tsDelta     int64
	offsetDelta int32
}

func valRecords(n int) []valRecord {
	recs := make([]valRecord, n)
	for i := range recs {
		recs[i] = valRecord{key: fmt.Appendf(nil, "key-%d", i), value: bytes.Repeat(fmt.Appendf(nil, "value %d ", i), 20), tsDelta: int64(i), offsetDelta: -1}
	}
	return recs
}

// valBatch encodes recs as a franz-go producer would (kmsg records, kgo's
// compressor), claiming numRecords records (0: len(recs)), with a correct
// length and CRC.
func valBatch(t *testing.T, codec int8, recs []valRecord, baseTS int64, numRecords int32) []byte {
	t.Helper()
	var raw []byte
	for i, r := range recs {
		kr := kmsg.Record{TimestampDelta64: r.tsDelta, OffsetDelta: int32(i), Key: r.key, Value: r.value}
		if r.offsetDelta >= 0 {
			kr.OffsetDelta = r.offsetDelta
		}
		kr.Length = int32(len(kr.AppendTo(nil)) - 1)
		raw = kr.AppendTo(raw)
	}
	if codec != 0 {
		kc := map[int8]kgo.CompressionCodec{1: kgo.GzipCompression(), 2: kgo.SnappyCompression(), 3: kgo.Lz4Compression(), 4: kgo.ZstdCompression()}[codec]
		comp, err := kgo.DefaultCompressor(kc)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := comp.Compress(new(bytes.Buffer), raw)
		raw = append([]byte(nil), c...)
	}
	if numRecords == 0 {
		numRecords = int32(len(recs))
	}
	maxTS := baseTS
	for _, r := range recs {
		maxTS = max(maxTS, baseTS+r.tsDelta)
	}
	rb := kmsg.RecordBatch{
		PartitionLeaderEpoch: -1, Magic: 2, Attributes: int16(codec),
		LastOffsetDelta: numRecords - 1, FirstTimestamp: baseTS, MaxTimestamp: maxTS,
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1,
		NumRecords: numRecords, Records: raw,
	}
	return valFinish(rb.AppendTo(nil))
}

// valFinish sets a batch's length and CRC from its bytes.
func valFinish(b []byte) []byte {
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-12))
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

// valProduce sends one batch with acks=all and returns the partition's
// answer (Produce at the highest version both sides speak, v8+ here).
func (e *valEnv) valProduce(topic string, b []byte) kmsg.ProduceResponseTopicPartition {
	e.t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, 5000
	tp := kmsg.NewProduceRequestTopic()
	tp.Topic, tp.TopicID = topic, e.ids[topic]
	pp := kmsg.NewProduceRequestTopicPartition()
	pp.Records = b
	tp.Partitions = append(tp.Partitions, pp)
	req.Topics = append(req.Topics, tp)
	resp, err := req.RequestWith(e.ctx, e.cl)
	if err != nil {
		e.t.Fatalf("produce to %s: %v", topic, err)
	}
	if resp.Version < 8 {
		e.t.Fatalf("produce v%d: no RecordErrors", resp.Version)
	}
	return resp.Topics[0].Partitions[0]
}

// valExpect produces b and checks the error code and that the message
// contains msg.
func (e *valEnv) valExpect(name, topic string, b []byte, code *kerr.Error, msg string) kmsg.ProduceResponseTopicPartition {
	e.t.Helper()
	sp := e.valProduce(topic, b)
	got := ""
	if sp.ErrorMessage != nil {
		got = *sp.ErrorMessage
	}
	if sp.ErrorCode != code.Code || !strings.Contains(got, msg) {
		e.t.Errorf("%s: error %v %q, want %s containing %q", name, kerr.ErrorForCode(sp.ErrorCode), got, code.Message, msg)
	}
	return sp
}

// valEndOffset is the partition's end offset (ListOffsets, latest).
func (e *valEnv) valEndOffset(topic string) int64 {
	e.t.Helper()
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Timestamp = -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(e.ctx, e.cl)
	if err != nil || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		e.t.Fatalf("list offsets %s: %v %+v", topic, err, resp)
	}
	return resp.Topics[0].Partitions[0].Offset
}

// valFetchBatches returns the stored batches of topic from offset 0, as
// the broker sends them.
func (e *valEnv) valFetchBatches(topic string) [][]byte {
	e.t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis, req.MaxBytes = 100, 16<<20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = topic, e.ids[topic]
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.PartitionMaxBytes = 16 << 20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(e.ctx, e.cl)
	if err != nil || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		e.t.Fatalf("fetch %s: %v %+v", topic, err, resp)
	}
	raw := resp.Topics[0].Partitions[0].RecordBatches
	var out [][]byte
	for len(raw) >= 12 {
		size := 12 + int(binary.BigEndian.Uint32(raw[8:]))
		if size > len(raw) {
			break
		}
		out, raw = append(out, raw[:size]), raw[size:]
	}
	return out
}

// valConsume reads the topic from the start with a franz-go consumer until
// it has want records, failing on any fetch error.
func (e *valEnv) valConsume(topic string, want int) []*kgo.Record {
	e.t.Helper()
	cons := e.n.Client(e.t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var out []*kgo.Record
	for len(out) < want {
		fs := cons.PollFetches(e.ctx)
		if e.ctx.Err() != nil {
			e.t.Fatalf("consumed %d of %d records of %s", len(out), want, topic)
		}
		fs.EachError(func(_ string, _ int32, err error) { e.t.Fatalf("consume %s: %v", topic, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

// TestValidateGzipGarbage: a batch flagged gzip whose payload is not gzip
// is refused with CORRUPT_MESSAGE and never stored; the topic stays
// readable.
func TestValidateGzipGarbage(t *testing.T) {
	e := valStart(t)
	e.valCreateTopic("val-gzip", nil)
	now := time.Now().UnixMilli()
	if sp := e.valProduce("val-gzip", valBatch(t, 1, valRecords(2), now, 0)); sp.ErrorCode != 0 {
		t.Fatalf("good gzip batch: %v", kerr.ErrorForCode(sp.ErrorCode))
	}
	garbage := valBatch(t, 0, valRecords(3), now, 0)
	garbage[22] |= 1 // gzip-flagged, uncompressed records
	valFinish(garbage)
	e.valExpect("gzip garbage", "val-gzip", garbage, kerr.CorruptMessage, "do not decompress")
	cut := valBatch(t, 1, valRecords(3), now, 0)
	e.valExpect("gzip cut short", "val-gzip", valFinish(cut[:len(cut)-5]), kerr.CorruptMessage, "do not decompress")
	if end := e.valEndOffset("val-gzip"); end != 2 {
		t.Fatalf("end offset %d after refused batches, want 2", end)
	}
	if sp := e.valProduce("val-gzip", valBatch(t, 4, valRecords(1), now, 0)); sp.ErrorCode != 0 {
		t.Fatalf("good batch after bad ones: %v", kerr.ErrorForCode(sp.ErrorCode))
	}
	if recs := e.valConsume("val-gzip", 3); len(recs) != 3 || string(recs[2].Key) != "key-0" {
		t.Fatalf("consumed %d records", len(recs))
	}
}

// TestValidateStructure: record counts that disagree with the records
// present, offset deltas other than 0..n-1, malformed records, a non-zero
// base offset and a control batch are INVALID_RECORD; an undefined codec id
// is UNSUPPORTED_COMPRESSION_TYPE.
func TestValidateStructure(t *testing.T) {
	e := valStart(t)
	e.valCreateTopic("val-struct", nil)
	now := time.Now().UnixMilli()
	for _, codec := range []int8{0, 4} {
		e.valExpect(fmt.Sprintf("codec %d: 4 claimed, 3 present", codec), "val-struct", valBatch(t, codec, valRecords(3), now, 4), kerr.InvalidRecord, "premature EOF")
		e.valExpect(fmt.Sprintf("codec %d: 2 claimed, 3 present", codec), "val-struct", valBatch(t, codec, valRecords(3), now, 2), kerr.InvalidRecord, "records still remaining")
	}
	recs := valRecords(3)
	recs[1].offsetDelta, recs[2].offsetDelta = 2, 1
	sp := e.valExpect("offset deltas", "val-struct", valBatch(t, 3, recs, now, 0), kerr.InvalidRecord, "rejected due to 2 record errors")
	if len(sp.ErrorRecords) != 2 || sp.ErrorRecords[0].RelativeOffset != 1 || !strings.Contains(*sp.ErrorRecords[0].ErrorMessage, "offset delta 2") {
		t.Errorf("record errors %+v", sp.ErrorRecords)
	}
	bigLen := valBatch(t, 0, valRecords(1), now, 0)
	bigLen[61], bigLen[62] = 0xfe, 0x7f // the record's 2-byte length varint: 8191, more than present
	e.valExpect("record length past the batch", "val-struct", valFinish(bigLen), kerr.InvalidRecord, "invalid record size")
	codec5 := valBatch(t, 0, valRecords(1), now, 0)
	codec5[22] |= 5
	e.valExpect("codec id 5", "val-struct", valFinish(codec5), kerr.UnsupportedCompressionType, "unknown compression type id: 5")
	based := valBatch(t, 0, valRecords(1), now, 0)
	based[7] = 3
	e.valExpect("base offset 3", "val-struct", valFinish(based), kerr.InvalidRecord, "should be 0, but it is 3")
	control := valBatch(t, 0, valRecords(1), now, 0)
	control[22] |= 0x20
	e.valExpect("control batch", "val-struct", valFinish(control), kerr.InvalidRecord, "not allowed to write control records")
	if end := e.valEndOffset("val-struct"); end != 0 {
		t.Fatalf("end offset %d, want 0", end)
	}
}

// TestValidateCompactedKey: a keyless record on a compacted topic is
// INVALID_RECORD with Kafka's record error.
func TestValidateCompactedKey(t *testing.T) {
	e := valStart(t)
	e.valCreateTopic("val-compact", map[string]*string{"cleanup.policy": kmsg.StringPtr("compact")})
	recs := valRecords(3)
	recs[2].key = nil
	sp := e.valExpect("keyless", "val-compact", valBatch(t, 2, recs, time.Now().UnixMilli(), 0), kerr.InvalidRecord, "One or more records have been rejected")
	want := "Compacted topic cannot accept message without key in topic partition val-compact-0"
	if len(sp.ErrorRecords) != 1 || sp.ErrorRecords[0].RelativeOffset != 2 || *sp.ErrorRecords[0].ErrorMessage != want {
		t.Errorf("record errors %+v", sp.ErrorRecords)
	}
	if sp := e.valProduce("val-compact", valBatch(t, 2, valRecords(3), time.Now().UnixMilli(), 0)); sp.ErrorCode != 0 {
		t.Fatalf("keyed batch: %v", kerr.ErrorForCode(sp.ErrorCode))
	}
	if end := e.valEndOffset("val-compact"); end != 3 {
		t.Fatalf("end offset %d, want 3", end)
	}
}

// TestValidateTimestamps: with message.timestamp.before/after.max.ms set on
// the topic, a record outside the window is INVALID_TIMESTAMP.
func TestValidateTimestamps(t *testing.T) {
	e := valStart(t)
	e.valCreateTopic("val-ts", map[string]*string{
		"message.timestamp.before.max.ms": kmsg.StringPtr("60000"),
		"message.timestamp.after.max.ms":  kmsg.StringPtr("60000"),
	})
	now := time.Now().UnixMilli()
	for name, base := range map[string]int64{"an hour old": now - 3600_000, "an hour ahead": now + 3600_000} {
		for _, codec := range []int8{0, 3} {
			sp := e.valExpect(name, "val-ts", valBatch(t, codec, valRecords(2), base, 0), kerr.InvalidTimestamp, "rejected due to invalid timestamp")
			if len(sp.ErrorRecords) != 2 || !strings.Contains(*sp.ErrorRecords[0].ErrorMessage, "is out of range") {
				t.Errorf("%s: record errors %+v", name, sp.ErrorRecords)
			}
		}
	}
	// Only the second record is out of range: the batch goes as a whole.
	recs := valRecords(2)
	recs[1].tsDelta = 3600_000
	sp := e.valExpect("one record ahead", "val-ts", valBatch(t, 0, recs, now, 0), kerr.InvalidTimestamp, "invalid timestamp")
	if len(sp.ErrorRecords) != 1 || sp.ErrorRecords[0].RelativeOffset != 1 {
		t.Errorf("record errors %+v", sp.ErrorRecords)
	}
	if sp := e.valProduce("val-ts", valBatch(t, 0, valRecords(2), now, 0)); sp.ErrorCode != 0 {
		t.Fatalf("timely batch: %v", kerr.ErrorForCode(sp.ErrorCode))
	}
	if end := e.valEndOffset("val-ts"); end != 2 {
		t.Fatalf("end offset %d, want 2", end)
	}
}

// TestValidateKeepsBytes: a good batch of each codec is stored and fetched
// byte for byte as sent, but for the base offset and partition leader epoch
// the broker assigns (bytes 0-7 and 12-15, outside the CRC).
func TestValidateKeepsBytes(t *testing.T) {
	e := valStart(t)
	e.valCreateTopic("val-bytes", nil)
	now := time.Now().UnixMilli()
	var sent [][]byte
	for codec := int8(0); codec <= 4; codec++ {
		b := valBatch(t, codec, valRecords(50), now, 0)
		sent = append(sent, append([]byte(nil), b...))
		if sp := e.valProduce("val-bytes", b); sp.ErrorCode != 0 {
			t.Fatalf("codec %d: %v", codec, kerr.ErrorForCode(sp.ErrorCode))
		}
	}
	got := e.valFetchBatches("val-bytes")
	if len(got) != len(sent) {
		t.Fatalf("fetched %d batches, want %d", len(got), len(sent))
	}
	for i := range sent {
		if !bytes.Equal(got[i][8:12], sent[i][8:12]) || !bytes.Equal(got[i][16:], sent[i][16:]) {
			t.Errorf("codec %d: fetched batch differs from the one sent", i)
		}
		if off := int64(binary.BigEndian.Uint64(got[i])); off != int64(50*i) {
			t.Errorf("codec %d: base offset %d", i, off)
		}
	}
	if recs := e.valConsume("val-bytes", 250); len(recs) != 250 {
		t.Fatalf("consumed %d", len(recs))
	}
}
