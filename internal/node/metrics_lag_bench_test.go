package node

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/metrics"
)

// BenchmarkLagScrape measures one collection of the lag collector on a
// node hosting SAMSA_BENCH_LAG_PARTITIONS partitions (default 1,000; the
// issue's 10,000 take minutes to create) in topics of 100, with
// SAMSA_BENCH_LAG_GROUPS groups (default 1,000) each committed on 10
// partitions. Per op: every metric built and drained, as /metrics does
// before encoding; and the whole answer.
func BenchmarkLagScrape(b *testing.B) {
	parts := envInt("SAMSA_BENCH_LAG_PARTITIONS", 1000)
	groups := envInt("SAMSA_BENCH_LAG_GROUPS", 1000)
	cfg := singleConfig(b, b.TempDir())
	cfg.AdminListen = "127.0.0.1:0"
	n, err := Start(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	const perTopic = 100
	var topics []string
	for i := 0; i*perTopic < parts; i++ {
		t := fmt.Sprintf("bench-%d", i)
		topics = append(topics, t)
		if _, err := adm.CreateTopic(ctx, perTopic, 1, nil, t); err != nil {
			b.Fatal(err)
		}
	}
	var recs []*kgo.Record
	for _, t := range topics {
		for p := range int32(perTopic) {
			for range 3 {
				recs = append(recs, &kgo.Record{Topic: t, Partition: p, Value: []byte("x")})
			}
		}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		b.Fatal(err)
	}
	for g := range groups {
		offs := kadm.Offsets{}
		for i := range 10 {
			k := (g*10 + i) % (len(topics) * perTopic)
			offs.AddOffset(topics[k/perTopic], int32(k%perTopic), int64(1+i%2), -1)
		}
		if _, err := adm.CommitOffsets(ctx, "group-"+strconv.Itoa(g), offs); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("collect", func(b *testing.B) { benchCollect(b, n.lagCollector) })
	// The whole /metrics answer, in the text format and through
	// client_golang (gather, check and encode, as protobuf is served).
	reg := metrics.NewBare()
	if err := reg.RegisterBulk(n.lagCollector); err != nil {
		b.Fatal(err)
	}
	b.Run("scrape", func(b *testing.B) { benchScrape(b, reg.Handler(), parts) })
	b.Run("scrape/client_golang", func(b *testing.B) { benchGather(b, reg.Gatherer(), parts) })
}

// benchCollect runs c.Collect, its metrics drained (and counted) by
// another goroutine, as a registry's Gather does before it reads them.
func benchCollect(b *testing.B, c prometheus.Collector) {
	ch := make(chan prometheus.Metric, 1024)
	done := make(chan int)
	go func() { // drains until ch closes
		count := 0
		for range ch {
			count++
		}
		done <- count
	}()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		c.Collect(ch)
	}
	b.StopTimer()
	close(ch)
	b.ReportMetric(float64(<-done)/float64(b.N), "series/op")
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
