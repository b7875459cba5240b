package txn_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// brokerConfig keeps tests fast: few internal partitions, no rebalance
// delay, and timed-out transactions looked for every half second.
const brokerConfig = "transaction.state.log.num.partitions=4\noffsets.topic.num.partitions=4\ngroup.initial.rebalance.delay.ms=0\n" +
	"transaction.abort.timed.out.transaction.cleanup.interval.ms=500\n"

const opTimeout = 60 * time.Second

var txnAPIs = []kmsg.Key{kmsg.InitProducerID, kmsg.AddPartitionsToTxn, kmsg.AddOffsetsToTxn, kmsg.EndTxn,
	kmsg.DescribeTransactions, kmsg.ListTransactions}

func startNode(t *testing.T) *clustertest.Node {
	t.Helper()
	n := clustertest.Start(t, clustertest.Options{Config: brokerConfig})
	n.RequireAPIs(t, "transactions", txnAPIs...)
	return n
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	t.Cleanup(cancel)
	return ctx
}

func createTopic(t *testing.T, n *clustertest.Node, topic string, partitions int32) {
	t.Helper()
	resp, err := kadm.NewClient(n.Client(t)).CreateTopic(ctxT(t), partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

func txnProducer(t *testing.T, n *clustertest.Node, id, topic string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	all := append([]kgo.Opt{kgo.TransactionalID(id), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.TransactionTimeout(30 * time.Second)}, opts...)
	return n.Client(t, all...)
}

// produceTxn runs one transaction of values and ends it.
func produceTxn(t *testing.T, cl *kgo.Client, commit bool, values ...string) {
	t.Helper()
	ctx := ctxT(t)
	if err := cl.BeginTransaction(); err != nil {
		t.Fatalf("begin: %v", err)
	}
	for _, v := range values {
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatalf("produce %s: %v", v, err)
		}
	}
	if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
		t.Fatalf("end (commit=%v): %v", commit, err)
	}
}

// consumeAll reads topic from the start until it has seen want records or
// the wait ends, with the given isolation, and returns the values sorted.
func consumeAll(t *testing.T, n *clustertest.Node, topic string, committed bool, want int, wait time.Duration) []string {
	t.Helper()
	iso := kgo.ReadUncommitted()
	if committed {
		iso = kgo.ReadCommitted()
	}
	cl := n.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(iso),
		kgo.FetchMaxWait(200*time.Millisecond))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var got []string
	for len(got) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Errorf("fetch: %v", err) })
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	sort.Strings(got)
	return got
}

func values(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%02d", prefix, i)
	}
	return out
}

func describe(t *testing.T, n *clustertest.Node, id string) kadm.DescribedTransaction {
	t.Helper()
	ds, err := kadm.NewClient(n.Client(t)).DescribeTransactions(ctxT(t), id)
	if err != nil {
		t.Fatalf("DescribeTransactions: %v", err)
	}
	d, ok := ds[id]
	if !ok {
		t.Fatalf("DescribeTransactions: no %s in %v", id, ds.TransactionalIDs())
	}
	return d
}

// waitState polls DescribeTransactions until id reaches state.
func waitState(t *testing.T, n *clustertest.Node, id, state string, wait time.Duration) kadm.DescribedTransaction {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		d := describe(t, n, id)
		if d.Err == nil && d.State == state {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: state %q (err %v), want %q", id, d.State, d.Err, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// legacy caps the client at Kafka 3.9's versions, so it runs transactions
// the pre-KIP-890-part-2 way: AddPartitionsToTxn, EndTxn v4, no epoch bump.
var legacy = kgo.MaxVersions(kversion.V3_9_0())

// TestCommitAndAbortOverSeveralPartitions runs under transaction.version 2
// (implicit adds, EndTxn v5 epoch bumps) and the older protocol.
func TestCommitAndAbortOverSeveralPartitions(t *testing.T) {
	t.Run("kip890p2", func(t *testing.T) { testCommitAndAbort(t, 3) })
	t.Run("legacy", func(t *testing.T) { testCommitAndAbort(t, 0, legacy) })
}

// testCommitAndAbort runs three transactions; epoch is the producer epoch
// expected after them (each EndTxn v5 bumps it).
func testCommitAndAbort(t *testing.T, epoch int16, opts ...kgo.Opt) {
	n := startNode(t)
	createTopic(t, n, "orders", 3)
	p := txnProducer(t, n, "tx-orders", "orders", opts...)

	produceTxn(t, p, true, values("c1", 6)...)
	produceTxn(t, p, false, values("a1", 6)...)
	produceTxn(t, p, true, values("c2", 4)...)

	d := describe(t, n, "tx-orders")
	if d.Err != nil || d.State != "CompleteCommit" || d.TimeoutMillis != 30000 || len(d.Topics) != 0 || d.ProducerEpoch != epoch {
		t.Fatalf("describe after commit: %+v", d)
	}

	want := append(values("c1", 6), values("c2", 4)...)
	sort.Strings(want)
	// read_uncommitted sees everything, aborted records included.
	if got := consumeAll(t, n, "orders", false, 16, 20*time.Second); len(got) != 16 {
		t.Fatalf("read_uncommitted: %d records %v", len(got), got)
	}
	// read_committed sees the committed transactions only (needs the
	// partition side: LSO and aborted-transaction index).
	if got := consumeAll(t, n, "orders", true, len(want), 20*time.Second); !equal(got, want) {
		// Give an aborted record time to show up if it wrongly would.
		t.Fatalf("read_committed: got %v, want %v", got, want)
	}
	if got := consumeAll(t, n, "orders", true, len(want)+1, 2*time.Second); len(got) != len(want) {
		t.Fatalf("read_committed returned aborted records: %v", got)
	}
}

func TestZombieProducerIsFenced(t *testing.T) {
	t.Run("kip890p2", func(t *testing.T) { testZombie(t) })
	t.Run("legacy", func(t *testing.T) { testZombie(t, legacy) })
}

func testZombie(t *testing.T, opts ...kgo.Opt) {
	n := startNode(t)
	createTopic(t, n, "fence", 2)
	zombie := txnProducer(t, n, "tx-fence", "fence", opts...)
	ctx := ctxT(t)
	if err := zombie.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := zombie.ProduceSync(ctx, &kgo.Record{Value: []byte("zombie-0")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	waitState(t, n, "tx-fence", "Ongoing", 10*time.Second)

	// A second instance with the same id: its init aborts the zombie's
	// transaction and bumps the epoch.
	fresh := txnProducer(t, n, "tx-fence", "fence", opts...)
	produceTxn(t, fresh, true, "fresh-0", "fresh-1")

	// The zombie can neither write nor commit.
	err := zombie.ProduceSync(ctx, &kgo.Record{Value: []byte("zombie-1")}).FirstErr()
	if err == nil {
		err = zombie.EndTransaction(ctx, kgo.TryCommit)
	}
	if !errors.Is(err, kerr.ProducerFenced) && !errors.Is(err, kerr.InvalidProducerEpoch) {
		t.Fatalf("zombie: got %v, want PRODUCER_FENCED or INVALID_PRODUCER_EPOCH", err)
	}
	d := describe(t, n, "tx-fence")
	if d.State != "CompleteCommit" {
		t.Fatalf("after fencing: %+v", d)
	}
	if got := consumeAll(t, n, "fence", true, 2, 20*time.Second); !equal(got, []string{"fresh-0", "fresh-1"}) {
		t.Fatalf("read_committed: %v", got)
	}
	if got := consumeAll(t, n, "fence", true, 3, 2*time.Second); len(got) != 2 {
		t.Fatalf("read_committed shows the zombie's records: %v", got)
	}
}

func TestHangingTransactionIsAbortedAfterItsTimeout(t *testing.T) {
	n := startNode(t)
	createTopic(t, n, "hang", 1)
	p := txnProducer(t, n, "tx-hang", "hang", kgo.TransactionTimeout(2*time.Second))
	ctx := ctxT(t)
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for _, v := range values("hung", 3) {
		if err := p.ProduceSync(ctx, &kgo.Record{Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	d := waitState(t, n, "tx-hang", "Ongoing", 5*time.Second)
	epoch := d.ProducerEpoch

	d = waitState(t, n, "tx-hang", "CompleteAbort", 15*time.Second)
	if d.ProducerEpoch <= epoch {
		t.Fatalf("epoch %d not bumped past %d", d.ProducerEpoch, epoch)
	}
	// The last stable offset moved past the aborted records.
	adm := kadm.NewClient(n.Client(t))
	ends, err := adm.ListEndOffsets(ctx, "hang")
	if err != nil {
		t.Fatal(err)
	}
	committed, err := adm.ListCommittedOffsets(ctx, "hang")
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup("hang", 0)
	lso, _ := committed.Lookup("hang", 0)
	if end.Offset != 4 || lso.Offset != end.Offset {
		t.Fatalf("end offset %d, last stable offset %d: want 4 and 4 (3 records and the abort marker)", end.Offset, lso.Offset)
	}
	if got := consumeAll(t, n, "hang", true, 1, 2*time.Second); len(got) != 0 {
		t.Fatalf("read_committed shows aborted records: %v", got)
	}
	// The producer that hung cannot commit.
	if err := p.EndTransaction(ctx, kgo.TryCommit); err == nil {
		t.Fatal("commit after the coordinator aborted the transaction succeeded")
	}
}

func TestTransactionSurvivesRestart(t *testing.T) {
	n := startNode(t)
	createTopic(t, n, "restart", 2)
	produceTxn(t, txnProducer(t, n, "tx-before", "restart"), true, "before-0")

	p := txnProducer(t, n, "tx-restart", "restart")
	ctx := ctxT(t)
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for _, v := range values("r", 4) {
		if err := p.ProduceSync(ctx, &kgo.Record{Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	n.Restart(t)
	// The coordinator reloads __transaction_state: the transaction is
	// still ongoing and commits.
	waitState(t, n, "tx-restart", "Ongoing", 20*time.Second)
	if d := describe(t, n, "tx-before"); d.State != "CompleteCommit" {
		t.Fatalf("tx-before after restart: %+v", d)
	}
	if err := p.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatalf("commit after restart: %v", err)
	}
	want := append([]string{"before-0"}, values("r", 4)...)
	sort.Strings(want)
	if got := consumeAll(t, n, "restart", true, len(want), 20*time.Second); !equal(got, want) {
		t.Fatalf("read_committed: got %v, want %v", got, want)
	}
}

func TestDescribeAndListTransactions(t *testing.T) {
	n := startNode(t)
	createTopic(t, n, "adm", 2)
	produceTxn(t, txnProducer(t, n, "list-a", "adm"), true, "a")
	produceTxn(t, txnProducer(t, n, "list-b", "adm"), false, "b")
	open := txnProducer(t, n, "other-c", "adm")
	ctx := ctxT(t)
	if err := open.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := open.ProduceSync(ctx, &kgo.Record{Value: []byte("c")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(n.Client(t))

	ds, err := adm.DescribeTransactions(ctx, "list-a", "other-c", "nobody")
	if err != nil {
		t.Fatal(err)
	}
	if d := ds["list-a"]; d.Err != nil || d.State != "CompleteCommit" || d.ProducerID < 0 {
		t.Fatalf("list-a: %+v", d)
	}
	c := ds["other-c"]
	if c.Err != nil || c.State != "Ongoing" || c.StartTimestamp <= 0 || len(c.Topics["adm"]) != 1 {
		t.Fatalf("other-c: %+v", c)
	}
	if d := ds["nobody"]; !errors.Is(d.Err, kerr.TransactionalIDNotFound) {
		t.Fatalf("nobody: %+v", d)
	}

	ls, err := adm.ListTransactions(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ids := ls.TransactionalIDs(); !equal(ids, []string{"list-a", "list-b", "other-c"}) {
		t.Fatalf("list: %v", ids)
	}
	ls, err = adm.ListTransactions(ctx, nil, []string{"Ongoing"})
	if err != nil {
		t.Fatal(err)
	}
	if ids := ls.TransactionalIDs(); !equal(ids, []string{"other-c"}) {
		t.Fatalf("list Ongoing: %v", ids)
	}
	ls, err = adm.ListTransactions(ctx, []int64{c.ProducerID}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ids := ls.TransactionalIDs(); !equal(ids, []string{"other-c"}) {
		t.Fatalf("list by producer id: %v", ids)
	}
	ls, err = adm.ListTransactionsByTxPattern(ctx, nil, nil, "list-.*")
	if err != nil {
		if strings.Contains(err.Error(), "version") {
			t.Logf("pattern filter not negotiated: %v", err)
		} else {
			t.Fatal(err)
		}
	} else if ids := ls.TransactionalIDs(); !equal(ids, []string{"list-a", "list-b"}) {
		t.Fatalf("list by pattern: %v", ids)
	}
	if err := open.EndTransaction(ctx, kgo.TryAbort); err != nil {
		t.Fatal(err)
	}
}
