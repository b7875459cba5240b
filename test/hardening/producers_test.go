package hardening

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// prodExpiryMs is producer.id.expiration.ms for these tests; the check
// runs every half second.
const prodExpiryMs = 3000

const prodConfig = "producer.id.expiration.ms=3000\nproducer.id.expiration.check.interval.ms=500\n"

func prodStart(t *testing.T) (*clustertest.Node, *kadm.Client) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the samsa binary")
	}
	n := clustertest.Start(t, clustertest.Options{Config: prodConfig})
	return n, kadm.NewClient(n.Client(t))
}

func prodCreateTopic(t *testing.T, adm *kadm.Client, name string) kadm.CreateTopicResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := adm.CreateTopic(ctx, 1, 1, nil, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return resp
}

// prodProducers is DescribeProducers of partition 0 of topic.
func prodProducers(t *testing.T, adm *kadm.Client, topic string) kadm.DescribedProducers {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ds, err := adm.DescribeProducers(ctx, kadm.TopicsSet{topic: {0: {}}})
	if err != nil {
		t.Fatalf("DescribeProducers: %v", err)
	}
	p, ok := ds[topic].Partitions[0]
	if !ok || p.Err != nil {
		t.Fatalf("DescribeProducers %s/0: present %v, err %v", topic, ok, p.Err)
	}
	return p.ActiveProducers
}

// prodWaitProducers polls DescribeProducers until done holds.
func prodWaitProducers(t *testing.T, adm *kadm.Client, topic, what string, done func(kadm.DescribedProducers) bool) kadm.DescribedProducers {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ps := prodProducers(t, adm, topic)
		if done(ps) {
			return ps
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %d producers after 60 s", what, len(ps))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func prodProduce(t *testing.T, cl *kgo.Client, topic string, values ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for _, v := range values {
		recs = append(recs, &kgo.Record{Topic: topic, Value: []byte(v)})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce %v: %v", values, err)
	}
}

// An idle idempotent producer id is forgotten after
// producer.id.expiration.ms: DescribeProducers stops listing it, a restart
// does not bring it back, and the producer, writing on with its next
// sequence number, is accepted as Kafka 4 accepts an unknown id (KIP-360).
// A new idempotent producer works as usual.
func TestProdIdleIDExpires(t *testing.T) {
	n, adm := prodStart(t)
	const topic = "prod-expiry"
	prodCreateTopic(t, adm, topic)
	cl := n.Client(t, kgo.RequiredAcks(kgo.AllISRAcks()))
	prodProduce(t, cl, topic, "a", "b", "c")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pid, _, err := cl.ProducerID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ps := prodProducers(t, adm, topic)
	if p, ok := ps[pid]; !ok || p.LastSequence != 2 {
		t.Fatalf("producer %d after three records: %+v (listed %v)", pid, p, ok)
	}
	prodWaitProducers(t, adm, topic, "expiry", func(ps kadm.DescribedProducers) bool {
		_, ok := ps[pid]
		return !ok
	})

	n.Restart(t)
	adm = kadm.NewClient(n.Client(t))
	if ps := prodProducers(t, adm, topic); len(ps) != 0 {
		t.Fatalf("after a restart the expired id is back: %+v", ps)
	}

	prodProduce(t, cl, topic, "d") // sequence 3 from an id the broker forgot
	if p, ok := prodProducers(t, adm, topic)[pid]; !ok || p.LastSequence != 3 {
		t.Fatalf("producer %d after writing on: %+v (listed %v)", pid, p, ok)
	}
	fresh := n.Client(t)
	prodProduce(t, fresh, topic, "e")
	fpid, _, err := fresh.ProducerID(ctx)
	if err != nil || fpid == pid {
		t.Fatalf("new producer id %d (old %d): %v", fpid, pid, err)
	}
	if p, ok := prodProducers(t, adm, topic)[fpid]; !ok || p.LastSequence != 0 {
		t.Fatalf("new producer %d: %+v (listed %v)", fpid, p, ok)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := ends.Lookup(topic, 0); o.Offset != 5 {
		t.Fatalf("log end %d, want 5 (a b c d e, none twice)", o.Offset)
	}
}

// prodRegister has a raw client obtain a new idempotent producer id and
// write one batch (sequence 0) with it, timestamped ts.
func prodRegister(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, id [16]byte, ts int64) int64 {
	t.Helper()
	init := kmsg.NewPtrInitProducerIDRequest()
	init.TransactionTimeoutMillis = 60_000
	ir, err := init.RequestWith(ctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(ir.ErrorCode)
	}
	if err != nil {
		t.Fatalf("InitProducerId: %v", err)
	}
	b, err := batch.Build(batch.CodecNone, []batch.Record{{Value: []byte(fmt.Sprint(ir.ProducerID))}},
		batch.BuildOptions{BaseTimestamp: ts, ProducerID: ir.ProducerID, ProducerEpoch: ir.ProducerEpoch, Idempotent: true})
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrProduceRequest()
	req.Acks = -1
	req.TimeoutMillis = 10_000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic, rt.TopicID = topic, id
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = b
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	pr, err := req.RequestWith(ctx, cl)
	if err == nil && (len(pr.Topics) != 1 || len(pr.Topics[0].Partitions) != 1) {
		err = fmt.Errorf("malformed produce response %+v", pr)
	}
	if err == nil {
		err = kerr.ErrorForCode(pr.Topics[0].Partitions[0].ErrorCode)
	}
	if err != nil {
		t.Fatalf("produce as %d: %v", ir.ProducerID, err)
	}
	return ir.ProducerID
}

// A client that registers thousands of producer ids on one partition does
// not leave state behind for good: once their batches' timestamps are
// producer.id.expiration.ms old, every id is gone. All batches carry the
// same timestamp, a little ahead of the clock, so that they all expire at
// once however long the registration takes.
func TestProdManyIDsExpire(t *testing.T) {
	n, adm := prodStart(t)
	const topic, ids = "prod-many", 5000
	created := prodCreateTopic(t, adm, topic)
	cl := n.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	ts := start.Add(8 * time.Second).UnixMilli() // registration takes under a second here
	seen := make(map[int64]bool, ids)
	for i := 0; i < ids; i++ {
		pid := prodRegister(ctx, t, cl, topic, created.ID, ts)
		if seen[pid] {
			t.Fatalf("InitProducerId handed out %d twice", pid)
		}
		seen[pid] = true
	}
	t.Logf("registered %d producer ids in %v", ids, time.Since(start))
	if time.Now().UnixMilli() >= ts+prodExpiryMs {
		t.Fatalf("registering %d ids took past their expiry; the test needs a larger lead", ids)
	}
	if ps := prodProducers(t, adm, topic); len(ps) != ids {
		t.Fatalf("DescribeProducers lists %d producers, want %d", len(ps), ids)
	}
	prodWaitProducers(t, adm, topic, "expiry of every id", func(ps kadm.DescribedProducers) bool { return len(ps) == 0 })
	pid := prodRegister(ctx, t, cl, topic, created.ID, time.Now().UnixMilli())
	if ps := prodProducers(t, adm, topic); len(ps) != 1 || ps[pid].ProducerID != pid {
		t.Fatalf("after expiry a new id is not tracked alone: %+v", ps)
	}
}
