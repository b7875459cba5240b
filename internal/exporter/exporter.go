package exporter

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/metrics"
)

// Config configures an Exporter.
type Config struct {
	// Client is the Kafka client the exporter asks; it is not closed by
	// the exporter.
	Client *kgo.Client
	Logger *slog.Logger
	// Timeout bounds one scrape's requests (default 10 s).
	Timeout time.Duration
	// MaxRecordFetches bounds the records fetched per scrape to learn the
	// timestamps of newly committed offsets (default 200; negative: none,
	// and no samsa_consumergroup_lag_seconds).
	MaxRecordFetches int
	// Now tells the time (default time.Now).
	Now func() time.Time
}

// Exporter is a prometheus.Collector that asks the cluster at each scrape.
type Exporter struct {
	cfg Config
	adm *kadm.Client
	lg  *slog.Logger

	mu    sync.Mutex // one scrape at a time; guards times
	times map[offsetKey]int64
}

// New returns an exporter over cfg.Client.
func New(cfg Config) *Exporter {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxRecordFetches == 0 {
		cfg.MaxRecordFetches = 200
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Exporter{cfg: cfg, adm: kadm.NewClient(cfg.Client), lg: cfg.Logger, times: map[offsetKey]int64{}}
}

var (
	descBrokers         = prometheus.NewDesc("kafka_brokers", "Number of Brokers in the Kafka Cluster.", nil, nil)
	descTopicPartitions = metrics.DescTopicPartitions
	descPartCurrent     = metrics.DescPartCurrent
	descPartOldest      = metrics.DescPartOldest
	descPartLeader      = metrics.DescPartLeader
	descPartReplicas    = metrics.DescPartReplicas
	descPartISR         = metrics.DescPartISR
	descPartPreferred   = metrics.DescPartPreferred
	descPartUnder       = metrics.DescPartUnder

	descGroupOffset    = metrics.DescGroupOffset
	descGroupOffsetSum = metrics.DescGroupOffsetSum
	descGroupLag       = metrics.DescGroupLag
	descGroupLagSum    = metrics.DescGroupLagSum
	descGroupMembers   = metrics.DescGroupMembers
	descGroupLagSec    = metrics.DescGroupLagSec

	descScrapeErrors = prometheus.NewDesc("samsa_exporter_scrape_errors", "Requests that failed during this scrape", []string{"request"}, nil)
)

// Describe implements prometheus.Collector.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descBrokers, descTopicPartitions, descPartCurrent, descPartOldest, descPartLeader, descPartReplicas,
		descPartISR, descPartPreferred, descPartUnder, descGroupOffset, descGroupOffsetSum, descGroupLag, descGroupLagSum, descGroupMembers,
		descGroupLagSec, descScrapeErrors} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: one round of requests to the
// cluster.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.Timeout)
	defer cancel()
	errs := map[string]int{}
	failed := func(req string, err error) {
		errs[req]++
		e.lg.Warn("exporter request failed", "request", req, "err", err)
	}
	defer func() {
		for req, n := range errs {
			ch <- prometheus.MustNewConstMetric(descScrapeErrors, prometheus.GaugeValue, float64(n), req)
		}
	}()

	meta, err := e.adm.Metadata(ctx)
	if err != nil {
		failed("Metadata", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(descBrokers, prometheus.GaugeValue, float64(len(meta.Brokers)))
	topics := meta.Topics.Names()
	ends, err := e.adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		failed("ListOffsets", err)
	}
	starts, err := e.adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		failed("ListOffsets", err)
	}
	e.collectPartitions(ch, meta, ends, starts)

	listed, err := e.adm.ListGroups(ctx)
	if err != nil {
		failed("ListGroups", err)
		return
	}
	groups := listed.Groups()
	if len(groups) == 0 {
		return
	}
	if described, err := e.adm.DescribeGroups(ctx, groups...); err != nil {
		failed("DescribeGroups", err)
	} else {
		for _, g := range described {
			if g.Err == nil {
				ch <- prometheus.MustNewConstMetric(descGroupMembers, prometheus.GaugeValue, float64(len(g.Members)), g.Group)
			}
		}
	}
	fetched := e.adm.FetchManyOffsets(ctx, groups...)
	e.collectGroups(ctx, ch, fetched, ends, starts, meta, failed)
}

func (e *Exporter) collectPartitions(ch chan<- prometheus.Metric, meta kadm.Metadata, ends, starts kadm.ListedOffsets) {
	for _, td := range meta.Topics {
		if td.Err != nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(descTopicPartitions, prometheus.GaugeValue, float64(len(td.Partitions)), td.Topic)
		for _, pd := range td.Partitions {
			part := strconv.FormatInt(int64(pd.Partition), 10)
			gauge := func(d *prometheus.Desc, v float64) {
				ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, td.Topic, part)
			}
			if o, ok := ends.Lookup(td.Topic, pd.Partition); ok && o.Err == nil {
				gauge(descPartCurrent, float64(o.Offset))
			}
			if o, ok := starts.Lookup(td.Topic, pd.Partition); ok && o.Err == nil {
				gauge(descPartOldest, float64(o.Offset))
			}
			gauge(descPartLeader, float64(pd.Leader))
			gauge(descPartReplicas, float64(len(pd.Replicas)))
			gauge(descPartISR, float64(len(pd.ISR)))
			gauge(descPartPreferred, boolGauge(len(pd.Replicas) > 0 && pd.Replicas[0] == pd.Leader))
			gauge(descPartUnder, boolGauge(len(pd.ISR) < len(pd.Replicas)))
		}
	}
}

func (e *Exporter) collectGroups(ctx context.Context, ch chan<- prometheus.Metric, fetched kadm.FetchOffsetsResponses, ends, starts kadm.ListedOffsets, meta kadm.Metadata, failed func(string, error)) {
	type groupTopic struct{ group, topic string }
	type sums struct {
		offset, lag int64
		hasLag      bool
	}
	totals := map[groupTopic]*sums{}
	var pending []pendingTime
	used := map[offsetKey]bool{}
	now := e.cfg.Now().UnixMilli()
	for group, resp := range fetched {
		if resp.Err != nil {
			failed("OffsetFetch", resp.Err)
			continue
		}
		resp.Fetched.Each(func(o kadm.OffsetResponse) {
			if o.Err != nil || o.At < 0 {
				return
			}
			part := strconv.FormatInt(int64(o.Partition), 10)
			ch <- prometheus.MustNewConstMetric(descGroupOffset, prometheus.GaugeValue, float64(o.At), group, o.Topic, part)
			s := totals[groupTopic{group, o.Topic}]
			if s == nil {
				s = &sums{}
				totals[groupTopic{group, o.Topic}] = s
			}
			s.offset += o.At
			end, ok := ends.Lookup(o.Topic, o.Partition)
			if !ok || end.Err != nil {
				return
			}
			lag := max(end.Offset-o.At, 0)
			s.lag += lag
			s.hasLag = true
			ch <- prometheus.MustNewConstMetric(descGroupLag, prometheus.GaugeValue, float64(lag), group, o.Topic, part)
			if e.cfg.MaxRecordFetches < 0 {
				return
			}
			if lag == 0 {
				ch <- prometheus.MustNewConstMetric(descGroupLagSec, prometheus.GaugeValue, 0, group, o.Topic, part)
				return
			}
			off := o.At
			if st, ok := starts.Lookup(o.Topic, o.Partition); ok && st.Err == nil {
				off = max(off, st.Offset) // records below the log start are gone
			}
			k := offsetKey{o.Topic, o.Partition, off}
			used[k] = true
			pending = append(pending, pendingTime{group: group, key: k})
		})
	}
	for k, s := range totals {
		ch <- prometheus.MustNewConstMetric(descGroupOffsetSum, prometheus.UntypedValue, float64(s.offset), k.group, k.topic)
		if s.hasLag {
			ch <- prometheus.MustNewConstMetric(descGroupLagSum, prometheus.UntypedValue, float64(s.lag), k.group, k.topic)
		}
	}
	if len(pending) == 0 {
		clear(e.times)
		return
	}
	e.learnTimes(ctx, pending, meta, failed)
	for _, p := range pending {
		if ts, ok := e.times[p.key]; ok {
			part := strconv.FormatInt(int64(p.key.partition), 10)
			ch <- prometheus.MustNewConstMetric(descGroupLagSec, prometheus.GaugeValue, float64(max(now-ts, 0))/1000, p.group, p.key.topic, part)
		}
	}
	for k := range e.times {
		if !used[k] {
			delete(e.times, k) // offsets no group is at any more
		}
	}
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
