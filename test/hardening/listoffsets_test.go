package hardening

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// loFirstBatch fetches topic-0 from offset 0 and returns the header of the
// first record batch the broker sends.
func loFirstBatch(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, id [16]byte) kmsg.RecordBatch {
	t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID, req.MaxWaitMillis, req.MaxBytes = -1, 500, 10<<20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = topic, id
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = 0, 0, 10<<20, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("fetch answered %d topics", len(resp.Topics))
	}
	p := resp.Topics[0].Partitions[0]
	var b kmsg.RecordBatch
	if p.ErrorCode != 0 || b.ReadFrom(p.RecordBatches) != nil {
		t.Fatalf("fetch: error code %d, %d bytes of records", p.ErrorCode, len(p.RecordBatches))
	}
	return b
}

// ListOffsets by timestamp answers the exact record inside a compressed
// batch, as Kafka does (it decompresses the batch): 100 records with
// increasing timestamps (the max in the middle) produced as ONE zstd
// batch; the 51st record's timestamp lists offset 50, a millisecond less
// too, and the max-timestamp query (KIP-734) lists the offset of the
// record with the max timestamp, not the batch's first or last offset.
func TestListOffsetsExactRecordInCompressedBatch(t *testing.T) {
	node := clustertest.Start(t, clustertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const topic = "lo-compressed"
	cl := node.Client(t, kgo.ManualFlushing(), kgo.ProducerLinger(time.Minute),
		kgo.ProducerBatchCompression(kgo.ZstdCompression()), kgo.RequiredAcks(kgo.AllISRAcks()))
	adm := kadm.NewClient(cl)
	created, err := adm.CreateTopic(ctx, 1, 1, nil, topic)
	if err != nil {
		t.Fatalf("create topic: %v", err)
	}
	t0 := time.Now().Add(-10 * time.Minute).Truncate(time.Millisecond)
	const maxAt = 70
	stamp := func(i int) time.Time {
		if i == maxAt {
			return t0.Add(5 * time.Second)
		}
		return t0.Add(time.Duration(10*i) * time.Millisecond)
	}
	for i := range 100 {
		cl.Produce(ctx, &kgo.Record{Topic: topic, Partition: 0, Timestamp: stamp(i), Value: fmt.Appendf(nil, "value-%03d", i)},
			func(_ *kgo.Record, err error) {
				if err != nil {
					t.Errorf("produce: %v", err)
				}
			})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if b := loFirstBatch(ctx, t, cl, topic, created.ID); b.FirstOffset != 0 || b.LastOffsetDelta != 99 || b.Attributes&7 != 4 {
		t.Fatalf("the records are not one zstd batch: first offset %d, last offset delta %d, attributes %#x", b.FirstOffset, b.LastOffsetDelta, b.Attributes)
	}
	for _, c := range []struct {
		ms   int64
		want int64
	}{
		{stamp(50).UnixMilli(), 50},
		{stamp(50).UnixMilli() - 1, 50},
		{stamp(0).UnixMilli(), 0},
		{stamp(maxAt - 1).UnixMilli(), maxAt - 1},
		{stamp(maxAt-1).UnixMilli() + 1, maxAt}, // the first record at or after it, in offset order
		{stamp(99).UnixMilli(), maxAt},
	} {
		listed, err := adm.ListOffsetsAfterMilli(ctx, c.ms, topic)
		if err != nil {
			t.Fatal(err)
		}
		lo, ok := listed.Lookup(topic, 0)
		if !ok || lo.Err != nil || lo.Offset != c.want {
			t.Errorf("ListOffsetsAfterMilli(%d): %+v, want offset %d", c.ms, lo, c.want)
		}
	}
	listed, err := adm.ListMaxTimestampOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	if lo, ok := listed.Lookup(topic, 0); !ok || lo.Err != nil || lo.Offset != maxAt || lo.Timestamp != stamp(maxAt).UnixMilli() {
		t.Errorf("ListMaxTimestampOffsets: %+v, want offset %d timestamp %d", lo, maxAt, stamp(maxAt).UnixMilli())
	}
}
