package eos_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// TestMultiNodeTransactions runs transactions on a three-node cluster whose
// data partitions, transaction coordinators and group coordinator are
// spread over all three brokers, so that COMMIT/ABORT markers travel as
// WriteTxnMarkers to other brokers (including the __consumer_offsets
// partition of the group coordinator) and partition leaders verify
// transactional produce with AddPartitionsToTxn at another broker's
// coordinator (KIP-890). Once with replication factor 1 everywhere, once
// with 3 (internal topics too).
func TestMultiNodeTransactions(t *testing.T) {
	for _, rf := range []int16{1, 3} {
		t.Run(fmt.Sprintf("rf%d", rf), func(t *testing.T) {
			c := startTxnCluster(t, rf)
			t.Run("interleaved", func(t *testing.T) { testMultiNodeInterleaved(t, c, rf) })
			t.Run("pipeline", func(t *testing.T) { testMultiNodePipeline(t, c, rf) })
		})
	}
}

// startTxnCluster starts three combined nodes with internal topics of
// replication factor rf, and fails without the transaction APIs.
func startTxnCluster(t *testing.T, rf int16) *clustertest.Cluster {
	t.Helper()
	cfg := nodeConfig + fmt.Sprintf("offsets.topic.replication.factor=%d\ntransaction.state.log.replication.factor=%d\ntransaction.state.log.min.isr=%d\n",
		rf, rf, min(rf, 2))
	c := clustertest.StartCluster(t, 3, clustertest.ClusterOptions{Config: cfg})
	c.Nodes[0].RequireGroups(t)
	c.Nodes[0].RequireAPIs(t, "transactions", txnAPIs...)
	return c
}

// createSpread creates topic with partition p's replicas starting at
// broker (p+shift)%3+1, so consecutive partitions have leaders on
// different brokers, and waits until each partition has that leader.
func createSpread(ctx context.Context, t *testing.T, c *clustertest.Cluster, topic string, partitions int32, rf int16, shift int32) {
	t.Helper()
	cl := c.Client(t)
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, -1, -1
	want := map[int32]int32{}
	for p := range partitions {
		ra := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		ra.Partition = p
		for r := range int32(rf) {
			ra.Replicas = append(ra.Replicas, (p+shift+r)%3+1)
		}
		want[p] = ra.Replicas[0]
		rt.ReplicaAssignment = append(rt.ReplicaAssignment, ra)
	}
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 30000
	resp, err := req.RequestWith(ctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.Topics[0].ErrorCode)
	}
	if err != nil {
		t.Fatalf("create %s: %v", topic, err)
	}
	adm := kadm.NewClient(cl)
	for {
		md, err := adm.Metadata(ctx, topic)
		ready := err == nil
		if ready {
			td := md.Topics[topic]
			ready = td.Err == nil && len(td.Partitions) == int(partitions)
			for _, p := range td.Partitions {
				ready = ready && p.Err == nil && p.Leader == want[p.Partition] && len(p.ISR) == int(rf)
			}
		}
		if ready {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("topic %s: leaders not as assigned (%v): %v", topic, want, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// pickTxnIDs returns n transactional ids named prefix-<k>, each coordinated
// by a different broker, none by broker avoid (0: any), with their
// coordinators.
func pickTxnIDs(ctx context.Context, t *testing.T, adm *kadm.Client, prefix string, n int, avoid int32) ([]string, []int32) {
	t.Helper()
	var ids []string
	var coords []int32
	used := map[int32]bool{}
	if avoid > 0 {
		used[avoid] = true
	}
	for k := 0; k < 200 && len(ids) < n; k++ {
		id := fmt.Sprintf("%s-%d", prefix, k)
		co := findCoordinator(ctx, t, adm, id, true)
		if used[co] {
			continue
		}
		used[co] = true
		ids, coords = append(ids, id), append(coords, co)
	}
	if len(ids) < n {
		t.Fatalf("no %d transactional ids with distinct coordinators among 200 candidates", n)
	}
	return ids, coords
}

// findCoordinator answers the coordinator of a transactional id (txn) or a
// group, retrying while it is being elected.
func findCoordinator(ctx context.Context, t *testing.T, adm *kadm.Client, key string, txn bool) int32 {
	t.Helper()
	for {
		var rs kadm.FindCoordinatorResponses
		if txn {
			rs = adm.FindTxnCoordinators(ctx, key)
		} else {
			rs = adm.FindGroupCoordinators(ctx, key)
		}
		r := rs[key]
		leader, err := r.NodeID, r.Err
		if err == nil && leader > 0 {
			return leader
		}
		select {
		case <-ctx.Done():
			t.Fatalf("coordinator of %q: %v", key, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// testMultiNodeInterleaved: three franz-go transactional producers, each
// coordinated by a different broker, interleave committed and aborted
// transactions over six partitions led by all three brokers; a
// read_committed consumer sees exactly the committed records in order, a
// read_uncommitted one everything.
func testMultiNodeInterleaved(t *testing.T, c *clustertest.Cluster, rf int16) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	topic := fmt.Sprintf("mn-interleave-rf%d", rf)
	createSpread(ctx, t, c, topic, 6, rf, 0)
	adm := kadm.NewClient(c.Client(t))
	ids, coords := pickTxnIDs(ctx, t, adm, fmt.Sprintf("mn-txn-rf%d", rf), 3, 0)
	t.Logf("transactional ids %v coordinated by brokers %v", ids, coords)

	patterns := []string{"cac", "cca", "acc"}
	var plans []txnPlan
	for i, id := range ids {
		plans = append(plans, txnPlan{id: id, n: 9, k: 12, pattern: patterns[i], partitions: 6})
	}
	node := c.Nodes[0].Node
	errs := make([]error, len(plans))
	var wg sync.WaitGroup
	for i, p := range plans {
		wg.Go(func() { errs[i] = produceFranz(ctx, node, topic, p) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("producer %s (coordinator %d): %v", ids[i], coords[i], err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	nCommitted, nAll := 0, 0
	for _, p := range plans {
		for _, v := range p.want(false) {
			nCommitted += len(v)
		}
		for _, v := range p.want(true) {
			nAll += len(v)
		}
	}
	checkPlans(t, "read_committed", consumeAll(t, node, topic, true, nCommitted), false, plans...)
	checkPlans(t, "read_uncommitted", consumeAll(t, node, topic, false, nAll), true, plans...)

	// Every transaction has ended on every partition: the last stable
	// offset has reached the high watermark everywhere.
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	for {
		stable, err := adm.ListCommittedOffsets(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		lagging := 0
		stable.Each(func(o kadm.ListedOffset) {
			if e, _ := ends.Lookup(topic, o.Partition); o.Offset != e.Offset {
				lagging++
			}
		})
		if lagging == 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d partitions keep a last stable offset below their end", lagging)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// testMultiNodePipeline runs the GroupTransactSession pipeline of
// TestExactlyOncePipeline with its input, output, transaction coordinator
// and group coordinator on different brokers, kills it once mid-stream and
// restarts it: every input record reaches the output exactly once, in
// order, and the group's committed offsets (made visible by the marker the
// transaction coordinator sends to the group coordinator) are the input's
// end offsets.
func testMultiNodePipeline(t *testing.T, c *clustertest.Cluster, rf int16) {
	bin, err := buildPipeline()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	in, out := fmt.Sprintf("mn-pipe-in-rf%d", rf), fmt.Sprintf("mn-pipe-out-rf%d", rf)
	createSpread(ctx, t, c, in, 3, rf, 0)
	createSpread(ctx, t, c, out, 3, rf, 1) // output p is led by another broker than input p
	adm := kadm.NewClient(c.Client(t))

	group := fmt.Sprintf("mn-pipe-group-rf%d", rf)
	groupCoord := findCoordinator(ctx, t, adm, group, false)
	ids, coords := pickTxnIDs(ctx, t, adm, fmt.Sprintf("mn-pipe-txn-rf%d", rf), 1, groupCoord)
	t.Logf("group %s coordinated by broker %d, transactional id %s by broker %d", group, groupCoord, ids[0], coords[0])
	if coords[0] == groupCoord {
		t.Fatalf("transaction and group coordinator are both broker %d", groupCoord)
	}

	const n = 900
	node := c.Nodes[0].Node
	prod := node.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.DefaultProduceTopic(in))
	want := map[int32][]string{}
	produce := func(from, to int) {
		t.Helper()
		var recs []*kgo.Record
		for i := from; i < to; i++ {
			p := int32(i % 3)
			want[p] = append(want[p], fmt.Sprintf("out-v-%05d", i))
			recs = append(recs, &kgo.Record{Partition: p, Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "v-%05d", i)})
		}
		if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("produce input: %v", err)
		}
	}
	// The pipeline's seed is a broker that is neither coordinator.
	seed := node.Addr
	for _, cn := range c.Nodes {
		if cn.ID != groupCoord && cn.ID != coords[0] {
			seed = cn.Addr
		}
	}
	args := []string{"-brokers", seed, "-in", in, "-out", out, "-group", group, "-txn-id", ids[0], "-instance", "mn-pipe-1"}

	produce(0, n/2)
	p1 := startChild(t, bin, args...)
	p1.waitLine(t, `"committed":true`, 60*time.Second)
	p1.kill()
	produce(n/2, n)
	p2 := startChild(t, bin, args...)
	recs := consumeAll(t, node, out, true, n)
	p2.stop(t, 30*time.Second)

	have := byPartition(recs)
	for p := int32(0); p < 3; p++ {
		if !slices.Equal(have[p], want[p]) {
			dups, missing := diff(have[p], want[p])
			t.Errorf("output partition %d: %d records, want %d; duplicated %v, missing %v", p, len(have[p]), len(want[p]), head(dups), head(missing))
		}
	}

	// The committed offsets come from TxnOffsetCommit at the group
	// coordinator and become visible with the COMMIT marker.
	for {
		offs, err := adm.FetchOffsets(ctx, group)
		done := err == nil
		if done {
			for p := int32(0); p < 3; p++ {
				o, ok := offs.Lookup(in, p)
				done = done && ok && o.Err == nil && o.At == int64(n/3)
			}
		}
		if done {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("group %s offsets for %s: %v (err %v), want %d per partition", group, in, offs, err, n/3)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
