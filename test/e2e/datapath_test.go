package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// dataPath is a broker with one topic for raw-request tests.
type dataPath struct {
	n     *clustertest.Node
	cl    *kgo.Client
	topic string
	id    [16]byte
}

func newDataPath(t *testing.T, opts clustertest.Options, topic string, configs map[string]*string) *dataPath {
	t.Helper()
	n := clustertest.Start(t, opts)
	cl := n.Client(t)
	createTopic(t, cl, topic, 1, configs)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	md, err := kadm.NewClient(cl).Metadata(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	return &dataPath{n: n, cl: cl, topic: topic, id: md.Topics[topic].ID}
}

func (d *dataPath) request(t *testing.T, req kmsg.Request) kmsg.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := d.cl.Broker(1).Request(ctx, req)
	if err != nil {
		t.Fatalf("%s: %v", kmsg.NameForKey(req.Key()), err)
	}
	return resp
}

func (d *dataPath) produce(t *testing.T, values ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, v := range values {
		if err := d.cl.ProduceSync(ctx, &kgo.Record{Topic: d.topic, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

func (d *dataPath) fetchReq(offset int64, minBytes, maxWait, maxBytes, partMax int32) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID, req.MinBytes, req.MaxWaitMillis, req.MaxBytes = -1, minBytes, maxWait, maxBytes
	req.SessionEpoch = -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = d.topic, d.id
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.FetchOffset, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = offset, partMax, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

func fetchPart(t *testing.T, resp kmsg.Response) *kmsg.FetchResponseTopicPartition {
	t.Helper()
	fr := resp.(*kmsg.FetchResponse)
	if fr.ErrorCode != 0 {
		t.Fatalf("fetch error %v", kerr.ErrorForCode(fr.ErrorCode))
	}
	if len(fr.Topics) != 1 || len(fr.Topics[0].Partitions) != 1 {
		t.Fatalf("fetch answered %d topics", len(fr.Topics))
	}
	return &fr.Topics[0].Partitions[0]
}

func TestFetchLongPoll(t *testing.T) {
	d := newDataPath(t, clustertest.Options{}, "poll", nil)
	d.produce(t, "a")

	// Nothing new: the fetch waits MaxWait, then answers empty.
	start := time.Now()
	p := fetchPart(t, d.request(t, d.fetchReq(1, 1, 400, 1<<20, 1<<20)))
	if waited := time.Since(start); waited < 350*time.Millisecond {
		t.Fatalf("empty fetch returned after %v, before MaxWait", waited)
	}
	if len(p.RecordBatches) != 0 || p.HighWatermark != 1 {
		t.Fatalf("empty fetch: %d bytes, hw %d", len(p.RecordBatches), p.HighWatermark)
	}

	// A waiting fetch is woken by an append, long before MaxWait.
	done := make(chan *kmsg.FetchResponseTopicPartition, 1)
	go func() { // ends when the fetch returns
		resp, err := d.cl.Broker(1).Request(context.Background(), d.fetchReq(1, 1, 10000, 1<<20, 1<<20))
		if err != nil {
			done <- nil
			return
		}
		fr := resp.(*kmsg.FetchResponse)
		done <- &fr.Topics[0].Partitions[0]
	}()
	time.Sleep(200 * time.Millisecond)
	start = time.Now()
	d.produce(t, "b")
	select {
	case p := <-done:
		if p == nil || len(p.RecordBatches) == 0 {
			t.Fatalf("woken fetch returned no records")
		}
		if waited := time.Since(start); waited > 5*time.Second {
			t.Fatalf("append woke the fetch only after %v", waited)
		}
	case <-time.After(9 * time.Second):
		t.Fatal("append did not wake the waiting fetch")
	}
}

// TestFetchFirstBatchRule checks KIP-74: the first batch is returned even if
// it is larger than MaxBytes and PartitionMaxBytes.
func TestFetchFirstBatchRule(t *testing.T) {
	d := newDataPath(t, clustertest.Options{}, "big", nil)
	d.produce(t, string(bytes.Repeat([]byte("x"), 50_000)), "small")
	p := fetchPart(t, d.request(t, d.fetchReq(0, 1, 0, 100, 100)))
	if len(p.RecordBatches) <= 100 {
		t.Fatalf("first batch withheld: %d bytes", len(p.RecordBatches))
	}
	rb := kmsg.NewRecordBatch()
	if err := rb.ReadFrom(p.RecordBatches); err != nil || rb.FirstOffset != 0 {
		t.Fatalf("returned batch: %v offset %d", err, rb.FirstOffset)
	}
	if len(p.RecordBatches) > int(rb.Length)+12 {
		t.Fatalf("more than the first batch returned over the limit: %d bytes", len(p.RecordBatches))
	}
}

func TestFetchSessions(t *testing.T) {
	d := newDataPath(t, clustertest.Options{}, "sess", nil)
	d.produce(t, "a")

	req := d.fetchReq(0, 0, 0, 1<<20, 1<<20)
	req.SessionID, req.SessionEpoch = 0, 0
	full := d.request(t, req).(*kmsg.FetchResponse)
	if full.SessionID == 0 || len(full.Topics) != 1 {
		t.Fatalf("new session: id %d, %d topics", full.SessionID, len(full.Topics))
	}

	// Incremental, nothing changed: the partition is left out.
	// The client moves its offset past what it read; nothing else changed,
	// so the partition is left out of the response.
	inc := d.fetchReq(1, 0, 0, 1<<20, 1<<20)
	inc.SessionID, inc.SessionEpoch = full.SessionID, 1
	r1 := d.request(t, inc).(*kmsg.FetchResponse)
	if r1.ErrorCode != 0 || len(r1.Topics) != 0 {
		t.Fatalf("unchanged incremental fetch: error %d, %d topics", r1.ErrorCode, len(r1.Topics))
	}

	// New data arrives: the partition comes back with records, though the
	// request names no partitions.
	d.produce(t, "b")
	inc2 := kmsg.NewPtrFetchRequest()
	inc2.ReplicaID, inc2.MaxBytes = -1, 1<<20
	inc2.SessionID, inc2.SessionEpoch = full.SessionID, 2
	r2 := d.request(t, inc2).(*kmsg.FetchResponse)
	if len(r2.Topics) != 1 || len(r2.Topics[0].Partitions[0].RecordBatches) == 0 || r2.Topics[0].Partitions[0].HighWatermark != 2 {
		t.Fatalf("incremental fetch after append: %+v", r2.Topics)
	}

	// A wrong epoch and an unknown session are refused.
	inc.SessionEpoch = 7
	if code := d.request(t, inc).(*kmsg.FetchResponse).ErrorCode; code != kerr.InvalidFetchSessionEpoch.Code {
		t.Fatalf("wrong epoch: %v", kerr.ErrorForCode(code))
	}
	inc.SessionID, inc.SessionEpoch = full.SessionID+1000, 1
	if code := d.request(t, inc).(*kmsg.FetchResponse).ErrorCode; code != kerr.FetchSessionIDNotFound.Code {
		t.Fatalf("unknown session: %v", kerr.ErrorForCode(code))
	}
}

func TestFetchErrors(t *testing.T) {
	d := newDataPath(t, clustertest.Options{}, "ferr", nil)
	d.produce(t, "a")
	if p := fetchPart(t, d.request(t, d.fetchReq(5, 0, 0, 1<<20, 1<<20))); p.ErrorCode != kerr.OffsetOutOfRange.Code {
		t.Fatalf("offset past the end: %v", kerr.ErrorForCode(p.ErrorCode))
	}
	req := d.fetchReq(0, 0, 0, 1<<20, 1<<20)
	req.Topics[0].Partitions[0].CurrentLeaderEpoch = 5
	if p := fetchPart(t, d.request(t, req)); p.ErrorCode != kerr.UnknownLeaderEpoch.Code {
		t.Fatalf("future leader epoch: %v", kerr.ErrorForCode(p.ErrorCode))
	}
	req = d.fetchReq(0, 0, 0, 1<<20, 1<<20)
	req.Topics[0].Partitions[0].Partition = 9
	if p := fetchPart(t, d.request(t, req)); p.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("unknown partition: %v", kerr.ErrorForCode(p.ErrorCode))
	}
}

func TestListOffsetsAndEpochs(t *testing.T) {
	d := newDataPath(t, clustertest.Options{}, "lo", nil)
	base := time.Now().Add(-time.Hour).UnixMilli()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 0; i < 10; i++ {
		r := &kgo.Record{Topic: d.topic, Value: []byte{byte(i)}, Timestamp: time.UnixMilli(base + int64(i)*1000)}
		if err := d.cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	list := func(ts int64) kmsg.ListOffsetsResponseTopicPartition {
		req := kmsg.NewPtrListOffsetsRequest()
		req.ReplicaID = -1
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = d.topic
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp, rp.CurrentLeaderEpoch = ts, -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		return d.request(t, req).(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0]
	}
	cases := []struct {
		name string
		ts   int64
		off  int64
	}{
		{"earliest", -2, 0},
		{"latest", -1, 10},
		{"max timestamp", -3, 9},
		{"by timestamp", base + 4500, 5},
		{"exact timestamp", base + 3000, 3},
		{"after the end", base + 99_000, -1},
	}
	for _, c := range cases {
		p := list(c.ts)
		if p.ErrorCode != 0 || p.Offset != c.off {
			t.Errorf("%s: offset %d error %v, want %d", c.name, p.Offset, kerr.ErrorForCode(p.ErrorCode), c.off)
		}
		if c.off >= 0 && p.LeaderEpoch != 0 {
			t.Errorf("%s: leader epoch %d", c.name, p.LeaderEpoch)
		}
	}

	oe := kmsg.NewPtrOffsetForLeaderEpochRequest()
	oe.ReplicaID = -1
	ot := kmsg.NewOffsetForLeaderEpochRequestTopic()
	ot.Topic = d.topic
	op := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
	op.LeaderEpoch, op.CurrentLeaderEpoch = 0, -1
	ot.Partitions = append(ot.Partitions, op)
	oe.Topics = append(oe.Topics, ot)
	er := d.request(t, oe).(*kmsg.OffsetForLeaderEpochResponse).Topics[0].Partitions[0]
	if er.ErrorCode != 0 || er.LeaderEpoch != 0 || er.EndOffset != 10 {
		t.Fatalf("OffsetForLeaderEpoch: %+v", er)
	}
}

func TestProduceErrors(t *testing.T) {
	maxBytes := "2000"
	d := newDataPath(t, clustertest.Options{Config: "auto.create.topics.enable=false\n"}, "perr", map[string]*string{"max.message.bytes": &maxBytes})
	produce := func(topic string, acks int16, records []byte) int16 {
		req := kmsg.NewPtrProduceRequest()
		req.Acks, req.TimeoutMillis = acks, 5000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = topic // up to v12
		if topic == d.topic {
			rt.TopicID = d.id // v13 names topics by id
		}
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = records
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		resp, err := d.cl.Broker(1).RetriableRequest(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode
	}
	mk := func(size int) []byte {
		rec := kmsg.NewRecord()
		rec.Value = bytes.Repeat([]byte("v"), size)
		rec.Length = int32(len(rec.AppendTo(nil)) - 1) // the body after a 1-byte zero length
		rb := kmsg.NewRecordBatch()
		rb.Magic, rb.ProducerID, rb.ProducerEpoch, rb.FirstSequence, rb.NumRecords = 2, -1, -1, -1, 1
		rb.FirstTimestamp, rb.MaxTimestamp = time.Now().UnixMilli(), time.Now().UnixMilli()
		rb.Records = rec.AppendTo(nil)
		raw := rb.AppendTo(nil)
		return fixBatch(raw)
	}
	cases := []struct {
		name    string
		topic   string
		acks    int16
		records []byte
		want    *kerr.Error
	}{
		{"unknown topic", "nope", 1, mk(10), kerr.UnknownTopicID},
		{"too large", d.topic, 1, mk(5000), kerr.MessageTooLarge},
		{"two batches", d.topic, 1, append(mk(10), mk(10)...), kerr.InvalidRecord},
	}
	for _, c := range cases {
		if got := produce(c.topic, c.acks, c.records); got != c.want.Code {
			t.Errorf("%s: %v, want %v", c.name, kerr.ErrorForCode(got), c.want)
		}
	}
	// kgo rewrites acks to its own setting, so bad acks go over a raw
	// connection, as Produce v9 (topics by name).
	bad := kmsg.NewPtrProduceRequest()
	bad.Version, bad.Acks, bad.TimeoutMillis = 9, 2, 5000
	bt := kmsg.NewProduceRequestTopic()
	bt.Topic = d.topic
	bp := kmsg.NewProduceRequestTopicPartition()
	bp.Records = mk(10)
	bt.Partitions = append(bt.Partitions, bp)
	bad.Topics = append(bad.Topics, bt)
	br := kmsg.NewPtrProduceResponse()
	br.Version = 9
	if err := br.ReadFrom(rawRoundTrip(t, d.n, bad)); err != nil {
		t.Fatal(err)
	}
	if got := br.Topics[0].Partitions[0].ErrorCode; got != kerr.InvalidRequiredAcks.Code {
		t.Errorf("acks=2: %v, want INVALID_REQUIRED_ACKS", kerr.ErrorForCode(got))
	}
	if got := produce(d.topic, -1, mk(10)); got != 0 {
		t.Fatalf("good batch: %v", kerr.ErrorForCode(got))
	}
	// Auto-creation is off: Metadata for an unknown topic does not create it.
	md := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr("not-created")
	md.Topics = append(md.Topics, mt)
	md.AllowAutoTopicCreation = true
	if code := d.request(t, md).(*kmsg.MetadataResponse).Topics[0].ErrorCode; code != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("auto.create.topics.enable=false: %v", kerr.ErrorForCode(code))
	}
}

// TestRetentionRuns checks that the broker's retention loop deletes old
// segments: small segments, retention.bytes, and a short check interval.
func TestRetentionRuns(t *testing.T) {
	d := newDataPath(t, clustertest.Options{Config: "log.retention.check.interval.ms=200\n"}, "ret",
		map[string]*string{"segment.bytes": kmsg.StringPtr("2000"), "retention.bytes": kmsg.StringPtr("4000")})
	for i := 0; i < 60; i++ {
		d.produce(t, fmt.Sprintf("%x", sha256.Sum256([]byte{byte(i)}))+fmt.Sprintf("%x", sha256.Sum256([]byte{byte(i), 1})))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	adm := kadm.NewClient(d.cl)
	for {
		starts, err := adm.ListStartOffsets(ctx, d.topic)
		if err != nil {
			t.Fatal(err)
		}
		if o, _ := starts.Lookup(d.topic, 0); o.Offset > 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("retention never advanced the log start offset")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// fixBatch sets the length and CRC of a batch encoded by kmsg.
func fixBatch(raw []byte) []byte {
	binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))
	binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	return raw
}

// rawRoundTrip sends one request over a fresh raw connection and returns the
// response body after the response header.
func rawRoundTrip(t *testing.T, n *clustertest.Node, req kmsg.Request) []byte {
	t.Helper()
	c := dial(t, n)
	if _, err := c.Write(rawRequest(req, 1)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c, body); err != nil {
		t.Fatal(err)
	}
	if req.IsFlexible() && req.Key() != 18 {
		return body[5:] // response header v1: an empty tag section
	}
	return body[4:]
}
