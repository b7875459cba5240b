package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// BenchmarkProduce1KiB measures produce throughput against the real binary:
// 1 KiB records, 6 partitions, acks=all, idempotent franz-go producer.
func BenchmarkProduce1KiB(b *testing.B) {
	n := clustertest.Start(b, clustertest.Options{})
	cl := n.Client(b)
	createTopic(b, cl, "bench", 6, nil)
	prod, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.ProducerBatchMaxBytes(1<<20),
		kgo.MaxBufferedRecords(1<<16))
	if err != nil {
		b.Fatal(err)
	}
	defer prod.Close()
	value := make([]byte, 1024)
	b.SetBytes(int64(len(value)))
	b.ResetTimer()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i := 0; i < b.N; i++ {
		wg.Add(1)
		prod.Produce(context.Background(), &kgo.Record{Topic: "bench", Value: value}, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				firstErr = err
				mu.Unlock()
			}
			wg.Done()
		})
	}
	wg.Wait()
	b.StopTimer()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
}

// BenchmarkConsume1KiB measures consume throughput from a warm page cache.
func BenchmarkConsume1KiB(b *testing.B) {
	n := clustertest.Start(b, clustertest.Options{})
	cl := n.Client(b)
	createTopic(b, cl, "bench", 6, nil)
	prod, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.ProducerBatchMaxBytes(1<<20))
	if err != nil {
		b.Fatal(err)
	}
	value := make([]byte, 1024)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for i := 0; i < b.N; i++ {
		prod.Produce(ctx, &kgo.Record{Topic: "bench", Value: value}, nil)
	}
	if err := prod.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	prod.Close()

	b.SetBytes(int64(len(value)))
	b.ResetTimer()
	cons, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.ConsumeTopics("bench"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(32<<20), kgo.FetchMaxPartitionBytes(8<<20))
	if err != nil {
		b.Fatal(err)
	}
	defer cons.Close()
	got := 0
	for got < b.N {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			b.Fatalf("consumed %d of %d", got, b.N)
		}
		got += fs.NumRecords()
	}
}
