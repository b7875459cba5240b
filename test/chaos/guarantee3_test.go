package chaos_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// Scenario 4 (guarantee 3): with RF=3 and min.insync.replicas=1, losing
// two brokers keeps every partition writable and readable, and nothing
// acknowledged before is lost. The controllers must survive for leaders to
// move, so the natural shape is 3 controller-only nodes and 3 broker-only
// nodes; kill -9 two brokers.
func TestGuarantee3Split(t *testing.T) {
	c, err := clustertest.TryStartCluster(t, 3, clustertest.ClusterOptions{ControllerOnly: true, Brokers: 3, Config: clusterConfig})
	if err != nil {
		t.Fatalf("3 controller-only + 3 broker-only nodes did not start: %v", err)
	}
	guarantee3(t, c, "chaos-g3-split")
}

// TestGuarantee3Combined is scenario 4 on combined nodes. With 3 combined
// nodes, killing 2 also kills the metadata quorum (no leader can move), so
// this uses 5: killing two brokers that share a partition leaves that
// partition one replica and the quorum 3 voters of 5.
func TestGuarantee3Combined(t *testing.T) {
	c := startCluster(t, 5, clustertest.ClusterOptions{})
	guarantee3(t, c, "chaos-g3-combined")
}

func guarantee3(t *testing.T, c *clustertest.Cluster, topic string) {
	const partitions = 3
	ctx := ctxFor(t, 4*time.Minute)
	createTopic(ctx, t, c, topic, partitions, 3, map[string]string{"min.insync.replicas": "1"})

	h := clustertest.NewHistory()
	prod := clustertest.StartProducer(t, c.Bootstrap(), h, clustertest.ProducerOptions{Topic: topic, Partitions: []int32{0, 1, 2}})
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	if err := prod.WaitAcked(wctx, 300); err != nil {
		t.Fatalf("before the kills: %v", err)
	}
	cancel()

	// Victims: partition 0's leader and another of its replicas, so that
	// partition keeps exactly one.
	leader, _, err := c.PartitionLeader(ctx, topic, 0, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	replicas, err := replicasOf(ctx, c, topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	victims := []int32{leader}
	for _, r := range replicas {
		if r != leader && len(victims) < 2 {
			victims = append(victims, r)
		}
	}
	if len(victims) != 2 {
		t.Fatalf("partition 0 replicas %v: cannot pick two victims", replicas)
	}
	ackedBefore := len(h.Acks())
	for _, id := range victims {
		c.Node(id).Kill()
	}
	killedAt := time.Now()
	h.Event("killed brokers %v (partition 0 replicas %v, leader %d)", victims, replicas, leader)

	// Produce still works on every partition.
	var failovers []time.Duration
	for p := int32(0); p < partitions; p++ {
		d, err := h.FailoverTime(ctx, p, killedAt, 30*time.Second)
		if err != nil {
			t.Errorf("after killing %v: %v", victims, err)
			continue
		}
		failovers = append(failovers, d)
		t.Logf("partition %d: first write acknowledged %v after killing brokers %v", p, d.Round(time.Millisecond), victims)
	}
	logFailovers(t, "two of three replicas killed", failovers)

	// Consume still works: a group consumer started now reads at least
	// everything acknowledged before the kills.
	cons := clustertest.StartGroupConsumer(t, c.RunningBootstrap(), h, clustertest.ConsumerOptions{Group: topic + "-group", Topic: topic})
	deadline := time.Now().Add(30 * time.Second)
	for cons.Seen() < int64(ackedBefore) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if cons.Seen() < int64(ackedBefore) {
		t.Errorf("group consumer after the kills read %d records in 30s, fewer than the %d acknowledged before; errors: %v", cons.Seen(), ackedBefore, cons.Errors())
	}

	r := finish(ctx, t, c, h, topic, func() {
		if err := prod.Stop(30 * time.Second); err != nil {
			t.Error(err)
		}
		cons.Stop()
	})
	if errs := h.Errors(); len(errs) > 0 {
		t.Errorf("the producer gave up on %d writes; first: %s: %v", len(errs), errs[0].Value, errs[0].Err)
	}
	t.Logf("%s; %d acknowledged before the kills", r.Summary(), ackedBefore)
}

// replicasOf returns the replicas Metadata lists for topic/partition.
func replicasOf(ctx context.Context, c *clustertest.Cluster, topic string, p int32) ([]int32, error) {
	reads, err := clustertest.PartitionDetails(ctx, c.RunningBootstrap(), topic)
	if err != nil {
		return nil, err
	}
	for _, d := range reads {
		if d.Partition == p {
			return slices.Clone(d.Replicas), nil
		}
	}
	return nil, fmt.Errorf("%s/%d not in metadata", topic, p)
}
