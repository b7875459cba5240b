package eos_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// lso is the partition's last stable offset: ListOffsets latest under
// read_committed.
func lso(ctx context.Context, t *testing.T, adm *kadm.Client, topic string, p int32) int64 {
	t.Helper()
	offs, err := adm.ListCommittedOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("list offsets (read_committed): %v", err)
	}
	o, ok := offs.Lookup(topic, p)
	if !ok || o.Err != nil {
		t.Fatalf("list offsets (read_committed) %s-%d: %+v", topic, p, o)
	}
	return o.Offset
}

func hwm(ctx context.Context, t *testing.T, adm *kadm.Client, topic string, p int32) int64 {
	t.Helper()
	offs, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("list end offsets: %v", err)
	}
	o, _ := offs.Lookup(topic, p)
	return o.Offset
}

// openTxn leaves a transaction of the producer open on partition 0 of topic,
// after plain records, and returns the offset it starts at. The client
// stays open and silent (a hung producer).
func openTxn(ctx context.Context, t *testing.T, node *clustertest.Node, topic, id string, timeout time.Duration) int64 {
	t.Helper()
	plain := node.Client(t, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err := plain.ProduceSync(ctx, &kgo.Record{Value: []byte("before")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cl := node.Client(t, kgo.TransactionalID(id), kgo.TransactionTimeout(timeout), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	res := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("hanging-1")}, &kgo.Record{Value: []byte("hanging-2")})
	if err := res.FirstErr(); err != nil {
		t.Fatal(err)
	}
	first := res[0].Record.Offset
	// Plain records after the open transaction: read_committed consumers
	// must not see them while it is open.
	if err := plain.ProduceSync(ctx, &kgo.Record{Value: []byte("after")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	return first
}

// waitLSO waits until the partition's LSO reaches its high watermark.
func waitLSO(ctx context.Context, t *testing.T, adm *kadm.Client, topic string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		l, h := lso(ctx, t, adm, topic, 0), hwm(ctx, t, adm, topic, 0)
		if l == h {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("LSO %d still below the high watermark %d after %v", l, h, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func checkAfterAbort(t *testing.T, node *clustertest.Node, topic string) {
	t.Helper()
	recs := consumeAll(t, node, topic, true, 2)
	if len(recs) != 2 || recs[0].Value != "before" || recs[1].Value != "after" {
		t.Errorf("read_committed after the abort: %+v, want before and after only", recs)
	}
}

// TestHangingTransactionTimesOut: a producer that stops in the middle of a
// transaction holds the LSO back until the coordinator aborts the
// transaction after transaction.timeout.ms; then the LSO moves on and
// read_committed consumers skip the aborted records.
func TestHangingTransactionTimesOut(t *testing.T) {
	node := startNode(t, "transaction.abort.timed.out.transaction.cleanup.interval.ms=500\n")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const topic = "hanging"
	createTopic(t, node, topic, 1)
	adm := kadm.NewClient(node.Client(t))
	first := openTxn(ctx, t, node, topic, "hanging", 3*time.Second)
	if l := lso(ctx, t, adm, topic, 0); l != first {
		t.Fatalf("LSO with the transaction open: %d, want its first offset %d", l, first)
	}
	took := waitLSO(ctx, t, adm, topic, 30*time.Second)
	t.Logf("LSO moved on %v after the check", took.Round(100*time.Millisecond))
	checkAfterAbort(t, node, topic)
}

// TestTxnCommands: samsa txn list and describe show an open transaction,
// and samsa txn abort --start-offset ends it in the partition (as
// kafka-transactions.sh abort does), moving the LSO on.
func TestTxnCommands(t *testing.T) {
	node := startNode(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const topic = "cli-hanging"
	createTopic(t, node, topic, 1)
	adm := kadm.NewClient(node.Client(t))
	first := openTxn(ctx, t, node, topic, "cli-txn", time.Minute)
	bin := clustertest.Binary(t)
	samsa := func(args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, bin, append(args, "-b", node.Addr)...).CombinedOutput()
		return string(out), err
	}

	out, err := samsa("txn", "list")
	if err != nil || !strings.Contains(out, "cli-txn") || !strings.Contains(out, "Ongoing") {
		t.Errorf("txn list: %v\n%s", err, out)
	}
	out, err = samsa("txn", "describe", "cli-txn")
	if err != nil || !strings.Contains(out, "Ongoing") || !strings.Contains(out, topic+"-0") {
		t.Errorf("txn describe: %v\n%s", err, out)
	}
	out, err = samsa("txn", "describe", "no-such-txn")
	if err == nil || strings.TrimSpace(out) != "samsa: transactional id no-such-txn does not exist" {
		t.Errorf("txn describe of an unknown id: %v\n%s", err, out)
	}
	out, err = samsa("txn", "abort", "--topic", topic, "--partition", "0", "--start-offset", fmt.Sprint(first+1))
	if err == nil || !strings.Contains(out, fmt.Sprintf("no open transaction starts at offset %d of %s-0", first+1, topic)) {
		t.Errorf("txn abort at a wrong offset: %v\n%s", err, out)
	}
	out, err = samsa("txn", "abort", "--topic", topic, "--partition", "0", "--start-offset", fmt.Sprint(first))
	if err != nil || !strings.Contains(out, "aborted the transaction of producer") {
		t.Fatalf("txn abort: %v\n%s", err, out)
	}
	waitLSO(ctx, t, adm, topic, 5*time.Second)
	checkAfterAbort(t, node, topic)
}
