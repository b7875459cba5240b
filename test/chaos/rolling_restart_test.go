package chaos_test

import (
	"context"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// Scenario 7: a rolling restart (SIGTERM, wait until the node is back and
// every replica is in sync again, next) of every broker under an
// idempotent acks=all producer with franz-go's default unlimited retries
// and a group consumer: the producer sees zero errors, and checks L, D, O
// and S hold.
func TestRollingRestartUnderLoad(t *testing.T) { rollingRestart(t, startCluster) }

func rollingRestart(t *testing.T, start starter) {
	const topic, partitions = "chaos-rolling", 3
	c := start(t, 3, clustertest.ClusterOptions{})
	ctx := ctxFor(t, 4*time.Minute)
	createTopic(ctx, t, c, topic, partitions, 3, map[string]string{"min.insync.replicas": "2"})

	h := clustertest.NewHistory()
	prod := clustertest.StartProducer(t, c.Bootstrap(), h, clustertest.ProducerOptions{Topic: topic, Partitions: []int32{0, 1, 2}})
	cons := clustertest.StartGroupConsumer(t, c.Bootstrap(), h, clustertest.ConsumerOptions{Group: "chaos-rolling-group", Topic: topic})
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	if err := prod.WaitAcked(wctx, 200); err != nil {
		t.Fatalf("before the restarts: %v", err)
	}
	cancel()

	rounds(t, 1, func(i int) {
		for _, n := range c.Brokers() {
			start := time.Now()
			n.Stop()
			stopped := time.Since(start)
			h.Event("round %d: stopped node %d in %v", i, n.ID, stopped.Round(time.Millisecond))
			n.Restart(t)
			h.Event("round %d: restarted node %d", i, n.ID)
			// In sync means still in the ISR after replica.lag.time.max.ms
			// (a restarted follower may not have left it at all).
			if err := waitISR(ctx, c, topic, 3, 30*time.Second); err != nil {
				t.Errorf("round %d: after restarting node %d: %v", i, n.ID, err)
			}
			time.Sleep(3 * time.Second)
			if err := waitISR(ctx, c, topic, 3, 30*time.Second); err != nil {
				t.Errorf("round %d: after restarting node %d: %v", i, n.ID, err)
			}
			t.Logf("round %d: node %d stopped in %v, back and in sync (for 3s) %v after the SIGTERM",
				i, n.ID, stopped.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		}
	})
	wctx, cancel = context.WithTimeout(ctx, 20*time.Second)
	if err := prod.WaitAcked(wctx, 100); err != nil {
		t.Errorf("after the rolling restart: %v", err)
	}
	cancel()

	r := finish(ctx, t, c, h, topic, func() {
		if err := prod.Stop(30 * time.Second); err != nil {
			t.Error(err)
		}
		cons.Stop()
	})
	for i, e := range h.Errors() {
		if i == 10 {
			t.Errorf("... %d producer errors in all", len(h.Errors()))
			break
		}
		t.Errorf("producer error: %s (partition %d) at %s: %v", e.Value, e.Partition, e.At.Format("15:04:05.000"), e.Err)
	}
	t.Logf("%s; group consumer saw %d records", r.Summary(), cons.Seen())
}
