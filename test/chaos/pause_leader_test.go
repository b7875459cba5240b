package chaos_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// Scenario 2: SIGSTOP the leader of a partition for twice
// broker.session.timeout.ms (the controller fences it and elects another
// leader), then SIGCONT; every other round the paused leader is also the
// active controller. A second producer keeps requests outstanding at
// the old leader the whole time (long timeouts, metadata not refreshed
// early), so that the resumed process handles them under its stale epoch:
// it must acknowledge none of them at an offset that ends up holding
// something else (checks L and O), and it rejoins as a follower.
func TestPauseLeaderPastSession(t *testing.T) { pauseLeaderPastSession(t, startCluster) }

func pauseLeaderPastSession(t *testing.T, start starter) {
	const topic, partitions = "chaos-pause", 3
	c := start(t, 3, clustertest.ClusterOptions{})
	ctx := ctxFor(t, 4*time.Minute)
	createTopic(ctx, t, c, topic, partitions, 3, map[string]string{"min.insync.replicas": "2"})

	h := clustertest.NewHistory()
	prod := clustertest.StartProducer(t, c.Bootstrap(), h, clustertest.ProducerOptions{Name: "w", Topic: topic, Partitions: []int32{0, 1, 2}})
	rounds(t, 2, func(i int) {
		p := int32(i % partitions)
		if i%2 == 1 {
			// Every other round pauses a leader that is also the active
			// controller (combined mode), when one is.
			if active, err := c.ActiveController(ctx, 10*time.Second); err == nil {
				for q := int32(0); q < partitions; q++ {
					if l, _, err := c.PartitionLeader(ctx, topic, q, 10*time.Second); err == nil && l == active {
						p = q
						h.Event("round %d: p%d's leader %d is the active controller", i, q, l)
						break
					}
				}
			}
		}
		leader, epoch, err := c.PartitionLeader(ctx, topic, p, 30*time.Second)
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		// The pinned producer learns the leader now and keeps writing to
		// it: its requests wait at the paused process.
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
			t.Fatalf("round %d: pinned producer before the pause: %v", i, err)
		}
		cancel()

		victim := c.Node(leader)
		victim.Pause()
		pausedAt := time.Now()
		h.Event("round %d: paused node %d, leader of p%d at epoch %d", i, leader, p, epoch)
		nl, ne, err := c.PartitionLeader(ctx, topic, p, 30*time.Second, leader)
		if err != nil {
			t.Errorf("round %d: while node %d is paused: %v", i, leader, err)
		} else {
			t.Logf("round %d: p%d moved from paused node %d (epoch %d) to node %d (epoch %d) %v after the pause",
				i, p, leader, epoch, nl, ne, time.Since(pausedAt).Round(time.Millisecond))
		}
		if rest := 2*sessionTimeout - time.Since(pausedAt); rest > 0 {
			time.Sleep(rest)
		}
		victim.Resume()
		h.Event("round %d: resumed node %d", i, leader)
		// Give the resumed process time to handle what queued up, then
		// to find out it is no longer the leader and rejoin.
		if err := waitISR(ctx, c, topic, 3, 30*time.Second); err != nil {
			t.Errorf("round %d: after resuming node %d: %v", i, leader, err)
		}
		if err := pinned.Stop(40 * time.Second); err != nil {
			t.Logf("round %d: %v", i, err)
		}
	})
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	if err := prod.WaitAcked(wctx, 100); err != nil {
		t.Errorf("after the last pause: %v", err)
	}
	cancel()
	finish(ctx, t, c, h, topic, func() {
		if err := prod.Stop(30 * time.Second); err != nil {
			t.Error(err)
		}
	})
}
