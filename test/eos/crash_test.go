package eos_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

func txnClient(t *testing.T, node *clustertest.Node, id, topic string) *kgo.Client {
	t.Helper()
	return node.Client(t, kgo.TransactionalID(id), kgo.TransactionTimeout(20*time.Second), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RecordRetries(20), kgo.RetryTimeout(60*time.Second))
}

// produceTail writes one plain record per partition after everything else:
// a read_committed consumer reaches them only once every earlier
// transaction is decided.
func produceTail(ctx context.Context, t *testing.T, node *clustertest.Node, topic string) {
	t.Helper()
	cl := node.Client(t, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for p := int32(0); p < 3; p++ {
		if err := cl.ProduceSync(ctx, &kgo.Record{Partition: p, Value: fmt.Appendf(nil, "tail-%d", p)}).FirstErr(); err != nil {
			t.Fatalf("produce tail: %v", err)
		}
	}
}

// txnCounts counts visible records per transaction ("<prefix>-<i>-<j>"
// values) and reports duplicates.
func txnCounts(t *testing.T, recs []got, prefix string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	seen := map[string]bool{}
	for _, r := range recs {
		if seen[r.Value] {
			t.Errorf("record %q delivered twice", r.Value)
		}
		seen[r.Value] = true
		if rest, ok := strings.CutPrefix(r.Value, prefix+"-"); ok {
			txn, _, _ := strings.Cut(rest, "-")
			counts[txn]++
		}
	}
	return counts
}

// TestBrokerCrashDuringTransaction kills the broker with SIGKILL while a
// transaction is open and, separately, while a producer is committing
// transactions back to back. After the restart every transaction is
// committed or aborted as a whole, acknowledged commits are visible, and
// read_committed consumers get past all of them.
func TestBrokerCrashDuringTransaction(t *testing.T) {
	node := startNode(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	t.Run("open", func(t *testing.T) {
		const topic = "crash-open"
		createTopic(t, node, topic, 3)
		cl := txnClient(t, node, "crash-open", topic)
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		var recs []*kgo.Record
		for j := 0; j < 30; j++ {
			recs = append(recs, &kgo.Record{Partition: int32(j % 3), Value: fmt.Appendf(nil, "open-0-%d", j)})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		node.Kill()
		node.Restart(t)
		ectx, ecancel := context.WithTimeout(ctx, 45*time.Second)
		endErr := cl.EndTransaction(ectx, kgo.TryCommit)
		ecancel()
		t.Logf("commit after the restart: %v", endErr)
		if endErr != nil {
			// A new producer with the transactional id ends the old
			// transaction (InitProducerId aborts it).
			cl2 := txnClient(t, node, "crash-open", topic)
			if err := cl2.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			if err := cl2.ProduceSync(ctx, &kgo.Record{Partition: 0, Value: []byte("open-1-0")}).FirstErr(); err != nil {
				t.Fatal(err)
			}
			if err := cl2.EndTransaction(ctx, kgo.TryCommit); err != nil {
				t.Fatalf("commit with a new producer after the crash: %v", err)
			}
		}
		produceTail(ctx, t, node, topic)
		n := 3 + 1
		if endErr == nil {
			n = 3 + 30
		}
		counts := txnCounts(t, consumeAll(t, node, topic, true, n), "open")
		switch {
		case endErr == nil && counts["0"] != 30:
			t.Errorf("acknowledged commit: %d of 30 records visible", counts["0"])
		case counts["0"] != 0 && counts["0"] != 30:
			t.Errorf("torn transaction: %d of 30 records visible", counts["0"])
		}
	})

	t.Run("committing", func(t *testing.T) {
		const topic, k = "crash-commit", 10
		createTopic(t, node, topic, 3)
		cl := txnClient(t, node, "crash-commit", topic)
		var mu sync.Mutex
		var acked []int
		var wg sync.WaitGroup
		stop := make(chan struct{})
		wg.Add(1)
		go func() { // waited below; ends at the first error or when stopped
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if cl.BeginTransaction() != nil {
					return
				}
				var recs []*kgo.Record
				for j := 0; j < k; j++ {
					recs = append(recs, &kgo.Record{Partition: int32(j % 3), Value: fmt.Appendf(nil, "c-%d-%d", i, j)})
				}
				if cl.ProduceSync(ctx, recs...).FirstErr() != nil {
					return
				}
				if cl.EndTransaction(ctx, kgo.TryCommit) != nil {
					return
				}
				mu.Lock()
				acked = append(acked, i)
				mu.Unlock()
			}
		}()
		time.Sleep(time.Duration(300+rand.IntN(500)) * time.Millisecond)
		node.Kill()
		node.Restart(t)
		time.Sleep(time.Second)
		close(stop)
		wg.Wait()
		cl.Close()

		cl2 := txnClient(t, node, "crash-commit", topic)
		if err := cl2.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := cl2.ProduceSync(ctx, &kgo.Record{Partition: 1, Value: []byte("c-final-0")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := cl2.EndTransaction(ctx, kgo.TryCommit); err != nil {
			t.Fatalf("commit with a new producer after the crash: %v", err)
		}
		produceTail(ctx, t, node, topic)
		mu.Lock()
		defer mu.Unlock()
		if len(acked) == 0 {
			t.Fatal("no transaction was acknowledged before the crash")
		}
		counts := txnCounts(t, consumeAll(t, node, topic, true, len(acked)*k+1+3), "c")
		for _, i := range acked {
			if counts[fmt.Sprint(i)] != k {
				t.Errorf("acknowledged transaction %d: %d of %d records visible", i, counts[fmt.Sprint(i)], k)
			}
		}
		for txn, c := range counts {
			if txn != "final" && c != k {
				t.Errorf("torn transaction %s: %d of %d records visible", txn, c, k)
			}
		}
		t.Logf("%d transactions acknowledged, %d visible", len(acked), len(counts)-1)
	})
}
