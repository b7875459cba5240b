package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/batch"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

const replicationSettings = fastLiveness + "replica.lag.time.max.ms=2000\n"

// produceN writes n records "prefix-i" with acks=all to one partition and
// returns their offsets.
func produceN(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, part int32, prefix string, n int) []int64 {
	t.Helper()
	offs := make([]int64, 0, n)
	for i := range n {
		r := &kgo.Record{Topic: topic, Partition: part, Value: []byte(prefix + "-" + strconv.Itoa(i))}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce %s-%d: %v", prefix, i, err)
		}
		offs = append(offs, r.Offset)
	}
	return offs
}

// readAll reads partition part from the start until it has n records.
func readAll(ctx context.Context, t *testing.T, c *clustertest.Cluster, topic string, part int32, n int) []string {
	t.Helper()
	cons := c.Client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {part: kgo.NewOffset().AtStart()}}))
	var vals []string
	for len(vals) < n {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records: %v", len(vals), n, ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset != int64(len(vals)) {
				t.Errorf("record at offset %d, expected %d", r.Offset, len(vals))
			}
			vals = append(vals, string(r.Value))
		})
	}
	return vals
}

// rawProduce sends one record with the given acks straight to a broker and
// returns the partition's error code.
func rawProduce(ctx context.Context, cl *kgo.Client, broker int32, topic string, part int32, acks int16) (int16, error) {
	b, err := batch.Build(batch.CodecNone, []batch.Record{{Value: []byte("raw")}}, batch.BuildOptions{BaseTimestamp: time.Now().UnixMilli(), ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
	if err != nil {
		return 0, err
	}
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = acks, 5000
	md, err := kadm.NewClient(cl).Metadata(ctx, topic)
	if err != nil {
		return 0, err
	}
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic, rt.TopicID = topic, md.Topics[topic].ID
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = part, b
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl.Broker(int(broker)))
	if err != nil {
		return 0, err
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return 0, errors.New("malformed produce response")
	}
	return resp.Topics[0].Partitions[0].ErrorCode, nil
}

func partitionState(ctx context.Context, adm *kadm.Client, topic string, part int32) (kadm.PartitionDetail, error) {
	md, err := adm.Metadata(ctx, topic)
	if err != nil {
		return kadm.PartitionDetail{}, err
	}
	td, ok := md.Topics[topic]
	if !ok || td.Err != nil {
		return kadm.PartitionDetail{}, fmt.Errorf("topic %s: %v", topic, td.Err)
	}
	pd, ok := td.Partitions[part]
	if !ok {
		return pd, fmt.Errorf("no partition %d", part)
	}
	return pd, nil
}

// TestReplicationFailover: an RF=3 topic with min.insync.replicas=2 keeps
// every acks=all record through a kill -9 of its leader; the ISR shrinks,
// the restarted broker catches up and rejoins, and min.insync.replicas is
// enforced when two replicas are down.
func TestReplicationFailover(t *testing.T) {
	c := clustertest.StartCluster(t, 3, clustertest.ClusterOptions{Config: replicationSettings})
	ctx := ctxT(t, 3*time.Minute)
	adm := kadm.NewClient(c.Client(t))
	res, err := adm.CreateTopic(ctx, 1, 3, map[string]*string{"min.insync.replicas": kadm.StringPtr("2")}, "rep")
	if err != nil || res.Err != nil {
		t.Fatalf("create: %v %v", err, res.Err)
	}
	prod := c.Client(t, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RecordDeliveryTimeout(60*time.Second))
	before := produceN(ctx, t, prod, "rep", 0, "a", 200)
	if before[199] != 199 {
		t.Fatalf("offsets %v", before[195:])
	}
	var pd kadm.PartitionDetail
	eventually(t, "topic metadata", 10*time.Second, func() error {
		pd, err = partitionState(ctx, adm, "rep", 0)
		return err
	})
	if len(pd.ISR) != 3 {
		t.Fatalf("ISR %v, want all 3 replicas", pd.ISR)
	}
	oldLeader := pd.Leader
	start := time.Now()
	c.Node(oldLeader).Kill()
	// The next acks=all produce succeeds on a new leader.
	r := &kgo.Record{Topic: "rep", Partition: 0, Value: []byte("after-kill")}
	if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
		t.Fatalf("produce after killing the leader: %v", err)
	}
	t.Logf("failover: kill -9 to first acks=all produce %v", time.Since(start).Round(time.Millisecond))
	if r.Offset != 200 {
		t.Fatalf("first record after failover at offset %d, want 200", r.Offset)
	}
	eventually(t, "ISR without the killed broker", 30*time.Second, func() error {
		pd, err := partitionState(ctx, adm, "rep", 0)
		if err != nil {
			return err
		}
		if pd.Leader == oldLeader || slices.Contains(pd.ISR, oldLeader) || len(pd.ISR) != 2 {
			return fmt.Errorf("leader %d ISR %v", pd.Leader, pd.ISR)
		}
		return nil
	})
	produceN(ctx, t, prod, "rep", 0, "b", 100)
	c.Node(oldLeader).Restart(t)
	eventually(t, "the restarted broker back in the ISR", 60*time.Second, func() error {
		pd, err := partitionState(ctx, adm, "rep", 0)
		if err != nil {
			return err
		}
		if len(pd.ISR) != 3 {
			return fmt.Errorf("ISR %v", pd.ISR)
		}
		return nil
	})
	vals := readAll(ctx, t, c, "rep", 0, 301)
	for i := range 200 {
		if vals[i] != "a-"+strconv.Itoa(i) {
			t.Fatalf("offset %d holds %q", i, vals[i])
		}
	}
	if vals[200] != "after-kill" || vals[201] != "b-0" || vals[300] != "b-99" {
		t.Fatalf("tail %q", vals[198:])
	}

	// Two replicas down with min.insync.replicas=2: acks=all is refused,
	// acks=1 still works.
	pd, _ = partitionState(ctx, adm, "rep", 0)
	var down []int32
	for _, id := range pd.Replicas {
		if id != pd.Leader && len(down) < 1 {
			down = append(down, id)
		}
	}
	for _, id := range down {
		c.Node(id).Kill()
	}
	eventually(t, "ISR shrinking to 2", 30*time.Second, func() error {
		pd, err := partitionState(ctx, adm, "rep", 0)
		if err != nil {
			return err
		}
		if len(pd.ISR) != 2 {
			return fmt.Errorf("ISR %v", pd.ISR)
		}
		return nil
	})
	// Killing a second broker would take the 3-voter metadata quorum
	// with it (no ISR change could commit; acks=all then times out, as in
	// Kafka). Raise min.insync.replicas above the ISR instead.
	pd, _ = partitionState(ctx, adm, "rep", 0)
	if _, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "min.insync.replicas", Value: kadm.StringPtr("3")}}, "rep"); err != nil {
		t.Fatal(err)
	}
	raw := c.Client(t, kgo.RequiredAcks(kgo.AllISRAcks()))
	eventually(t, "NOT_ENOUGH_REPLICAS", 30*time.Second, func() error {
		code, err := rawProduce(ctx, raw, pd.Leader, "rep", 0, -1)
		if err != nil {
			return err
		}
		if code != kerr.NotEnoughReplicas.Code {
			return fmt.Errorf("produce answered %v", kerr.ErrorForCode(code))
		}
		return nil
	})
	// (kgo sets a raw Produce's acks from the client's setting.)
	raw1 := c.Client(t, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	if code, err := rawProduce(ctx, raw1, pd.Leader, "rep", 0, 1); err != nil || code != 0 {
		t.Fatalf("acks=1 with the ISR below min.insync.replicas: %v %v", err, kerr.ErrorForCode(code))
	}
	if _, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "min.insync.replicas", Value: kadm.StringPtr("2")}}, "rep"); err != nil {
		t.Fatal(err)
	}
	for _, id := range down {
		c.Node(id).Restart(t)
	}
	eventually(t, "ISR back to 3", 60*time.Second, func() error {
		pd, err := partitionState(ctx, adm, "rep", 0)
		if err != nil {
			return err
		}
		if len(pd.ISR) != 3 {
			return fmt.Errorf("ISR %v", pd.ISR)
		}
		return nil
	})

	// The leader moved off the preferred replica; a preferred election
	// (ElectLeaders) moves it back.
	pd, _ = partitionState(ctx, adm, "rep", 0)
	if pd.Leader != pd.Replicas[0] {
		er, err := adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, kadm.TopicsSet{"rep": {0: {}}})
		if err != nil {
			t.Fatalf("ElectLeaders: %v", err)
		}
		for _, ps := range er {
			for _, r := range ps {
				if r.Err != nil {
					t.Fatalf("preferred election: %v", r.Err)
				}
			}
		}
		eventually(t, "the preferred leader", 20*time.Second, func() error {
			pd, err := partitionState(ctx, adm, "rep", 0)
			if err != nil {
				return err
			}
			if pd.Leader != pd.Replicas[0] {
				return fmt.Errorf("leader %d, preferred %d", pd.Leader, pd.Replicas[0])
			}
			return nil
		})
	}
	produceN(ctx, t, prod, "rep", 0, "c", 10)
}

// TestLastReplicaStandingReelected (KIP-966): a partition whose only
// replica dies goes leaderless with that replica in its ELR; when the
// broker comes back it is leader again and no acknowledged record is lost.
func TestLastReplicaStandingReelected(t *testing.T) {
	c := clustertest.StartCluster(t, 3, clustertest.ClusterOptions{Config: replicationSettings})
	ctx := ctxT(t, 2*time.Minute)
	adm := kadm.NewClient(c.Client(t))
	res, err := adm.CreateTopic(ctx, 1, 1, nil, "solo")
	if err != nil || res.Err != nil {
		t.Fatalf("create: %v %v", err, res.Err)
	}
	var pd kadm.PartitionDetail
	eventually(t, "topic metadata", 10*time.Second, func() error {
		pd, err = partitionState(ctx, adm, "solo", 0)
		return err
	})
	prod := c.Client(t, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RecordDeliveryTimeout(60*time.Second), kgo.WithLogger(kgo.BasicLogger(os.Stderr, kgo.LogLevelWarn, nil)))
	produceN(ctx, t, prod, "solo", 0, "s", 50)
	owner := pd.Leader
	c.Node(owner).Kill()
	eventually(t, "a leaderless partition", 30*time.Second, func() error {
		pd, err := partitionState(ctx, adm, "solo", 0)
		if err != nil && !errors.Is(err, kerr.LeaderNotAvailable) {
			return err
		}
		if pd.Leader >= 0 {
			return fmt.Errorf("leader %d", pd.Leader)
		}
		return nil
	})
	c.Node(owner).Restart(t)
	eventually(t, "the replica re-elected", 30*time.Second, func() error {
		pd, err := partitionState(ctx, adm, "solo", 0)
		if err != nil {
			return err
		}
		if pd.Leader != owner {
			return fmt.Errorf("leader %d", pd.Leader)
		}
		return nil
	})
	produceN(ctx, t, prod, "solo", 0, "t", 5)
	vals := readAll(ctx, t, c, "solo", 0, 55)
	if vals[49] != "s-49" || vals[54] != "t-4" {
		t.Fatalf("values %q", vals[45:])
	}
}

// TestReassignmentMovesReplicas: AlterPartitionReassignments moves a
// partition from broker 1 to brokers 2 and 3 online; the data follows, the
// new replicas join the ISR, the old one is dropped, and every record is
// readable from the new leader.
func TestReassignmentMovesReplicas(t *testing.T) {
	c := clustertest.StartCluster(t, 3, clustertest.ClusterOptions{Config: replicationSettings})
	ctx := ctxT(t, 2*time.Minute)
	adm := kadm.NewClient(c.Client(t))
	resp, err := adm.CreateTopic(ctx, -1, -1, nil, "mv")
	if err == nil && resp.Err != nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatal(err)
	}
	var pd kadm.PartitionDetail
	eventually(t, "topic metadata", 10*time.Second, func() error {
		pd, err = partitionState(ctx, adm, "mv", 0)
		return err
	})
	from := pd.Replicas
	var to []int32
	for _, id := range []int32{1, 2, 3} {
		if !slices.Contains(from, id) {
			to = append(to, id)
		}
	}
	prod := c.Client(t, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RecordDeliveryTimeout(60*time.Second))
	produceN(ctx, t, prod, "mv", 0, "m", 300)

	req := kadm.AlterPartitionAssignmentsReq{}
	req.Assign("mv", 0, to)
	res, err := adm.AlterPartitionAssignments(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	res.Each(func(r kadm.AlterPartitionAssignmentsResponse) {
		if r.Err != nil {
			t.Fatalf("reassign %s-%d: %v", r.Topic, r.Partition, r.Err)
		}
	})
	eventually(t, "the reassignment to finish", 60*time.Second, func() error {
		lr, err := adm.ListPartitionReassignments(ctx, kadm.TopicsSet{"mv": {0: {}}})
		if err != nil {
			return err
		}
		if len(lr) > 0 {
			return fmt.Errorf("still reassigning: %v", lr)
		}
		pd, err := partitionState(ctx, adm, "mv", 0)
		if err != nil {
			return err
		}
		got := slices.Clone(pd.Replicas)
		slices.Sort(got)
		isr := slices.Clone(pd.ISR)
		slices.Sort(isr)
		if !slices.Equal(got, to) || !slices.Equal(isr, to) {
			return fmt.Errorf("replicas %v ISR %v, want %v", pd.Replicas, pd.ISR, to)
		}
		return nil
	})
	// Writes keep working on the new replica set, and nothing was lost.
	produceN(ctx, t, prod, "mv", 0, "n", 10)
	vals := readAll(ctx, t, c, "mv", 0, 310)
	if vals[0] != "m-0" || vals[299] != "m-299" || vals[309] != "n-9" {
		t.Fatalf("values %q ... %q", vals[:2], vals[298:])
	}
}

// TestControlledShutdownMovesLeadership: SIGTERM on a partition leader
// hands leadership to another in-sync replica before the process exits, so
// an idempotent acks=all producer running across the stop sees no error and
// loses nothing.
func TestControlledShutdownMovesLeadership(t *testing.T) {
	c := clustertest.StartCluster(t, 3, clustertest.ClusterOptions{Config: replicationSettings})
	ctx := ctxT(t, 2*time.Minute)
	adm := kadm.NewClient(c.Client(t))
	res, err := adm.CreateTopic(ctx, 1, 3, map[string]*string{"min.insync.replicas": kadm.StringPtr("2")}, "cs")
	if err != nil || res.Err != nil {
		t.Fatalf("create: %v %v", err, res.Err)
	}
	var pd kadm.PartitionDetail
	eventually(t, "a full ISR", 20*time.Second, func() error {
		pd, err = partitionState(ctx, adm, "cs", 0)
		if err == nil && len(pd.ISR) != 3 {
			err = fmt.Errorf("ISR %v", pd.ISR)
		}
		return err
	})
	prod := c.Client(t, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RecordDeliveryTimeout(60*time.Second))
	stop := make(chan struct{})
	done := make(chan error, 1)
	var acked []int64
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			r := &kgo.Record{Topic: "cs", Partition: 0, Value: []byte("v-" + strconv.Itoa(i))}
			if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
				done <- fmt.Errorf("record %d: %w", i, err)
				return
			}
			acked = append(acked, r.Offset)
		}
	}()
	time.Sleep(time.Second)
	old := pd.Leader
	c.Node(old).Stop()
	if !strings.Contains(readLog(t, c.Node(old).LogPath), "controlled shutdown: leaderships moved") {
		t.Errorf("the stopped leader did not report moving its leaderships before exiting")
	}
	time.Sleep(time.Second)
	close(stop)
	if err := <-done; err != nil {
		t.Fatalf("producer saw an error across the controlled shutdown: %v", err)
	}
	// The broker that answers may apply the last change a moment after
	// the stopped controller handed the quorum over.
	eventually(t, "a leader other than the stopped broker", 10*time.Second, func() error {
		pd, err := partitionState(ctx, adm, "cs", 0)
		if err != nil {
			return err
		}
		if pd.Leader == old || pd.Leader < 0 {
			return fmt.Errorf("leader %d after stopping %d", pd.Leader, old)
		}
		return nil
	})
	vals := readAll(ctx, t, c, "cs", 0, len(acked))
	for i, off := range acked {
		if off != int64(i) || vals[i] != "v-"+strconv.Itoa(i) {
			t.Fatalf("ack %d at offset %d holds %q", i, off, vals[i])
		}
	}
	t.Logf("%d acks across the controlled shutdown", len(acked))
}

func readLog(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
