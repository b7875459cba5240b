package broker

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/share"
)

// shareEnv is a single-node stack with one topic for share-group tests,
// driven by franz-go's share consumer over TCP.
type shareEnv struct {
	*testStack
	topic string
	id    [16]byte
	parts int32
	adm   *kadm.Client
	prod  *kgo.Client
}

func newShareEnv(t *testing.T, parts int32, settings map[string]string) *shareEnv {
	t.Helper()
	st := newTestStack(t, Config{Settings: &config.Broker{Values: settings}})
	cl, err := kgo.NewClient(kgo.SeedBrokers(st.addr), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	e := &shareEnv{testStack: st, topic: "queue", parts: parts, adm: kadm.NewClient(cl), prod: cl}
	ctx := testCtx(t, 20*time.Second)
	if _, err := e.adm.CreateTopic(ctx, parts, 1, nil, e.topic); err != nil {
		t.Fatal(err)
	}
	for ctx.Err() == nil {
		if tp, ok := st.ctl.Image().Topics[e.topic]; ok {
			e.id = tp.ID
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return e
}

// consumer starts a share consumer of group g on the topic.
func (e *shareEnv) consumer(t *testing.T, g string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	opts = append([]kgo.Opt{kgo.SeedBrokers(e.addr), kgo.ShareGroup(g), kgo.ConsumeTopics(e.topic), kgo.FetchMaxWait(500 * time.Millisecond)}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// waitInitialised waits until every partition's share partition of g
// exists (share.auto.offset.reset=latest: records produced before would
// not be delivered).
func (e *shareEnv) waitInitialised(t *testing.T, g string) {
	t.Helper()
	ctx := testCtx(t, 30*time.Second)
	for p := int32(0); p < e.parts; p++ {
		for {
			if _, ok := e.b.shares.Offsets(share.PartKey{Group: g, TP: share.TP{Topic: e.id, Partition: p}}); ok {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("share partition %d of %s never initialised", p, g)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func (e *shareEnv) produce(t *testing.T, n int) {
	t.Helper()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: e.topic, Value: []byte(strconv.Itoa(i))}
	}
	if err := e.prod.ProduceSync(testCtx(t, 30*time.Second), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// waitDone waits until every share partition of g has its start offset
// at the log end: every record acknowledged or archived.
func (e *shareEnv) waitDone(t *testing.T, g string) {
	t.Helper()
	ctx := testCtx(t, 30*time.Second)
	for p := int32(0); p < e.parts; p++ {
		part, _ := e.parts0(p)
		for {
			start, _ := e.b.shares.Offsets(share.PartKey{Group: g, TP: share.TP{Topic: e.id, Partition: p}})
			if start == part.HighWatermark() {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("partition %d: SPSO %d, high watermark %d", p, start, part.HighWatermark())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func (e *shareEnv) parts0(p int32) (interface{ HighWatermark() int64 }, bool) {
	return e.testStack.parts.Get(e.topic, p)
}

// seen counts deliveries per record value.
type seen struct {
	mu sync.Mutex
	n  map[string]int
}

func (s *seen) add(v string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n[v]++
	return s.n[v]
}

func (s *seen) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.n)
}

// pollLoop polls cl until ctx ends, handing each record to ack, which
// marks it.
func pollLoop(ctx context.Context, wg *sync.WaitGroup, cl *kgo.Client, ack func(r *kgo.Record)) {
	wg.Add(1)
	go func() { // stopped by ctx, waited by wg
		defer wg.Done()
		for ctx.Err() == nil {
			fs := cl.PollRecords(ctx, 100)
			fs.EachRecord(ack)
		}
	}()
}

// Three franz-go share consumers on a six-partition topic, each ACCEPTing
// what it gets: every record is delivered and accepted exactly once, and
// every share partition's start offset reaches the log end.
func TestShareGroupThreeConsumersAcceptOnce(t *testing.T) {
	e := newShareEnv(t, 6, nil)
	const n = 3000
	got := &seen{n: map[string]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	var dupMu sync.Mutex
	var dups []string
	for i := 0; i < 3; i++ {
		cl := e.consumer(t, "g3")
		pollLoop(ctx, &wg, cl, func(r *kgo.Record) {
			if c := got.add(string(r.Value)); c > 1 || r.DeliveryCount() != 1 {
				dupMu.Lock()
				dups = append(dups, fmt.Sprintf("%s (seen %d, delivery %d)", r.Value, c, r.DeliveryCount()))
				dupMu.Unlock()
			}
			r.Ack(kgo.AckAccept)
		})
	}
	e.waitInitialised(t, "g3")
	// All three members are in the group, each with two partitions.
	d, ok := e.b.shares.Describe("g3", shareTopics{e.ctl.Image()})
	if !ok || len(d.Members) != 3 {
		t.Fatalf("describe: %+v", d)
	}
	for _, m := range d.Members {
		if n := len(m.Assignment.TopicPartitions); n != 1 || len(m.Assignment.TopicPartitions[0].Partitions) != 2 {
			t.Fatalf("member %s assignment %+v", m.MemberID, m.Assignment)
		}
	}
	e.produce(t, n)
	e.waitDone(t, "g3")
	if got.len() != n {
		t.Fatalf("%d distinct records delivered, want %d", got.len(), n)
	}
	// The acknowledgements were written to __share_group_state before
	// they were answered: its state's start offsets are the log ends.
	for p := int32(0); p < e.parts; p++ {
		part, _ := e.parts0(p)
		v, ok, err := e.b.shareStates.Read(share.PartKey{Group: "g3", TP: share.TP{Topic: e.id, Partition: p}})
		if err != nil || !ok || v.StartOffset != part.HighWatermark() {
			t.Fatalf("partition %d persisted state %+v %v %v, want start offset %d", p, v, ok, err, part.HighWatermark())
		}
	}
	dupMu.Lock()
	defer dupMu.Unlock()
	if len(dups) > 0 {
		t.Fatalf("records delivered more than once: %v", dups[:min(10, len(dups))])
	}
	// ListGroups and DescribeGroups see a share group.
	lg, err := e.adm.ListGroups(testCtx(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if g, ok := lg["g3"]; !ok || g.ProtocolType != "share" || g.State != "Stable" {
		t.Fatalf("ListGroups: %+v", lg)
	}
}

// RELEASEd records are delivered again (delivery count 2), REJECTed ones
// never; a record RELEASEd every time stops at the delivery count limit
// and is archived.
func TestShareGroupReleaseRejectAndDeliveryLimit(t *testing.T) {
	e := newShareEnv(t, 1, map[string]string{"group.share.delivery.count.limit": "3"})
	const n = 30
	got := &seen{n: map[string]int{}}
	var mu sync.Mutex
	var bad []string
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	cl := e.consumer(t, "gr")
	pollLoop(ctx, &wg, cl, func(r *kgo.Record) {
		v, _ := strconv.Atoi(string(r.Value))
		c := got.add(string(r.Value))
		if int(r.DeliveryCount()) != c {
			mu.Lock()
			bad = append(bad, fmt.Sprintf("%d: delivery count %d on delivery %d", v, r.DeliveryCount(), c))
			mu.Unlock()
		}
		switch {
		case v == 0: // always released: archived after 3 deliveries
			r.Ack(kgo.AckRelease)
		case v%3 == 1 && c == 1:
			r.Ack(kgo.AckRelease)
		case v%3 == 2:
			r.Ack(kgo.AckReject)
		default:
			r.Ack(kgo.AckAccept)
		}
	})
	e.waitInitialised(t, "gr")
	e.produce(t, n)
	e.waitDone(t, "gr")
	mu.Lock()
	defer mu.Unlock()
	if len(bad) > 0 {
		t.Fatal(bad)
	}
	got.mu.Lock()
	defer got.mu.Unlock()
	for v := 0; v < n; v++ {
		want := 1
		switch {
		case v == 0:
			want = 3
		case v%3 == 1:
			want = 2
		}
		if c := got.n[strconv.Itoa(v)]; c != want {
			t.Errorf("record %d delivered %d times, want %d", v, c, want)
		}
	}
}

// A member that acquires records and stops without acknowledging them
// (its connection stays open): after the acquisition lock expires, another
// member gets them, with delivery count 2.
func TestShareGroupLockExpiryRedelivers(t *testing.T) {
	e := newShareEnv(t, 1, map[string]string{"group.share.record.lock.duration.ms": "2000"})
	ctx := testCtx(t, 60*time.Second)
	raw, err := kgo.NewClient(kgo.SeedBrokers(e.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	node := raw.Broker(1)
	hb := kmsg.NewPtrShareGroupHeartbeatRequest()
	hb.GroupID, hb.MemberID, hb.SubscribedTopicNames = "gl", "stuck-member", []string{e.topic}
	hresp, err := hb.RequestWith(ctx, raw) // to the coordinator, found first
	if err != nil || hresp.ErrorCode != 0 {
		t.Fatalf("heartbeat: %v %v", err, kerr.ErrorForCode(hresp.ErrorCode))
	}
	fetch := func(epoch int32) *kmsg.ShareFetchResponse {
		f := kmsg.NewPtrShareFetchRequest()
		f.GroupID, f.MemberID = kmsg.StringPtr("gl"), kmsg.StringPtr("stuck-member")
		f.ShareSessionEpoch, f.MaxWaitMillis, f.MaxRecords, f.BatchSize = epoch, 200, 500, 500
		if epoch == 0 {
			f.Topics = []kmsg.ShareFetchRequestTopic{{TopicID: e.id, Partitions: []kmsg.ShareFetchRequestTopicPartition{{Partition: 0}}}}
		}
		r, err := f.RequestWith(ctx, node)
		if err != nil || r.ErrorCode != 0 {
			t.Fatalf("share fetch: %v %v", err, kerr.ErrorForCode(r.ErrorCode))
		}
		return r
	}
	// The first fetches open the session and initialise the share
	// partition at the log end (once __share_group_state is loaded).
	epoch := int32(0)
	for ; ; epoch++ {
		fetch(epoch)
		if _, ok := e.b.shares.Offsets(share.PartKey{Group: "gl", TP: share.TP{Topic: e.id}}); ok {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("share partition never initialised")
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.produce(t, 10)
	acquired := 0
	for epoch++; acquired < 10 && ctx.Err() == nil; epoch++ {
		for _, tp := range fetch(epoch).Topics {
			for _, p := range tp.Partitions {
				for _, a := range p.AcquiredRecords {
					acquired += int(a.LastOffset - a.FirstOffset + 1)
				}
			}
		}
	}
	if acquired != 10 {
		t.Fatalf("stuck member acquired %d records", acquired)
	}
	// Another consumer gets all ten once the locks expire.
	got := &seen{n: map[string]int{}}
	var mu sync.Mutex
	var counts []int32
	pctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	cl := e.consumer(t, "gl")
	pollLoop(pctx, &wg, cl, func(r *kgo.Record) {
		got.add(string(r.Value))
		mu.Lock()
		counts = append(counts, r.DeliveryCount())
		mu.Unlock()
		r.Ack(kgo.AckAccept)
	})
	e.waitDone(t, "gl")
	mu.Lock()
	defer mu.Unlock()
	if got.len() != 10 || len(counts) != 10 {
		t.Fatalf("redelivered %d distinct, %d deliveries", got.len(), len(counts))
	}
	for _, c := range counts {
		if c != 2 {
			t.Fatalf("delivery counts %v, want all 2", counts)
		}
	}
}

// Bad acknowledgements get Kafka's error codes and change nothing: offsets
// not acquired, another member's records, stale or unknown share session
// epochs, overlapping batches and absurd ranges. The records stay with
// their owner, who then accepts them.
func TestShareGroupBadAcknowledgements(t *testing.T) {
	e := newShareEnv(t, 1, nil)
	ctx := testCtx(t, 60*time.Second)
	raw, err := kgo.NewClient(kgo.SeedBrokers(e.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	node := raw.Broker(1)
	type ack = kmsg.ShareFetchRequestTopicPartitionAcknowledgementBatch
	fetch := func(member string, epoch int32, acks ...ack) *kmsg.ShareFetchResponse {
		f := kmsg.NewPtrShareFetchRequest()
		f.GroupID, f.MemberID = kmsg.StringPtr("gb"), kmsg.StringPtr(member)
		f.ShareSessionEpoch, f.MaxWaitMillis, f.MaxRecords, f.BatchSize = epoch, 100, 500, 500
		f.Topics = []kmsg.ShareFetchRequestTopic{{TopicID: e.id, Partitions: []kmsg.ShareFetchRequestTopicPartition{{Partition: 0, AcknowledgementBatches: acks}}}}
		r, err := f.RequestWith(ctx, node)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	ackCode := func(r *kmsg.ShareFetchResponse) int16 {
		if r.ErrorCode != 0 {
			return r.ErrorCode
		}
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				return p.AcknowledgeErrorCode
			}
		}
		return -1
	}
	want := func(what string, got int16, w *kerr.Error) {
		t.Helper()
		if got != w.Code {
			t.Errorf("%s: %v, want %v", what, kerr.ErrorForCode(got), w)
		}
	}
	accept := func(first, last int64) ack {
		return ack{FirstOffset: first, LastOffset: last, AcknowledgeTypes: []int8{1}}
	}

	want("acks on an initial fetch", fetch("m1", 0, accept(0, 0)).ErrorCode, kerr.InvalidRequest)
	want("unknown session", fetch("m9", 4).ErrorCode, kerr.ShareSessionNotFound)
	// m1's first fetches open its session and initialise the partition at
	// the log end (once __share_group_state is loaded).
	epoch, acquired := int32(0), 0
	for ; ; epoch++ {
		fetch("m1", epoch)
		if _, ok := e.b.shares.Offsets(share.PartKey{Group: "gb", TP: share.TP{Topic: e.id}}); ok {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("share partition never initialised")
		}
		time.Sleep(20 * time.Millisecond)
	}
	epoch++
	e.produce(t, 10)
	for ; acquired < 10 && ctx.Err() == nil; epoch++ {
		for _, tp := range fetch("m1", epoch).Topics {
			for _, p := range tp.Partitions {
				for _, a := range p.AcquiredRecords {
					acquired += int(a.LastOffset - a.FirstOffset + 1)
				}
			}
		}
	}
	want("stale session epoch", fetch("m1", epoch+3).ErrorCode, kerr.InvalidShareSessionEpoch)
	fetch("m2", 0)
	want("another member's records", ackCode(fetch("m2", 1, accept(0, 9))), kerr.InvalidRecordState)
	want("offsets never acquired", ackCode(fetch("m1", epoch, accept(5, 20))), kerr.InvalidRecordState)
	epoch++
	want("absurd range", ackCode(fetch("m1", epoch, accept(0, 1<<62))), kerr.InvalidRecordState)
	epoch++
	want("first after last", ackCode(fetch("m1", epoch, accept(5, 4))), kerr.InvalidRequest)
	epoch++
	want("overlapping batches", ackCode(fetch("m1", epoch, accept(0, 5), accept(5, 9))), kerr.InvalidRequest)
	epoch++
	want("bad type count", ackCode(fetch("m1", epoch, ack{FirstOffset: 0, LastOffset: 9, AcknowledgeTypes: []int8{1, 1}})), kerr.InvalidRequest)
	epoch++
	want("unknown type", ackCode(fetch("m1", epoch, ack{FirstOffset: 0, LastOffset: 9, AcknowledgeTypes: []int8{7}})), kerr.InvalidRequest)
	epoch++
	// ShareAcknowledge cannot open a session.
	sa := kmsg.NewPtrShareAcknowledgeRequest()
	sa.GroupID, sa.MemberID = kmsg.StringPtr("gb"), kmsg.StringPtr("m3")
	if r, err := sa.RequestWith(ctx, node); err != nil || r.ErrorCode != kerr.InvalidShareSessionEpoch.Code {
		t.Errorf("ShareAcknowledge at epoch 0: %v %v", err, r)
	}
	// Nothing changed: m1 still holds all ten and accepts them.
	key := share.PartKey{Group: "gb", TP: share.TP{Topic: e.id}}
	if start, _ := e.b.shares.Offsets(key); start != 0 {
		t.Fatalf("SPSO moved to %d by refused acknowledgements", start)
	}
	if c := ackCode(fetch("m1", epoch, accept(0, 9))); c != 0 {
		t.Fatalf("owner's accept: %v", kerr.ErrorForCode(c))
	}
	if start, _ := e.b.shares.Offsets(key); start != 10 {
		t.Fatalf("SPSO %d after the owner accepted 0-9", start)
	}
}
