package eos_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

const benchRecordsPerOp = 100

func benchNode(b *testing.B) *clustertest.Node {
	b.Helper()
	node := clustertest.Start(b, clustertest.Options{Config: nodeConfig})
	node.RequireAPIs(b, "transactions", txnAPIs...)
	createTopic(b, node, "bench", 3)
	return node
}

func benchRecords() []*kgo.Record {
	recs := make([]*kgo.Record, benchRecordsPerOp)
	value := make([]byte, 100)
	for i := range recs {
		recs[i] = &kgo.Record{Value: value}
	}
	return recs
}

// BenchmarkTxnProduce: one op is a transaction of 100 records of 100
// bytes over three partitions, committed.
func BenchmarkTxnProduce(b *testing.B) {
	node := benchNode(b)
	cl := node.Client(b, kgo.TransactionalID("bench-txn"), kgo.DefaultProduceTopic("bench"), kgo.TransactionTimeout(30*time.Second))
	ctx := context.Background()
	recs := benchRecords()
	b.ResetTimer()
	for b.Loop() {
		if err := cl.BeginTransaction(); err != nil {
			b.Fatal(err)
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			b.Fatal(err)
		}
		if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchRecordsPerOp)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkPlainProduce: one op is 100 records of 100 bytes over three
// partitions, produced synchronously by an idempotent producer.
func BenchmarkPlainProduce(b *testing.B) {
	node := benchNode(b)
	cl := node.Client(b, kgo.DefaultProduceTopic("bench"))
	ctx := context.Background()
	recs := benchRecords()
	b.ResetTimer()
	for b.Loop() {
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchRecordsPerOp)/b.Elapsed().Seconds(), "records/s")
}
