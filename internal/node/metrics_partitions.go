package node

import (
	"cmp"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/samsa-streaming/samsa/internal/metrics"
)

// partitionCollector reports, per hosted partition, Kafka's Partition and
// Log gauges, and the replica manager's counts: a metrics.Bulk collector,
// written straight into the text exposition (metrics_lag_series.go).
// Kafka reports a partition's UnderMinIsr, AtMinIsr and ReplicasCount on
// its leader only (0 elsewhere); so does this.
type partitionCollector struct {
	parts metricsPartitions
	fams  partitionFamilies

	mu     sync.Mutex // one scrape at a time; guards the fields below
	labels labelCache
	names  partitionNames
	hosted []hostedSeries // reused between scrapes
}

type hostedSeries struct {
	p           metricsPartition
	topic, part string
}

// partitionFamilies are the collector's families, under jmx_exporter's
// names (internal/metrics/doc.go).
type partitionFamilies struct {
	underMin, atMin, replicas, size              *metrics.Family
	leaders, count, under, underMinCnt, atMinCnt *metrics.Family
}

func newPartitionCollector(parts metricsPartitions) *partitionCollector {
	tp := []string{"topic", "partition"}
	g := func(name, help string, labels ...string) *metrics.Family {
		return metrics.NewFamily(name, help, prometheus.GaugeValue, labels...)
	}
	return &partitionCollector{parts: parts, fams: partitionFamilies{
		underMin:    g("kafka_cluster_partition_underminisr", "kafka.cluster:type=Partition,name=UnderMinIsr: 1 when the led partition's ISR is below min.insync.replicas", tp...),
		atMin:       g("kafka_cluster_partition_atminisr", "kafka.cluster:type=Partition,name=AtMinIsr: 1 when the led partition's ISR is exactly min.insync.replicas", tp...),
		replicas:    g("kafka_cluster_partition_replicascount", "kafka.cluster:type=Partition,name=ReplicasCount: the led partition's replication factor (0 on followers)", tp...),
		size:        g("kafka_log_log_size", "kafka.log:type=Log,name=Size: bytes in the partition's log segments", tp...),
		leaders:     g("kafka_server_replicamanager_leadercount", "kafka.server:type=ReplicaManager,name=LeaderCount: partitions this broker leads"),
		count:       g("kafka_server_replicamanager_partitioncount", "kafka.server:type=ReplicaManager,name=PartitionCount: partitions this broker hosts"),
		under:       g("kafka_server_replicamanager_underreplicatedpartitions", "kafka.server:type=ReplicaManager,name=UnderReplicatedPartitions: led partitions whose ISR is smaller than their replica set"),
		underMinCnt: g("kafka_server_replicamanager_underminisrpartitioncount", "kafka.server:type=ReplicaManager,name=UnderMinIsrPartitionCount"),
		atMinCnt:    g("kafka_server_replicamanager_atminisrpartitioncount", "kafka.server:type=ReplicaManager,name=AtMinIsrPartitionCount"),
	}}
}

func (c *partitionCollector) families() []*metrics.Family {
	f := &c.fams
	return []*metrics.Family{f.underMin, f.atMin, f.replicas, f.size, f.leaders, f.count, f.under, f.underMinCnt, f.atMinCnt}
}

func (c *partitionCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range c.families() {
		ch <- f.Desc
	}
}

func (c *partitionCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.labels.rotate()
	c.collect(&seriesOut{ch: ch, labels: &c.labels})
}

// WriteText writes the families into t (metrics.Bulk).
func (c *partitionCollector) WriteText(t *metrics.Text) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.collect(&seriesOut{text: t})
}

func (c *partitionCollector) collect(out *seriesOut) {
	var leaders, count, under, underMin, atMin int
	// In the order the registry sorts series (label values as strings):
	// its sort then finds them sorted, and the text is in the same order.
	hs := c.hosted[:0]
	c.parts.Each(func(p metricsPartition) {
		topic, i := p.ID()
		hs = append(hs, hostedSeries{p, topic, c.names.name(i)})
	})
	slices.SortFunc(hs, func(a, b hostedSeries) int {
		return cmp.Or(strings.Compare(a.topic, b.topic), strings.Compare(a.part, b.part))
	})
	f := &c.fams
	for _, h := range hs {
		rs := h.p.ReplicaStats()
		count++
		var um, am, rc float64
		if rs.Leader {
			leaders++
			rc = float64(rs.Replicas)
			if rs.ISR < rs.Replicas {
				under++
			}
			if rs.ISR < rs.MinISR {
				um = 1
				underMin++
			} else if rs.ISR == rs.MinISR {
				am = 1
				atMin++
			}
		}
		out.sample(f.underMin, um, h.topic, h.part)
		out.sample(f.atMin, am, h.topic, h.part)
		out.sample(f.replicas, rc, h.topic, h.part)
		out.sample(f.size, float64(h.p.LogSize()), h.topic, h.part)
	}
	clear(hs) // keeps no partition past the scrape
	c.hosted = hs[:0]
	out.sample(f.leaders, float64(leaders))
	out.sample(f.count, float64(count))
	out.sample(f.under, float64(under))
	out.sample(f.underMinCnt, float64(underMin))
	out.sample(f.atMinCnt, float64(atMin))
}
