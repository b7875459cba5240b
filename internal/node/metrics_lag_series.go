package node

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/samsa-streaming/samsa/internal/metrics"
)

// The per-partition and per-group collectors (metrics_partitions.go,
// metrics_lag.go) emit a sample per partition or group-partition and
// family: tens of thousands a scrape. They walk the node's state once,
// into a seriesOut, which either appends the samples to a metrics.Text
// (the text exposition, what /metrics serves Prometheus: no client_golang
// object per sample) or sends them to a Collect channel (Gatherer, and
// /metrics in protobuf). On the channel, rather than
// prometheus.MustNewConstMetric (which validates and allocates every
// label name and value, then sorts them, for every sample) it sends
// seriesMetrics: label pairs interned across scrapes (a name-value pair is
// allocated once while it is in use), samples and label lists carved from
// chunks, so a sample costs no allocation of its own. Label lists are
// given in name order, as client_golang expects.

// seriesMetric is one sample of a metrics.Family.
type seriesMetric struct {
	f      *metrics.Family
	labels []*dto.LabelPair
	value  float64
}

func (m *seriesMetric) Desc() *prometheus.Desc { return m.f.Desc }

func (m *seriesMetric) Write(out *dto.Metric) error {
	out.Label = m.labels
	switch m.f.Type() {
	case prometheus.UntypedValue:
		out.Untyped = &dto.Untyped{Value: &m.value}
	case prometheus.CounterValue:
		out.Counter = &dto.Counter{Value: &m.value}
	default:
		out.Gauge = &dto.Gauge{Value: &m.value}
	}
	return nil
}

type labelKey struct{ name, value string }

// labelCache interns label pairs; pairs unused for a whole scrape are
// dropped at the next rotate.
type labelCache struct {
	cur, next map[labelKey]*dto.LabelPair
}

func (c *labelCache) pair(name, value string) *dto.LabelPair {
	k := labelKey{name, value}
	if p, ok := c.next[k]; ok {
		return p
	}
	p, ok := c.cur[k]
	if !ok {
		n, v := name, value // not k's: k stays on the stack
		if !utf8.ValidString(v) {
			v = strings.ToValidUTF8(v, "\uFFFD")
		}
		p = &dto.LabelPair{Name: &n, Value: &v}
	}
	c.next[k] = p
	return p
}

// rotate starts a scrape.
func (c *labelCache) rotate() {
	c.cur, c.next = c.next, make(map[labelKey]*dto.LabelPair, len(c.next))
}

// partitionNames are the partition label values "0", "1", …, kept.
type partitionNames []string

func (n *partitionNames) name(i int32) string {
	if i < 0 || i > 1<<20 {
		return strconv.FormatInt(int64(i), 10)
	}
	for int(i) >= len(*n) {
		*n = append(*n, strconv.Itoa(len(*n)))
	}
	return (*n)[i]
}

const seriesChunk = 512

// seriesOut takes a collector's samples to a Text or a Collect channel.
type seriesOut struct {
	text   *metrics.Text // nil: to ch
	ch     chan<- prometheus.Metric
	labels *labelCache
	ms     []seriesMetric
	pairs  []*dto.LabelPair
}

// sample emits one sample of f, with its label values in f's label order.
func (o *seriesOut) sample(f *metrics.Family, v float64, values ...string) {
	if o.text != nil {
		o.text.Sample(f, v, values...)
		return
	}
	if len(o.ms) == cap(o.ms) {
		o.ms = make([]seriesMetric, 0, seriesChunk)
	}
	if len(o.pairs)+len(values) > cap(o.pairs) {
		o.pairs = make([]*dto.LabelPair, 0, 3*seriesChunk)
	}
	start := len(o.pairs)
	for _, i := range f.NameOrder() {
		o.pairs = append(o.pairs, o.labels.pair(f.Label(i), values[i]))
	}
	o.ms = append(o.ms, seriesMetric{f: f, labels: o.pairs[start:len(o.pairs):len(o.pairs)], value: v})
	o.ch <- &o.ms[len(o.ms)-1]
}
