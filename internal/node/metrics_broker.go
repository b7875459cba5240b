package node

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/samsa-streaming/samsa/internal/fs"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/metrics"
)

// The broker-side metrics (internal/metrics/doc.go has the names and the
// decisions behind them); the per-partition ones are metrics_partitions.go. The request path records into a metrics.Broker
// (atomic counters, no locks); everything else is read at scrape time from
// in-memory state: the partition manager, the controller's image and raft
// state, the broker's connections, /proc/self/io. The broker records only
// when the admin listener is on (with nobody to scrape, nothing is paid).

// metricsOn says whether the broker records request metrics.
func (n *Node) metricsOn() bool {
	on := func(addr string) bool { return addr != "" && addr != "none" }
	return on(n.cfg.AdminListen) || on(n.cfg.MetricsListen)
}

// registerMetrics registers the broker and controller collectors on the
// admin registry, once the node's parts exist.
func (n *Node) registerMetrics(context.Context) error {
	if err := n.admin.metrics.Register(newBrokerCollector(n, time.Now())); err != nil {
		return fmt.Errorf("broker metrics: %w", err)
	}
	if n.broker == nil || n.parts == nil {
		return nil
	}
	if err := n.admin.metrics.RegisterBulk(newPartitionCollector(hostedPartitions{n.parts})); err != nil {
		return fmt.Errorf("partition metrics: %w", err)
	}
	return nil
}

// requestQuantiles are the percentiles Kafka's histograms export, with
// the quantile label jmx_exporter gives them ("0.$N" of NthPercentile).
var requestQuantiles = []struct {
	q     float64
	label string
}{{0.50, "0.50"}, {0.75, "0.75"}, {0.95, "0.95"}, {0.98, "0.98"}, {0.99, "0.99"}, {0.999, "0.999"}}

// latencyBounds are the samsa_*_seconds histogram bounds: 64 µs to 16.8 s.
var latencyBounds = metrics.PowerOfTwoBounds(6, 24)

type brokerCollector struct {
	n     *Node
	procs int

	mu       sync.Mutex
	windows  map[string]*metrics.Window // request name → its quantile window
	handler  *metrics.IdleWindow
	network  *metrics.IdleWindow
	appendR  metrics.Rate
	fetchR   metrics.Rate
	commitN  metrics.Rate
	commitNs metrics.Rate

	d map[string]*prometheus.Desc
}

func newBrokerCollector(n *Node, now time.Time) *brokerCollector {
	procs := runtime.GOMAXPROCS(0)
	c := &brokerCollector{
		n: n, procs: procs, windows: map[string]*metrics.Window{},
		handler: metrics.NewIdleWindow(procs, now), network: metrics.NewIdleWindow(procs, now),
		d: map[string]*prometheus.Desc{},
	}
	for _, m := range brokerMetricDescs {
		c.d[m.key] = prometheus.NewDesc(m.name, m.help, m.labels, nil)
	}
	return c
}

// Describe sends nothing: the collector is unchecked, because the
// BrokerTopicMetrics families carry the broker total without the topic
// label beside the per-topic series, as jmx_exporter exposes them.
func (c *brokerCollector) Describe(chan<- *prometheus.Desc) {}

func (c *brokerCollector) Collect(ch chan<- prometheus.Metric) {
	now := time.Now()
	n := c.n
	if n.broker != nil {
		c.collectTraffic(ch)
		c.collectRequests(ch, now)
		conns := n.broker.ConnectionCounts()
		for _, l := range n.listeners {
			if _, ok := conns[l.cfg.Name]; !ok {
				conns[l.cfg.Name] = 0
			}
		}
		for l, cnt := range conns {
			c.untyped(ch, "connections", float64(cnt), l)
		}
	}
	if n.fsync != nil {
		c.histogram(ch, "fsync", n.fsync)
	}
	c.collectController(ch, now)
	if rd, wr, ok := procIO(); ok {
		c.gauge(ch, "diskread", float64(rd))
		c.gauge(ch, "diskwrite", float64(wr))
	}
}

func (c *brokerCollector) gauge(ch chan<- prometheus.Metric, key string, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(c.d[key], prometheus.GaugeValue, v, labels...)
}

// untyped is for the families whose jmx_exporter names promtool's lint
// refuses for typed metrics (metrics/doc.go): a quantile label outside a
// summary, a _count suffix outside a histogram or summary.
func (c *brokerCollector) untyped(ch chan<- prometheus.Metric, key string, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(c.d[key], prometheus.UntypedValue, v, labels...)
}

func (c *brokerCollector) counter(ch chan<- prometheus.Metric, key string, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(c.d[key], prometheus.CounterValue, v, labels...)
}

func (c *brokerCollector) histogram(ch chan<- prometheus.Metric, key string, l *metrics.Latency) {
	count, sum, cum := l.Buckets(latencyBounds)
	ch <- prometheus.MustNewConstHistogram(c.d[key], count, sum, cum)
}

// collectTraffic reports BrokerTopicMetrics per topic and in total, and
// forgets the counters of deleted topics.
func (c *brokerCollector) collectTraffic(ch chan<- prometheus.Metric) {
	bm := c.n.brokerMetrics
	if bm == nil {
		return
	}
	img := c.n.ctl.Image()
	bm.Topics.Forget(func(t string) bool { _, ok := img.Topics[t]; return ok })
	emit := func(s *metrics.TopicStats, suffix string, labels ...string) {
		c.counter(ch, "bytesin"+suffix, float64(s.BytesIn.Load()), labels...)
		c.counter(ch, "bytesout"+suffix, float64(s.BytesOut.Load()), labels...)
		c.counter(ch, "messagesin"+suffix, float64(s.MessagesIn.Load()), labels...)
		c.counter(ch, "totalproducerequests"+suffix, float64(s.ProduceRequests.Load()), labels...)
		c.counter(ch, "totalfetchrequests"+suffix, float64(s.FetchRequests.Load()), labels...)
		c.counter(ch, "failedproducerequests"+suffix, float64(s.FailedProduceRequests.Load()), labels...)
		c.counter(ch, "failedfetchrequests"+suffix, float64(s.FailedFetchRequests.Load()), labels...)
	}
	emit(bm.Topics.Total(), "")
	bm.Topics.Each(func(t string, s *metrics.TopicStats) { emit(s, "/topic", t) })
}

// collectRequests reports request times by API (percentiles over the
// last one to two minutes, and the count), Samsa's produce and fetch
// latency histograms and the idle gauges.
func (c *brokerCollector) collectRequests(ch chan<- prometheus.Metric, now time.Time) {
	bm := c.n.brokerMetrics
	if bm == nil {
		return
	}
	qs := make([]float64, len(requestQuantiles))
	for i, q := range requestQuantiles {
		qs[i] = q.q
	}
	bm.Requests.Each(func(name string, l *metrics.Latency) {
		c.mu.Lock()
		w := c.windows[name]
		if w == nil {
			w = &metrics.Window{}
			c.windows[name] = w
		}
		c.mu.Unlock()
		vals := w.Quantiles(l, now, qs)
		for i, q := range requestQuantiles {
			c.untyped(ch, "totaltimems", vals[i], name, q.label)
		}
		count, _, _ := l.Buckets(nil)
		c.untyped(ch, "totaltimemscount", float64(count), name)
		switch name {
		case "Produce":
			c.histogram(ch, "produce", l)
		case "FetchConsumer":
			c.histogram(ch, "fetch", l)
		}
	})
	c.gauge(ch, "handleridle", c.handler.Idle(now, bm.Handler.Nanos()))
	c.gauge(ch, "networkidle", c.network.Idle(now, bm.Network.Nanos()))
}

// collectController reports the controller's and raft's state. The
// KafkaController gauges other than ActiveControllerCount are, as in
// Kafka, reported by the active controller only (0 elsewhere), so that
// sum() over a cluster counts each once.
func (c *brokerCollector) collectController(ch chan<- prometheus.Metric, now time.Time) {
	ctl := c.n.ctl
	if ctl == nil {
		return
	}
	active := ctl.IsLeader() && !ctl.IsLearner()
	var offline, topics, partitions float64
	if active {
		img := ctl.Image()
		for _, t := range img.Topics {
			topics++
			for _, p := range t.Partitions {
				partitions++
				if p.Leader == metadata.NoLeader {
					offline++
				}
			}
		}
	}
	c.gauge(ch, "activecontroller", b2f(active))
	c.gauge(ch, "offlinepartitions", offline)
	c.gauge(ch, "globaltopics", topics)
	c.gauge(ch, "globalpartitions", partitions)
	rm := ctl.RaftMetrics()
	c.counter(ch, "unclean", float64(rm.UncleanElections))
	c.gauge(ch, "raftleader", float64(rm.LeaderID))
	c.gauge(ch, "raftepoch", float64(rm.Epoch))
	c.gauge(ch, "raftvote", float64(rm.Vote))
	c.gauge(ch, "rafthw", float64(rm.HighWatermark))
	c.gauge(ch, "raftleo", float64(rm.LogEnd))
	c.gauge(ch, "raftappend", c.appendR.Per(now, rm.Appended))
	c.gauge(ch, "raftfetch", c.fetchR.Per(now, rm.Fetched))
	commits := c.commitN.Per(now, rm.Commits)
	avg := 0.0
	if commits > 0 {
		avg = c.commitNs.Per(now, uint64(rm.CommitTime)) / commits / 1e6
	} else {
		c.commitNs.Per(now, uint64(rm.CommitTime))
	}
	c.gauge(ch, "raftcommit", avg)
	var cm struct{ in, out, req, resp uint64 }
	if c.n.tr != nil {
		m := c.n.tr.ChannelMetrics()
		cm.in, cm.out, cm.req, cm.resp = m.IncomingBytes, m.OutgoingBytes, m.Requests, m.Responses
	}
	c.counter(ch, "chanin", float64(cm.in))
	c.counter(ch, "chanout", float64(cm.out))
	c.counter(ch, "chanreq", float64(cm.req))
	c.counter(ch, "chanresp", float64(cm.resp))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// procIO reads the process's storage I/O from /proc/self/io (Kafka's
// linux-disk-read-bytes and linux-disk-write-bytes); ok is false where
// the file does not exist.
func procIO() (read, write uint64, ok bool) {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, found := bytes.Cut(sc.Bytes(), []byte(": "))
		if !found {
			continue
		}
		x, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 10, 64)
		if err != nil {
			continue
		}
		switch string(k) {
		case "read_bytes":
			read = x
		case "write_bytes":
			write = x
		}
	}
	return read, write, true
}

// timedFS times the fsyncs of the partition logs (samsa_fsync_latency_seconds).
type timedFS struct {
	fs.FS
	lat *metrics.Latency
}

func (t timedFS) OpenFile(name string, flag int, perm os.FileMode) (fs.File, error) {
	f, err := t.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return timedFile{File: f, lat: t.lat}, nil
}

func (t timedFS) SyncDir(dir string) error {
	began := time.Now()
	err := t.FS.SyncDir(dir)
	t.lat.Observe(time.Since(began))
	return err
}

type timedFile struct {
	fs.File
	lat *metrics.Latency
}

func (f timedFile) Sync() error {
	began := time.Now()
	err := f.File.Sync()
	f.lat.Observe(time.Since(began))
	return err
}
