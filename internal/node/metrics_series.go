package node

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/samsa-streaming/samsa/internal/partition"
)

// partitionLabels caches each hosted partition's {partition, topic} label
// pairs between scrapes, so that the four per-partition gauges of a
// 10k-partition broker cost a few allocations each instead of a dozen
// (prometheus.MustNewConstMetric builds and validates its labels anew).
// Entries of partitions no longer hosted are dropped at each scrape.
type partitionLabels struct {
	prev map[*partition.Partition][]*dto.LabelPair
}

// get is p's label pairs (sorted by name, as the registry wants them);
// next collects this scrape's entries.
func (pl *partitionLabels) get(next map[*partition.Partition][]*dto.LabelPair, p *partition.Partition, part string) []*dto.LabelPair {
	lp, ok := pl.prev[p]
	if !ok {
		lp = []*dto.LabelPair{
			{Name: new("partition"), Value: new(part)},
			{Name: new("topic"), Value: new(p.Topic)},
		}
	}
	next[p] = lp
	return lp
}

// gaugeSeries is one gauge sample with cached, pre-sorted labels. Its
// label pairs are shared between scrapes and never modified.
type gaugeSeries struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	v      float64
}

func (g *gaugeSeries) Desc() *prometheus.Desc { return g.desc }

func (g *gaugeSeries) Write(out *dto.Metric) error {
	out.Label = g.labels
	out.Gauge = &dto.Gauge{Value: &g.v}
	return nil
}
