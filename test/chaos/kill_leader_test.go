package chaos_test

import (
	"context"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// Scenario 1: kill -9 the leader of a partition every 10s (3 kills by
// default) and restart it, under an idempotent acks=all producer and a
// group consumer; RF=3, min.insync.replicas=2. Logs each failover time
// (kill to the first acknowledged write on that partition).
func TestKillLeaderLoop(t *testing.T) { killLeaderLoop(t, startCluster) }

func killLeaderLoop(t *testing.T, start starter) {
	const topic, partitions = "chaos-kill", 3
	c := start(t, 3, clustertest.ClusterOptions{})
	ctx := ctxFor(t, 4*time.Minute)
	createTopic(ctx, t, c, topic, partitions, 3, map[string]string{"min.insync.replicas": "2"})

	h := clustertest.NewHistory()
	prod := clustertest.StartProducer(t, c.Bootstrap(), h, clustertest.ProducerOptions{Topic: topic, Partitions: []int32{0, 1, 2}})
	cons := clustertest.StartGroupConsumer(t, c.Bootstrap(), h, clustertest.ConsumerOptions{Group: "chaos-kill-group", Topic: topic})
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	if err := prod.WaitAcked(wctx, 200); err != nil {
		t.Fatalf("before any fault: %v", err)
	}
	cancel()

	var failovers []time.Duration
	rounds(t, 3, func(i int) {
		p := int32(i % partitions)
		leader, epoch, err := c.PartitionLeader(ctx, topic, p, 30*time.Second)
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		roundStart := time.Now()
		victim := c.Node(leader)
		victim.Kill()
		killedAt := time.Now()
		h.Event("round %d: killed node %d, leader of %s/%d at epoch %d", i, leader, topic, p, epoch)

		d, err := h.FailoverTime(ctx, p, killedAt, 30*time.Second)
		if err != nil {
			t.Errorf("round %d: kill -9 of node %d (leader of p%d): %v", i, leader, p, err)
		} else {
			failovers = append(failovers, d)
			t.Logf("round %d: kill -9 of node %d (leader of p%d, epoch %d): first acknowledged write on p%d after %v",
				i, leader, p, epoch, p, d.Round(time.Millisecond))
		}
		if nl, ne, err := c.PartitionLeader(ctx, topic, p, 30*time.Second, leader); err != nil {
			t.Errorf("round %d: %v", i, err)
		} else if ne <= epoch {
			t.Errorf("round %d: new leader %d of p%d has epoch %d, not above the killed leader's %d", i, nl, p, ne, epoch)
		}

		victim.Restart(t)
		h.Event("round %d: restarted node %d", i, leader)
		// The restarted replica catches up and rejoins the ISR before the
		// next kill, or the next kill could take min.insync.replicas away.
		if err := waitISR(ctx, c, topic, 3, 30*time.Second); err != nil {
			t.Errorf("round %d: after restarting node %d: %v", i, leader, err)
		}
		if rest := 10*time.Second - time.Since(roundStart); rest > 0 && longRun(t) > 0 {
			time.Sleep(rest)
		}
	})
	logFailovers(t, "kill -9 of a partition leader", failovers)
	wctx, cancel = context.WithTimeout(ctx, 20*time.Second)
	if err := prod.WaitAcked(wctx, 100); err != nil {
		t.Errorf("after the last restart: %v", err)
	}
	cancel()

	r := finish(ctx, t, c, h, topic, func() {
		if err := prod.Stop(30 * time.Second); err != nil {
			t.Error(err)
		}
		cons.Stop()
	})
	if errs := h.Errors(); len(errs) > 0 {
		t.Errorf("the producer gave up on %d writes; first: %s: %v", len(errs), errs[0].Value, errs[0].Err)
	}
	if cons.Seen() == 0 {
		t.Errorf("the group consumer consumed nothing; its errors: %v", cons.Errors())
	}
	t.Logf("%s; group consumer saw %d records", r.Summary(), cons.Seen())
}
