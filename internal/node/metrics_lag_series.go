package node

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The lag collector emits one gauge per group-partition and several per
// partition, so it may emit a hundred thousand series a scrape. Rather
// than prometheus.MustNewConstMetric (which validates and allocates every
// label name and value, then sorts them, for every sample) it sends
// lagMetrics: label pairs interned across scrapes (a name-value pair is
// allocated once while it is in use, partition numbers once), samples and
// label lists carved from chunks, so a sample costs no allocation of its
// own. Label lists are given in name order, as client_golang expects.

// lagMetric is one gauge sample.
type lagMetric struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	value  float64
}

func (m *lagMetric) Desc() *prometheus.Desc { return m.desc }

func (m *lagMetric) Write(out *dto.Metric) error {
	out.Label = m.labels
	if m.desc == descGroupLagSum || m.desc == descGroupOffsetSum {
		// kafka_exporter's *_sum names are gauges, but Prometheus' lint
		// refuses a gauge named _sum: exposed untyped, as the Kafka names
		// promlint refuses are elsewhere.
		out.Untyped = &dto.Untyped{Value: &m.value}
		return nil
	}
	out.Gauge = &dto.Gauge{Value: &m.value}
	return nil
}

type labelKey struct{ name, value string }

// labelCache interns label pairs; pairs unused for a whole scrape are
// dropped at the next rotate.
type labelCache struct {
	cur, next  map[labelKey]*dto.LabelPair
	partitions []*dto.LabelPair // partition="i", kept
}

func (c *labelCache) pair(name, value string) *dto.LabelPair {
	k := labelKey{name, value}
	if p, ok := c.next[k]; ok {
		return p
	}
	p, ok := c.cur[k]
	if !ok {
		v := value
		if !utf8.ValidString(v) {
			v = strings.ToValidUTF8(v, "\uFFFD")
		}
		p = &dto.LabelPair{Name: &k.name, Value: &v}
	}
	c.next[k] = p
	return p
}

func (c *labelCache) partition(i int32) *dto.LabelPair {
	if i < 0 {
		return c.pair("partition", strconv.FormatInt(int64(i), 10))
	}
	for int(i) >= len(c.partitions) {
		v := strconv.Itoa(len(c.partitions))
		c.partitions = append(c.partitions, &dto.LabelPair{Name: new("partition"), Value: &v})
	}
	return c.partitions[i]
}

// rotate starts a scrape.
func (c *labelCache) rotate() {
	c.cur, c.next = c.next, make(map[labelKey]*dto.LabelPair, len(c.next))
}

const seriesChunk = 512

// seriesOut sends samples to a Collect channel.
type seriesOut struct {
	ch     chan<- prometheus.Metric
	labels *labelCache
	ms     []lagMetric
	pairs  []*dto.LabelPair
}

// gauge sends one sample; pairs must be in label-name order.
func (o *seriesOut) gauge(d *prometheus.Desc, v float64, pairs ...*dto.LabelPair) {
	if len(o.ms) == cap(o.ms) {
		o.ms = make([]lagMetric, 0, seriesChunk)
	}
	if len(o.pairs)+len(pairs) > cap(o.pairs) {
		o.pairs = make([]*dto.LabelPair, 0, 3*seriesChunk)
	}
	start := len(o.pairs)
	o.pairs = append(o.pairs, pairs...)
	o.ms = append(o.ms, lagMetric{desc: d, labels: o.pairs[start:len(o.pairs):len(o.pairs)], value: v})
	o.ch <- &o.ms[len(o.ms)-1]
}
