package eos_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// txnPlan is what one transactional producer writes: n transactions of k
// records, transaction i committing if pattern[i%len] is 'c'. Record j of
// transaction i goes to partition j%partitions with value
// "<id>-<i>-<j>-commit" or "-abort" (the Java driver's txn-produce format).
type txnPlan struct {
	id         string
	n, k       int
	pattern    string
	partitions int
}

func (p txnPlan) commits(i int) bool { return p.pattern[i%len(p.pattern)] == 'c' }

func (p txnPlan) value(i, j int) string {
	if p.commits(i) {
		return fmt.Sprintf("%s-%d-%d-commit", p.id, i, j)
	}
	return fmt.Sprintf("%s-%d-%d-abort", p.id, i, j)
}

// want is, per partition, the values of the plan a consumer must see in
// order: committed ones only, or all.
func (p txnPlan) want(all bool) map[int32][]string {
	out := map[int32][]string{}
	for i := 0; i < p.n; i++ {
		if !all && !p.commits(i) {
			continue
		}
		for j := 0; j < p.k; j++ {
			part := int32(j % p.partitions)
			out[part] = append(out[part], p.value(i, j))
		}
	}
	return out
}

// produceFranz runs the plan with a franz-go transactional producer.
func produceFranz(ctx context.Context, node *clustertest.Node, topic string, p txnPlan) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(node.Addr), kgo.TransactionalID(p.id), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.TransactionTimeout(30*time.Second))
	if err != nil {
		return err
	}
	defer cl.Close()
	for i := 0; i < p.n; i++ {
		if err := cl.BeginTransaction(); err != nil {
			return fmt.Errorf("begin %d: %w", i, err)
		}
		recs := make([]*kgo.Record, p.k)
		for j := range recs {
			key := fmt.Sprintf("%s-%d-%d", p.id, i, j)
			recs[j] = &kgo.Record{Partition: int32(j % p.partitions), Key: []byte(key), Value: []byte(p.value(i, j))}
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			return fmt.Errorf("produce in transaction %d: %w", i, err)
		}
		if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(p.commits(i))); err != nil {
			return fmt.Errorf("end transaction %d (commit=%v): %w", i, p.commits(i), err)
		}
	}
	return nil
}

// checkPlans checks that the values of each plan appear in a partition
// exactly as the plan wants them (in order, no others of that producer),
// and that nothing else is there.
func checkPlans(t *testing.T, who string, recs []got, all bool, plans ...txnPlan) {
	t.Helper()
	parts := byPartition(recs)
	total := 0
	for _, p := range plans {
		for part, want := range p.want(all) {
			total += len(want)
			var have []string
			for _, v := range parts[part] {
				if strings.HasPrefix(v, p.id+"-") {
					have = append(have, v)
				}
			}
			if !slices.Equal(have, want) {
				t.Errorf("%s: partition %d, producer %s: got %d values %v…, want %d %v…", who, part, p.id,
					len(have), head(have), len(want), head(want))
			}
		}
	}
	if len(recs) != total {
		t.Errorf("%s: %d records, want %d", who, len(recs), total)
	}
	if !all {
		for _, r := range recs {
			if strings.HasSuffix(r.Value, "-abort") {
				t.Errorf("%s: read_committed delivered aborted record %q at %d/%d", who, r.Value, r.Partition, r.Offset)
				break
			}
		}
	}
}

func head(s []string) []string {
	if len(s) > 6 {
		return s[:6]
	}
	return s
}

// TestInterleavedTransactions: franz-go and the Java producer interleave
// committed and aborted transactions over three partitions; read_committed
// consumers (franz-go, Java, Python confluent-kafka) see exactly the
// committed records in order, read_uncommitted sees everything.
func TestInterleavedTransactions(t *testing.T) {
	node := startNode(t, "")
	const topic = "interleave"
	createTopic(t, node, topic, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	franz := txnPlan{id: "franz", n: 12, k: 9, pattern: "cac", partitions: 3}
	plans := []txnPlan{franz}
	var wg sync.WaitGroup
	var javaErr error
	java, jar := javaDriver(t)
	javaPlan := txnPlan{id: "java", n: 12, k: 9, pattern: "cca", partitions: 3}
	plans = append(plans, javaPlan)
	wg.Add(1)
	go func() { // waited below
		defer wg.Done()
		type ended struct {
			Txn       int  `json:"txn"`
			Committed bool `json:"committed"`
		}
		lines, err := runLinesErr[ended](2*time.Minute, java, "-jar", jar, "txn-produce", node.Addr, topic, javaPlan.id,
			fmt.Sprint(javaPlan.n), fmt.Sprint(javaPlan.k), javaPlan.pattern)
		if err != nil {
			javaErr = err
		} else if len(lines) != javaPlan.n {
			javaErr = fmt.Errorf("java ended %d transactions, want %d", len(lines), javaPlan.n)
		}
	}()
	if err := produceFranz(ctx, node, topic, franz); err != nil {
		t.Errorf("franz-go transactional producer: %v", err)
	}
	wg.Wait()
	if javaErr != nil {
		t.Error(javaErr)
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

	checkPlans(t, "franz-go read_committed", consumeAll(t, node, topic, true, nCommitted), false, plans...)
	checkPlans(t, "franz-go read_uncommitted", consumeAll(t, node, topic, false, nAll), true, plans...)

	type consumed struct {
		Partition int32  `json:"partition"`
		Offset    int64  `json:"offset"`
		Value     string `json:"value"`
	}
	asGot := func(cs []consumed) []got {
		out := make([]got, len(cs))
		for i, c := range cs {
			out[i] = got{Partition: c.Partition, Offset: c.Offset, Value: c.Value}
		}
		return out
	}
	t.Run("java", func(t *testing.T) {
		recs := runLines[consumed](t, 2*time.Minute, java, "-jar", jar, "consume", node.Addr, topic, fmt.Sprint(nCommitted), "isolation.level=read_committed")
		checkPlans(t, "java read_committed", asGot(recs), false, plans...)
	})
	t.Run("python", func(t *testing.T) {
		python, script := pythonDriver(t)
		recs := runLines[consumed](t, 2*time.Minute, python, script, "consume", node.Addr, topic, fmt.Sprint(nCommitted), "isolation.level=read_committed")
		checkPlans(t, "python read_committed", asGot(recs), false, plans...)
		recs = runLines[consumed](t, 2*time.Minute, python, script, "consume", node.Addr, topic, fmt.Sprint(nAll), "isolation.level=read_uncommitted")
		checkPlans(t, "python read_uncommitted", asGot(recs), true, plans...)
	})
}
