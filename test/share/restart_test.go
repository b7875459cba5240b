package share_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

const brokerConfig = "offsets.topic.num.partitions=4\nshare.coordinator.state.topic.num.partitions=4\ngroup.share.record.lock.duration.ms=2000\n"

// consumed is what one share consumer accepted.
type consumed struct {
	mu  sync.Mutex
	got map[string]int
}

func (c *consumed) count(prefix string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for v := range c.got {
		if strings.HasPrefix(v, prefix) {
			n++
		}
	}
	return n
}

// consume runs a franz-go share consumer of group on topic, accepting
// every record, until stop returns true after a poll; it flushes its
// acknowledgements and closes the client.
func consume(t *testing.T, node *clustertest.Node, topic, group string, c *consumed, stop func() bool) {
	t.Helper()
	cl := node.Client(t, kgo.ShareGroup(group), kgo.ConsumeTopics(topic), kgo.FetchMaxWait(300*time.Millisecond), kgo.ShareMaxRecords(10))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for !stop() {
		if ctx.Err() != nil {
			t.Fatalf("consumer of %s timed out", group)
		}
		fs := cl.PollRecords(ctx, 10)
		fs.EachRecord(func(r *kgo.Record) {
			r.Ack(kgo.AckAccept)
			c.mu.Lock()
			c.got[string(r.Value)]++
			c.mu.Unlock()
		})
		if err := cl.FlushAcks(ctx); err != nil {
			t.Fatalf("flush acks: %v", err)
		}
	}
}

func produce(t *testing.T, cl *kgo.Client, topic, prefix string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: topic, Value: []byte(fmt.Sprintf("%s-%d", prefix, i))}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// Records a share consumer ACCEPTed (acknowledgements answered) are never
// delivered again after the broker is killed with SIGKILL and restarted:
// the share partition's state comes back from __share_group_state. The
// records not yet accepted are all delivered after the restart.
func TestShareAcceptsSurviveKill(t *testing.T) {
	node := clustertest.Start(t, clustertest.Options{Config: brokerConfig})
	const topic, group, n = "share-restart", "share-restart", 200
	prod := node.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := kadm.NewClient(prod).CreateTopic(ctx, 1, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	// share.auto.offset.reset=latest: warm up until the group receives.
	first := &consumed{got: map[string]int{}}
	var wg sync.WaitGroup
	stopWarm := make(chan struct{})
	wg.Add(1)
	go func() { // ends when stopWarm closes
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stopWarm:
				return
			case <-time.After(200 * time.Millisecond):
				produce(t, prod, topic, fmt.Sprintf("warm%d", i), 1)
			}
		}
	}()
	consume(t, node, topic, group, first, func() bool { return first.count("warm") > 0 })
	close(stopWarm)
	wg.Wait()
	produce(t, prod, topic, "r", n)
	accepted := &consumed{got: map[string]int{}}
	consume(t, node, topic, group, accepted, func() bool { return accepted.count("r-") >= n/2 })
	node.Kill()
	node.Restart(t)
	after := &consumed{got: map[string]int{}}
	consume(t, node, topic, group, after, func() bool { return accepted.count("r-")+after.count("r-") >= n })
	time.Sleep(time.Second)
	accepted.mu.Lock()
	defer accepted.mu.Unlock()
	after.mu.Lock()
	defer after.mu.Unlock()
	for v := range after.got {
		if accepted.got[v] > 0 {
			t.Errorf("%s was accepted before the kill and delivered again after it", v)
		}
	}
	for i := 0; i < n; i++ {
		v := fmt.Sprintf("r-%d", i)
		if accepted.got[v]+after.got[v] != 1 {
			t.Errorf("%s: accepted %d times before the kill, delivered %d times after", v, accepted.got[v], after.got[v])
		}
	}
}
