package node

import (
	"testing"

	"github.com/samsa-streaming/samsa/internal/metrics"
)

// BenchmarkScrapeMem: one scrape of a broker hosting 10,000 partitions
// (10 topics of 1,000) and coordinating 1,000 groups each committed on 10
// partitions, its state in memory (metrics_mem_test.go) so that the
// machine's file-descriptor limit does not cap it; the exposition code is
// the node's. "all" is /metrics in the text format with the Go and
// process collectors (the broker's small collector, which needs a node, is
// left out: BenchmarkScrape10kPartitions has it), "all/gzip" the same as
// Prometheus asks for it (compressed), "all/client_golang" the
// same registry through Gather and expfmt (as protobuf is served);
// "partitions" and "lag" are each Bulk collector writing its text alone,
// "partitions/collect" and "lag/collect" their Collect into a drained
// channel.
func BenchmarkScrapeMem(b *testing.B) {
	s := newMemState(10, 1000, 1000, 10, []string{"group-"})
	pc, lc := s.collectors()
	reg := metrics.New()
	if err := reg.RegisterBulk(pc); err != nil {
		b.Fatal(err)
	}
	if err := reg.RegisterBulk(lc); err != nil {
		b.Fatal(err)
	}
	parts := len(s.parts.list)
	for range 60 { // the record times only in logs are read at 200 a scrape
		lc.WriteText(&metrics.Text{})
	}
	b.Run("all", func(b *testing.B) { benchScrape(b, reg.Handler(), parts) })
	b.Run("all/gzip", func(b *testing.B) { benchScrapeGzip(b, reg.Handler(), parts) })
	b.Run("all/client_golang", func(b *testing.B) { benchGather(b, reg.Gatherer(), parts) })
	for _, c := range []struct {
		name string
		bulk metrics.Bulk
	}{{"partitions", pc}, {"lag", lc}} {
		b.Run(c.name, func(b *testing.B) {
			var t metrics.Text
			b.ReportAllocs()
			for range b.N {
				t.Reset()
				c.bulk.WriteText(&t)
			}
		})
		b.Run(c.name+"/collect", func(b *testing.B) { benchCollect(b, c.bulk) })
	}
}
