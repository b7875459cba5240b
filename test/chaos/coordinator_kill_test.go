package chaos_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// pipeline is test/eos's consume-transform-produce program run in this
// process: a franz-go GroupTransactSession reads in (read_committed) and
// writes "out-"+value to the same partition of out, committing the
// consumed offsets in the same transaction. A session that fails is closed
// and replaced (the new one fences the old). Its goroutine is stopped and
// waited by stop.
type pipeline struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	sessions int
	commits  int
	aborts   int
	errs     []string
}

func startPipeline(t *testing.T, seeds []string, in, out, group, txnID string) *pipeline {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &pipeline{cancel: cancel, done: make(chan struct{})}
	opts := []kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.ClientID("chaos-pipeline"),
		kgo.TransactionalID(txnID),
		kgo.TransactionTimeout(10 * time.Second),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(in),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.RequireStableFetchOffsets(),
		kgo.SessionTimeout(6 * time.Second),
		kgo.HeartbeatInterval(500 * time.Millisecond),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.DefaultProduceTopic(out),
		kgo.FetchMaxWait(200 * time.Millisecond),
		kgo.RequestTimeoutOverhead(3 * time.Second),
		kgo.MetadataMinAge(200 * time.Millisecond),
	}
	go func() { // owned by p; stopped by p.stop (cancel); waited via p.done
		defer close(p.done)
		for ctx.Err() == nil {
			sess, err := kgo.NewGroupTransactSession(opts...)
			if err != nil {
				p.fail("new session", err)
				time.Sleep(500 * time.Millisecond)
				continue
			}
			p.mu.Lock()
			p.sessions++
			p.mu.Unlock()
			p.runSession(ctx, sess)
			sess.Close()
		}
	}()
	t.Cleanup(p.stop)
	return p
}

func (p *pipeline) fail(what string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.errs) < 50 {
		p.errs = append(p.errs, fmt.Sprintf("%s %s: %v", time.Now().Format("15:04:05.000"), what, err))
	}
}

// runSession transacts until ctx ends or the session fails.
func (p *pipeline) runSession(ctx context.Context, sess *kgo.GroupTransactSession) {
	for ctx.Err() == nil {
		fs := sess.PollRecords(ctx, 200)
		if fs.IsClientClosed() || ctx.Err() != nil {
			return
		}
		fs.EachError(func(topic string, part int32, err error) {
			if !errors.Is(err, context.Canceled) {
				p.fail(fmt.Sprintf("fetch %s/%d", topic, part), err)
			}
		})
		if fs.NumRecords() == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			p.fail("begin", err)
			return
		}
		fs.EachRecord(func(r *kgo.Record) {
			sess.Produce(ctx, &kgo.Record{Partition: r.Partition, Key: r.Key, Value: append([]byte("out-"), r.Value...)}, nil)
		})
		committed, err := sess.End(ctx, kgo.TryCommit)
		if err != nil {
			p.fail("end", err)
			return
		}
		p.mu.Lock()
		if committed {
			p.commits++
		} else {
			p.aborts++
		}
		p.mu.Unlock()
	}
}

func (p *pipeline) errors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.errs)
}

func (p *pipeline) stop() {
	p.cancel()
	<-p.done
}

func (p *pipeline) summary() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprintf("%d sessions, %d committed and %d aborted transactions, %d errors", p.sessions, p.commits, p.aborts, len(p.errs))
}

// coordinatorOf returns the broker FindCoordinator names for a group
// (txn=false) or transactional id.
func coordinatorOf(ctx context.Context, c *clustertest.Cluster, key string, txn bool) (int32, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.RunningBootstrap()...), kgo.RequestTimeoutOverhead(2*time.Second))
	if err != nil {
		return -1, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	deadline := time.Now().Add(20 * time.Second)
	for {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		var resp kadm.FindCoordinatorResponses
		if txn {
			resp = adm.FindTxnCoordinators(rctx, key)
		} else {
			resp = adm.FindGroupCoordinators(rctx, key)
		}
		cancel()
		r, ok := resp[key]
		if ok && r.Err == nil {
			return r.NodeID, nil
		}
		if time.Now().After(deadline) {
			return -1, fmt.Errorf("FindCoordinator(%s): %v", key, r.Err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Scenario 6: a group consumer and a transactional consume-transform-
// produce pipeline run while the broker hosting the pipeline group's
// coordinator is killed (kill -9) and restarted. Committed offsets of both
// groups never go backwards, and the pipeline's output (read_committed)
// holds each input record exactly once, in input order per partition.
func TestKillCoordinatorUnderGroupAndTransactions(t *testing.T) {
	const in, out, group, pipeGroup, txnID = "chaos-in", "chaos-out", "chaos-consumers", "chaos-pipe", "chaos-pipe-txn"
	c := startCluster(t, 3, clustertest.ClusterOptions{})
	ctx := ctxFor(t, 4*time.Minute)
	createTopic(ctx, t, c, in, 3, 3, map[string]string{"min.insync.replicas": "2"})
	createTopic(ctx, t, c, out, 3, 3, map[string]string{"min.insync.replicas": "2"})

	h := clustertest.NewHistory()
	input := clustertest.StartProducer(t, c.Bootstrap(), h, clustertest.ProducerOptions{Name: "v", Topic: in, Partitions: []int32{0, 1, 2}})
	cons := clustertest.StartGroupConsumer(t, c.Bootstrap(), h, clustertest.ConsumerOptions{Group: group, Topic: in})
	pipe := startPipeline(t, c.Bootstrap(), in, out, pipeGroup, txnID)
	watchCons := watchCommits(t, c.Bootstrap(), group)
	watchPipe := watchCommits(t, c.Bootstrap(), pipeGroup)

	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	if err := input.WaitAcked(wctx, 1000); err != nil {
		t.Fatalf("before the fault: %v", err)
	}
	cancel()
	rounds(t, 1, func(i int) {
		key, txn := pipeGroup, false
		if i%2 == 1 {
			key, txn = txnID, true
		}
		coord, err := coordinatorOf(ctx, c, key, txn)
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		groupCoord, _ := coordinatorOf(ctx, c, group, false)
		txnCoord, _ := coordinatorOf(ctx, c, txnID, true)
		victim := c.Node(coord)
		victim.Kill()
		h.Event("round %d: killed node %d, coordinator of %s (group %s's coordinator %d, transaction coordinator %d)", i, coord, key, group, groupCoord, txnCoord)
		t.Logf("round %d: killed node %d, coordinator of %s (group %s: %d, transactional id %s: %d); pipeline so far: %s",
			i, coord, key, group, groupCoord, txnID, txnCoord, pipe.summary())
		time.Sleep(2 * sessionTimeout)
		victim.Restart(t)
		h.Event("round %d: restarted node %d", i, coord)
		if err := waitISR(ctx, c, in, 3, 30*time.Second); err != nil {
			t.Errorf("round %d: %v", i, err)
		}
	})

	wctx, cancel = context.WithTimeout(ctx, 20*time.Second)
	if err := input.WaitAcked(wctx, 500); err != nil {
		t.Errorf("input after the faults: %v", err)
	}
	cancel()
	if err := input.Stop(30 * time.Second); err != nil {
		t.Errorf("input: %v", err)
	}
	// Wait for the pipeline to transform everything that was written.
	rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	inFinal, err := clustertest.ReadAll(rctx, c.RunningBootstrap(), in, false)
	if err != nil {
		t.Fatalf("read back %s: %v", in, err)
	}
	var outFinal []clustertest.Read
	for {
		outFinal, err = clustertest.ReadAll(rctx, c.RunningBootstrap(), out, true)
		if err == nil && len(outFinal) >= len(inFinal) || rctx.Err() != nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	pipe.stop()
	cons.Stop()
	t.Logf("pipeline: %s; errors: %v", pipe.summary(), pipe.errors())

	if r := watchCons.stop(); len(r) > 0 {
		t.Errorf("group %s: committed offsets went backwards: %v", group, r)
	}
	if r := watchPipe.stop(); len(r) > 0 {
		t.Errorf("group %s: committed offsets went backwards: %v", pipeGroup, r)
	}
	// Exactly once, in order: each output partition is "out-" + the
	// input partition.
	want := map[int32][]string{}
	for _, r := range sortedReads(inFinal) {
		want[r.Partition] = append(want[r.Partition], "out-"+r.Value)
	}
	have := map[int32][]string{}
	for _, r := range sortedReads(outFinal) {
		have[r.Partition] = append(have[r.Partition], r.Value)
	}
	for p := int32(0); p < 3; p++ {
		if !slices.Equal(have[p], want[p]) {
			dups, missing := diff(have[p], want[p])
			t.Errorf("output partition %d (read_committed): %d records, want %d; duplicated %v, missing %v",
				p, len(have[p]), len(want[p]), head(dups), head(missing))
		}
	}
	// The input itself: nothing acknowledged lost, no duplicates, and the
	// group consumer saw one value per offset.
	h.SetFinal(inFinal)
	r := h.Verify(t)
	t.Logf("input %s; group consumer saw %d records; output %d records", r.Summary(), cons.Seen(), len(outFinal))
}

func sortedReads(rs []clustertest.Read) []clustertest.Read {
	out := slices.Clone(rs)
	slices.SortFunc(out, func(a, b clustertest.Read) int {
		if a.Partition != b.Partition {
			return int(a.Partition - b.Partition)
		}
		return int(a.Offset - b.Offset)
	})
	return out
}

// diff returns the values seen more than once and the wanted values not
// seen.
func diff(have, want []string) (dups, missing []string) {
	seen := map[string]int{}
	for _, v := range have {
		seen[v]++
		if seen[v] == 2 {
			dups = append(dups, v)
		}
	}
	for _, v := range want {
		if seen[v] == 0 {
			missing = append(missing, v)
		}
	}
	return dups, missing
}

func head(s []string) []string {
	if len(s) > 10 {
		return append(s[:10:10], fmt.Sprintf("... %d more", len(s)-10))
	}
	return s
}
