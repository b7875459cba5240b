package node

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/metrics"
	"github.com/samsa-streaming/samsa/internal/partition"
)

// The cost of the broker metrics: produce and fetch throughput of an
// in-process node (client in the same process) with the admin listener,
// and so the request metrics, on and off; and the cost of a scrape of a
// broker with 10k partitions. Reported: MB/s (b.SetBytes) and CPU-s/GB
// (the process's user+system CPU, client included).

const benchRecord = 1 << 10

func benchNode(b *testing.B, on bool, topics, partitions int) (*Node, []string) {
	b.Helper()
	cfg := singleConfig(b, b.TempDir())
	if on {
		cfg.AdminListen = "127.0.0.1:0"
	}
	n, err := Start(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { n.Close() })
	boot := []string{n.Addr()}
	cl, err := kgo.NewClient(kgo.SeedBrokers(boot...))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for i := range topics {
		if _, err := kadm.NewClient(cl).CreateTopic(ctx, int32(partitions), 1, nil, fmt.Sprintf("bench%d", i)); err != nil {
			b.Fatal(err)
		}
	}
	return n, boot
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, cpu time.Duration, bytes int64) {
	b.ReportMetric(cpu.Seconds()/(float64(bytes)/1e9), "cpu-s/GB")
}

// produceRecords produces n records of benchRecord bytes to bench0.
func produceRecords(b *testing.B, boot []string, n int) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(boot...), kgo.DefaultProduceTopic("bench0"),
		kgo.ProducerBatchMaxBytes(1<<20), kgo.ProducerLinger(time.Millisecond), kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	val := bytes.Repeat([]byte("v"), benchRecord)
	ctx := context.Background()
	for range n {
		cl.Produce(ctx, &kgo.Record{Value: val}, func(_ *kgo.Record, err error) {
			if err != nil {
				b.Error(err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkMetricsProduce(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("metrics=%v", on), func(b *testing.B) {
			_, boot := benchNode(b, on, 1, 4)
			b.SetBytes(benchRecord)
			b.ResetTimer()
			cpu := cpuTime()
			produceRecords(b, boot, b.N)
			reportCPU(b, cpuTime()-cpu, int64(b.N)*benchRecord)
		})
	}
}

func BenchmarkMetricsFetch(b *testing.B) {
	const records = 100_000 // 100 MiB
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("metrics=%v", on), func(b *testing.B) {
			_, boot := benchNode(b, on, 1, 4)
			produceRecords(b, boot, records)
			b.SetBytes(records * benchRecord)
			b.ResetTimer()
			cpu := cpuTime()
			for range b.N {
				cl, err := kgo.NewClient(kgo.SeedBrokers(boot...), kgo.ConsumeTopics("bench0"),
					kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(64<<20))
				if err != nil {
					b.Fatal(err)
				}
				got := 0
				for got < records {
					fs := cl.PollFetches(context.Background())
					fs.EachError(func(_ string, _ int32, err error) { b.Fatal(err) })
					got += fs.NumRecords()
				}
				cl.Close()
			}
			reportCPU(b, cpuTime()-cpu, int64(b.N)*records*benchRecord)
		})
	}
}

// BenchmarkScrape10kPartitions: one scrape of a broker hosting topics of
// 1,000 partitions: 10,000 of them, or as many thousands as RLIMIT_NOFILE
// allows (3 descriptors a partition; a 20,000 limit hosts 6,000),
// reported as partitions (BenchmarkScrapeMem drives the same code over
// 10,000 in memory). "broker" is the broker's collectors alone (this
// file's and metrics_partitions.go's), "all" the whole /metrics (lag, Go
// and process too), both as /metrics answers the text format; "all/
// client_golang" is the whole registry through client_golang's Gather and
// expfmt, as /metrics answers protobuf (and answered everything before
// the text path).
func BenchmarkScrape10kPartitions(b *testing.B) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		b.Fatal(err)
	}
	limit := int(min(rl.Cur, 1<<20))
	topics := min(10, (limit-min(1024, limit/4))/partition.FDsPerPartition/1000)
	n, _ := benchNode(b, true, topics, 1000)
	deadline := time.Now().Add(3 * time.Minute)
	for len(n.parts.All()) < topics*1000 {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d partitions open", len(n.parts.All()), topics*1000)
		}
		time.Sleep(100 * time.Millisecond)
	}
	only := metrics.NewBare()
	if err := only.Register(newBrokerCollector(n, time.Now())); err != nil {
		b.Fatal(err)
	}
	if err := only.RegisterBulk(newPartitionCollector(hostedPartitions{n.parts})); err != nil {
		b.Fatal(err)
	}
	b.Run("broker", func(b *testing.B) { benchScrape(b, only.Handler(), topics*1000) })
	b.Run("all", func(b *testing.B) { benchScrape(b, n.Metrics().Handler(), topics*1000) })
	b.Run("all/client_golang", func(b *testing.B) { benchGather(b, n.Metrics().Gatherer(), topics*1000) })
}

// benchScrape answers GET /metrics with h, as Prometheus asks without
// protobuf, uncompressed.
func benchScrape(b *testing.B, h http.Handler, partitions int) {
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1")
	benchServe(b, h, req, partitions)
}

// benchScrapeGzip is benchScrape with Accept-Encoding: gzip, as
// Prometheus asks.
func benchScrapeGzip(b *testing.B, h http.Handler, partitions int) {
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1")
	req.Header.Set("Accept-Encoding", "gzip")
	benchServe(b, h, req, partitions)
}

func benchServe(b *testing.B, h http.Handler, req *http.Request, partitions int) {
	w := &discardResponse{header: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		w.n = 0
		clear(w.header)
		h.ServeHTTP(w, req)
	}
	b.ReportMetric(float64(w.n), "bytes/scrape")
	b.ReportMetric(float64(partitions), "partitions")
}

// benchGather gathers and encodes g as promhttp does.
func benchGather(b *testing.B, g prometheus.Gatherer, partitions int) {
	var buf bytes.Buffer
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		buf.Reset()
		fams, err := g.Gather()
		if err != nil {
			b.Fatal(err)
		}
		enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, f := range fams {
			if err := enc.Encode(f); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/scrape")
	b.ReportMetric(float64(partitions), "partitions")
}

// discardResponse is an http.ResponseWriter counting what it is written.
type discardResponse struct {
	header http.Header
	n      int
}

func (d *discardResponse) Header() http.Header { return d.header }
func (d *discardResponse) WriteHeader(int)     {}
func (d *discardResponse) Write(p []byte) (int, error) {
	d.n += len(p)
	return len(p), nil
}
