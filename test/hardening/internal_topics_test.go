package hardening

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/clustertest"
	"github.com/samsa-streaming/samsa/internal/coordinator"
)

// Few partitions, so that the tests can reason about each one.
const itConfig = "offsets.topic.num.partitions=3\ntransaction.state.log.num.partitions=2\n"

const (
	itOffsetsParts = 3
	itTxnParts     = 2
)

func itStart(t *testing.T) (*clustertest.Node, *kgo.Client, *kadm.Client) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the samsa binary")
	}
	n := clustertest.Start(t, clustertest.Options{Config: itConfig})
	cl := n.Client(t)
	return n, cl, kadm.NewClient(cl)
}

func itCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func itCreateTopic(ctx context.Context, t *testing.T, adm *kadm.Client, name string, parts int32) {
	t.Helper()
	resp, err := adm.CreateTopic(ctx, parts, 1, nil, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

// itGroupFor is a group id whose __consumer_offsets partition is p.
func itGroupFor(p int32) string {
	for i := 0; ; i++ {
		g := fmt.Sprintf("it-group-%d", i)
		if coordinator.PartitionFor(g, itOffsetsParts) == p {
			return g
		}
	}
}

// itGarbageBatch is issue #11's batch: 90 bytes, well framed, a valid CRC,
// gzip in its attributes and no gzip in its body, at baseOffset.
func itGarbageBatch(t *testing.T, baseOffset int64) []byte {
	t.Helper()
	b, err := batch.Build(batch.CodecNone, []batch.Record{{Value: []byte("x")}}, batch.BuildOptions{BaseTimestamp: time.Now().UnixMilli()})
	if err != nil {
		t.Fatal(err)
	}
	b = append(b[:batch.HeaderSize:batch.HeaderSize], make([]byte, 90-batch.HeaderSize)...)
	for i := batch.HeaderSize; i < len(b); i++ {
		b[i] = byte(i*7 + 3)
	}
	binary.BigEndian.PutUint32(b[8:12], uint32(len(b)-batch.LogOverhead))
	binary.BigEndian.PutUint16(b[21:23], uint16(batch.CodecGzip))
	batch.SetBaseOffset(b, baseOffset)
	batch.UpdateCRC(b)
	return b
}

// itValidBatch is an ordinary one-record batch.
func itValidBatch(t *testing.T) []byte {
	t.Helper()
	b, err := batch.Build(batch.CodecNone, []batch.Record{{Key: []byte("k"), Value: []byte("v")}}, batch.BuildOptions{BaseTimestamp: time.Now().UnixMilli()})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// itRawProduce sends one batch to topic-p (named and, for Produce v13, by
// id) with acks=all and returns the partition's error code.
func itRawProduce(ctx context.Context, t *testing.T, cl *kgo.Client, adm *kadm.Client, topic string, p int32, records []byte) int16 {
	t.Helper()
	md, err := adm.Metadata(ctx, topic)
	if err != nil || md.Topics[topic].Err != nil {
		t.Fatalf("metadata of %s: %v %v", topic, err, md.Topics[topic].Err)
	}
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, 10000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic, rt.TopicID = topic, md.Topics[topic].ID
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = p, records
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("produce to %s-%d: %v", topic, p, err)
	}
	return resp.Topics[0].Partitions[0].ErrorCode
}

// itEnd is the log end offset of topic-p.
func itEnd(ctx context.Context, t *testing.T, adm *kadm.Client, topic string, p int32) int64 {
	t.Helper()
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("ListEndOffsets %s: %v", topic, err)
	}
	o, ok := ends.Lookup(topic, p)
	if !ok || o.Err != nil {
		t.Fatalf("ListEndOffsets %s-%d: present %v, err %v", topic, p, ok, o.Err)
	}
	return o.Offset
}

// itWaitTopic waits until topic is in the metadata with parts partitions.
func itWaitTopic(ctx context.Context, t *testing.T, adm *kadm.Client, topic string, parts int) {
	t.Helper()
	for {
		md, err := adm.Metadata(ctx, topic)
		if err == nil {
			if d, ok := md.Topics[topic]; ok && d.Err == nil && len(d.Partitions) == parts {
				return
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("%s did not appear: %v", topic, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// itCommit commits offset for data-p in group, retrying while the
// coordinator loads.
func itCommit(ctx context.Context, t *testing.T, adm *kadm.Client, group, topic string, p int32, offset int64) {
	t.Helper()
	var offs kadm.Offsets
	offs.Add(kadm.Offset{Topic: topic, Partition: p, At: offset, LeaderEpoch: -1})
	for {
		r, err := adm.CommitOffsets(ctx, group, offs)
		if err == nil {
			err = r.Error()
		}
		if err == nil {
			return
		}
		if ctx.Err() != nil || !itRetriable(err) {
			t.Fatalf("commit %s %s-%d=%d: %v", group, topic, p, offset, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func itRetriable(err error) bool {
	return errors.Is(err, kerr.CoordinatorLoadInProgress) || errors.Is(err, kerr.CoordinatorNotAvailable) || errors.Is(err, kerr.NotCoordinator)
}

// itFetched is the committed offset of topic-p in group, waiting (up to
// ctx) while the coordinator loads.
func itFetched(ctx context.Context, t *testing.T, adm *kadm.Client, group, topic string, p int32) int64 {
	t.Helper()
	for {
		r, err := adm.FetchOffsets(ctx, group)
		if err == nil {
			err = r.Error()
		}
		if err == nil {
			o, ok := r.Lookup(topic, p)
			if !ok {
				t.Fatalf("group %s has no offset for %s-%d: %v", group, topic, p, r)
			}
			return o.At
		}
		if ctx.Err() != nil || !itRetriable(err) {
			t.Fatalf("fetch offsets of %s: %v", group, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A client cannot write an internal topic: Produce of a valid batch or of
// the 90-byte garbage batch to __consumer_offsets and __transaction_state
// gets INVALID_TOPIC_EXCEPTION and appends nothing, DeleteRecords is
// refused alike, and a group on the partition goes on committing.
func TestITClientsCannotWriteInternalTopics(t *testing.T) {
	_, cl, adm := itStart(t)
	ctx := itCtx(t)
	itCreateTopic(ctx, t, adm, "it-data", 1)
	const p = 1
	group := itGroupFor(p)
	itCommit(ctx, t, adm, group, "it-data", 0, 5) // creates __consumer_offsets

	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.CoordinatorType, fc.CoordinatorKey, fc.CoordinatorKeys = 1, "it-txn", []string{"it-txn"}
	if _, err := fc.RequestWith(ctx, cl); err != nil { // creates __transaction_state
		t.Fatal(err)
	}
	itWaitTopic(ctx, t, adm, coordinator.TxnStateTopic, itTxnParts)

	for _, topic := range []string{coordinator.OffsetsTopic, coordinator.TxnStateTopic} {
		for _, part := range []int32{0, 1} {
			end := itEnd(ctx, t, adm, topic, part)
			for what, b := range map[string][]byte{"valid batch": itValidBatch(t), "garbage batch": itGarbageBatch(t, 0)} {
				if code := itRawProduce(ctx, t, cl, adm, topic, part, b); code != kerr.InvalidTopicException.Code {
					t.Errorf("produce %s to %s-%d: %v, want INVALID_TOPIC_EXCEPTION", what, topic, part, kerr.ErrorForCode(code))
				}
			}
			if got := itEnd(ctx, t, adm, topic, part); got != end {
				t.Errorf("%s-%d end offset %d after refused produces, was %d", topic, part, got, end)
			}
		}
	}

	dr, err := adm.DeleteRecords(ctx, kadm.Offsets{coordinator.OffsetsTopic: {p: {Topic: coordinator.OffsetsTopic, Partition: p, At: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := dr.Lookup(coordinator.OffsetsTopic, p); !ok || !errors.Is(r.Err, kerr.InvalidTopicException) {
		t.Errorf("DeleteRecords of %s-%d: %+v, want INVALID_TOPIC_EXCEPTION", coordinator.OffsetsTopic, p, r)
	}

	itCommit(ctx, t, adm, group, "it-data", 0, 7)
	if got := itFetched(ctx, t, adm, group, "it-data", 0); got != 7 {
		t.Fatalf("committed offset %d, want 7", got)
	}
}

// itPlantBatch appends b to the active segment of dir (the .log file with
// the highest base offset).
func itPlantBatch(t *testing.T, dir string, b []byte) {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("no segments in %s: %v", dir, err)
	}
	sort.Strings(logs)
	f, err := os.OpenFile(logs[len(logs)-1], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// A batch on disk that the group coordinator cannot decode (planted in an
// offsets partition while the broker is down) is skipped with a report on
// the next load: the group loads, with the offsets committed before it,
// and commits after it.
func TestITBadBatchOnDiskDoesNotStallLoad(t *testing.T) {
	n, _, adm := itStart(t)
	ctx := itCtx(t)
	itCreateTopic(ctx, t, adm, "it-data", 2)
	const p = 2
	group := itGroupFor(p)
	itCommit(ctx, t, adm, group, "it-data", 0, 11)
	itCommit(ctx, t, adm, group, "it-data", 1, 22)
	end := itEnd(ctx, t, adm, coordinator.OffsetsTopic, p)

	n.Stop()
	itPlantBatch(t, filepath.Join(n.DataDir, fmt.Sprintf("%s-%d", coordinator.OffsetsTopic, p)), itGarbageBatch(t, end))
	n.Restart(t)
	cl2 := n.Client(t)
	adm2 := kadm.NewClient(cl2)
	ctx2 := itCtx(t)

	if got := itEnd(ctx2, t, adm2, coordinator.OffsetsTopic, p); got != end+1 {
		t.Fatalf("%s-%d end %d after restart, want %d (the planted batch kept)", coordinator.OffsetsTopic, p, got, end+1)
	}
	if got := itFetched(ctx2, t, adm2, group, "it-data", 0); got != 11 {
		t.Fatalf("it-data-0 committed %d after the reload, want 11", got)
	}
	if got := itFetched(ctx2, t, adm2, group, "it-data", 1); got != 22 {
		t.Fatalf("it-data-1 committed %d after the reload, want 22", got)
	}
	itCommit(ctx2, t, adm2, group, "it-data", 0, 12)
	if got := itFetched(ctx2, t, adm2, group, "it-data", 0); got != 12 {
		t.Fatalf("it-data-0 committed %d, want 12", got)
	}
	logText, err := os.ReadFile(n.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("partition=%d offset=%d", p, end)
	var found bool
	for _, line := range strings.Split(string(logText), "\n") {
		if strings.Contains(line, "skipping undecodable batch") && strings.Contains(line, want) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no skip report with %q in the broker log", want)
	}
}

// A KIP-848 regex subscription is resolved against every topic, internal
// ones included, as Kafka 4 does (franz-go's Test848RegexBrokerResolves):
// franz-go wraps its patterns in .*(?:…).*, so "<pfx>orders" also matches
// "<pfx>orders-v2", and the internal topic it names is assigned and
// adopted.
func TestITRegexSubscriptionResolvesInternalTopics(t *testing.T) {
	n, cl, adm := itStart(t)
	n.RequireAPIs(t, "KIP-848 consumer groups", kmsg.ConsumerGroupHeartbeat)
	ctx := itCtx(t)
	const pfx = "it-regex-"
	regular := []string{pfx + "orders", pfx + "orders-v2"}
	for _, topic := range regular {
		itCreateTopic(ctx, t, adm, topic, 1)
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatalf("produce to %s: %v", topic, err)
		}
	}
	internal := coordinator.OffsetsTopic

	var mu sync.Mutex
	assigned := map[string]bool{}
	consumer := n.Client(t,
		kgo.ServerSideBalancer(),
		kgo.ConsumerGroup("it-regex-group"),
		kgo.ConsumeRegex(),
		kgo.ConsumeTopics(pfx+"orders", internal),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.MetadataMinAge(100*time.Millisecond),
		kgo.FetchMaxWait(250*time.Millisecond),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			mu.Lock()
			defer mu.Unlock()
			for topic := range m {
				assigned[topic] = true
			}
		}),
	)
	seen := map[string]bool{}
	for len(seen) < len(regular) && ctx.Err() == nil {
		fs := consumer.PollFetches(ctx)
		fs.EachTopic(func(ft kgo.FetchTopic) {
			if len(ft.Records()) > 0 {
				seen[ft.Topic] = true
			}
		})
	}
	for _, topic := range regular {
		if !seen[topic] {
			t.Errorf("did not consume from %s", topic)
		}
	}
	for {
		mu.Lock()
		ok := assigned[internal]
		mu.Unlock()
		if ok && slices.Contains(consumer.GetConsumeTopics(), internal) {
			break
		}
		if ctx.Err() != nil {
			mu.Lock()
			t.Fatalf("%s not assigned and consumed: assigned %v, consuming %v", internal, assigned, consumer.GetConsumeTopics())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
