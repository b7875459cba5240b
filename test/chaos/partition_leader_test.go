package chaos_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// Scenario 3: cut the leader of a partition off from its followers (the
// proxy in front of its replication listener) and from the controllers
// (every raft link from and to it), but not from clients. A producer
// pinned to it keeps sending acks=all writes there during the cut: none
// may be acknowledged unless it survives (check L), since no follower can
// have it. The controllers fence the cut-off node and elect another
// leader; after healing it rejoins as a follower.
func TestPartitionLeaderFromFollowersAndControllers(t *testing.T) { partitionLeader(t, startCluster) }

func partitionLeader(t *testing.T, start starter) {
	const topic, partitions = "chaos-cut", 3
	c := start(t, 3, clustertest.ClusterOptions{Proxied: true})
	ctx := ctxFor(t, 4*time.Minute)
	createTopic(ctx, t, c, topic, partitions, 3, map[string]string{"min.insync.replicas": "2"})

	h := clustertest.NewHistory()
	prod := clustertest.StartProducer(t, c.Bootstrap(), h, clustertest.ProducerOptions{Topic: topic, Partitions: []int32{0, 1, 2}})
	rounds(t, 1, func(i int) {
		p := int32(i % partitions)
		leader, epoch, err := c.PartitionLeader(ctx, topic, p, 30*time.Second)
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		pinned := clustertest.StartProducer(t, c.Bootstrap(), h, clustertest.ProducerOptions{
			Name: "pinned" + strconv.Itoa(i), Topic: topic, Partitions: []int32{p}, Interval: 5 * time.Millisecond,
			Opts: []kgo.Opt{
				kgo.ProduceRequestTimeout(30 * time.Second),
				kgo.RequestTimeoutOverhead(30 * time.Second),
				kgo.MetadataMinAge(15 * time.Second),
				kgo.MetadataMaxAge(time.Minute),
			},
		})
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		if err := pinned.WaitAcked(wctx, 50); err != nil {
			t.Fatalf("round %d: pinned producer before the cut: %v", i, err)
		}
		cancel()
		ackedBefore := pinned.Acked()
		if n := c.ReplicationProxy(leader).Accepted(); n == 0 {
			t.Fatalf("round %d: no follower fetched from node %d through its replication proxy", i, leader)
		}

		c.IsolateReplication(leader)
		c.IsolateController(leader)
		cutAt := time.Now()
		h.Event("round %d: cut node %d (leader of p%d at epoch %d) off from followers and controllers", i, leader, p, epoch)
		nl, ne, err := c.PartitionLeader(ctx, topic, p, 30*time.Second, leader)
		if err != nil {
			t.Errorf("round %d: while node %d is cut off: %v", i, leader, err)
		} else {
			t.Logf("round %d: p%d moved from cut-off node %d (epoch %d) to node %d (epoch %d) %v after the cut",
				i, p, leader, epoch, nl, ne, time.Since(cutAt).Round(time.Millisecond))
		}
		if rest := 2*sessionTimeout - time.Since(cutAt); rest > 0 {
			time.Sleep(rest)
		}
		duringCut := pinned.Acked() - ackedBefore
		c.Heal()
		h.Event("round %d: healed (pinned producer had %d acknowledgements during the cut)", i, duringCut)
		t.Logf("round %d: the pinned producer got %d acknowledgements during the cut", i, duringCut)
		if err := waitISR(ctx, c, topic, 3, 30*time.Second); err != nil {
			t.Errorf("round %d: after healing: %v", i, err)
		}
		if err := pinned.Stop(40 * time.Second); err != nil {
			t.Logf("round %d: %v", i, err)
		}
	})
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	if err := prod.WaitAcked(wctx, 100); err != nil {
		t.Errorf("after healing: %v", err)
	}
	cancel()
	finish(ctx, t, c, h, topic, func() {
		if err := prod.Stop(30 * time.Second); err != nil {
			t.Error(err)
		}
	})
}
