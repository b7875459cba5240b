package node

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/samsa-streaming/samsa/internal/group"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/metrics"
	"github.com/samsa-streaming/samsa/internal/partition"
)

// Consumer lag and partition offsets under kafka_exporter's names
// (github.com/danielqsj/kafka_exporter), computed by the broker from its
// own memory at scrape time, plus samsa_consumergroup_lag_seconds:
//
//   - kafka_consumergroup_current_offset{consumergroup,topic,partition},
//     kafka_consumergroup_lag{…} and their per-topic _sum{consumergroup,topic},
//     kafka_consumergroup_members{consumergroup}:
//     reported by the broker whose group coordinator leads the group's
//     __consumer_offsets partition (group.Coordinator.EachCommitted), so a
//     cluster reports each group once. Lag is the partition's high
//     watermark (kafka_exporter's "newest offset") minus the committed
//     offset, never below 0, for the partitions this broker hosts (as
//     leader, or as a follower, whose high watermark trails the leader's by
//     at most a fetch); for partitions hosted only elsewhere, as their
//     leaders answer at scrape time (metrics_lag_remote.go).
//   - samsa_consumergroup_lag_seconds{…}: the age of the oldest unconsumed
//     record, now minus the timestamp of the record at the committed offset
//     (the log start when that was deleted), from the partition's in-memory
//     time samples (partition.RecordTime: no log read; an offset appended
//     before the partition was opened is read from the log once and kept
//     while a group stays there, at most 200 reads a scrape), or for partitions
//     hosted elsewhere one fetch from the leader per newly committed offset,
//     kept; 0 when caught up.
//   - kafka_topic_partition_{current_offset,oldest_offset,leader,replicas,
//     in_sync_replica,leader_is_preferred,under_replicated_partition}
//     {topic,partition}: reported by the partition's leader only;
//     kafka_topic_partitions{topic} by the leader of the topic's partition 0,
//     so that sums over brokers count each partition and topic once.
//
// A scrape costs one pass over the committed offsets of the groups this
// broker coordinates and one over its hosted partitions, plus, when groups
// committed on partitions hosted elsewhere, a ListOffsets pair per leader.

var (
	descGroupOffset    = metrics.DescGroupOffset
	descGroupOffsetSum = metrics.DescGroupOffsetSum
	descGroupLag       = metrics.DescGroupLag
	descGroupLagSum    = metrics.DescGroupLagSum
	descGroupMembers   = metrics.DescGroupMembers
	descGroupLagSec    = metrics.DescGroupLagSec

	descTopicPartitions = metrics.DescTopicPartitions
	descPartCurrent     = metrics.DescPartCurrent
	descPartOldest      = metrics.DescPartOldest
	descPartLeader      = metrics.DescPartLeader
	descPartReplicas    = metrics.DescPartReplicas
	descPartISR         = metrics.DescPartISR
	descPartPreferred   = metrics.DescPartPreferred
	descPartUnder       = metrics.DescPartUnder
)

// lagCollector is the prometheus.Collector of the metrics above.
type lagCollector struct {
	self   int32
	groups *group.Coordinator
	parts  *partition.Manager
	image  func() *metadata.Image
	now    func() time.Time
	remote *remoteLag // partitions hosted elsewhere (metrics_lag_remote.go); nil: not reported

	mu       sync.Mutex         // one scrape at a time; guards the fields below
	labels   labelCache         // metrics_lag_series.go
	logTimes map[tpOffset]int64 // timestamps read from hosted logs (older than their samples)
	logUsed  map[tpOffset]bool  // logTimes keys this scrape used
	logReads int                // log reads left this scrape
}

func (c *lagCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descGroupOffset, descGroupOffsetSum, descGroupLag, descGroupLagSum, descGroupLagSec, descGroupMembers,
		descTopicPartitions, descPartCurrent, descPartOldest, descPartLeader, descPartReplicas, descPartISR, descPartPreferred, descPartUnder} {
		ch <- d
	}
}

type committedOffset struct {
	group, topic string
	partition    int32
	offset       int64
}

type groupTopic struct{ group, topic string }

type lagSums struct {
	offset, lag int64
	hasLag      bool
}

func (c *lagCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.labels.rotate()
	out := &seriesOut{ch: ch, labels: &c.labels}
	c.collectGroups(out)
	c.collectPartitions(out)
}

// maxLogTimeReads bounds the log reads of one scrape (the rest wait).
const maxLogTimeReads = 200

// hostedTime is the timestamp at off of a hosted partition: from its time
// samples, else (off was appended before the partition was opened) read
// from its log once and kept while a group stays at that offset.
func (c *lagCollector) hostedTime(p *partition.Partition, off int64) (int64, bool) {
	if ts, ok := p.RecordTime(off); ok {
		return ts, true
	}
	k := tpOffset{tpKey{p.Topic, p.Index}, off}
	c.logUsed[k] = true
	if ts, ok := c.logTimes[k]; ok {
		return ts, true
	}
	if c.logReads <= 0 {
		return 0, false
	}
	c.logReads--
	ts, err := p.ReadRecordTime(off)
	if err != nil {
		return 0, false
	}
	c.logTimes[k] = ts
	return ts, true
}

func (c *lagCollector) collectGroups(out *seriesOut) {
	if c.groups == nil {
		return
	}
	type groupMembers struct {
		group   string
		members int
	}
	var gms []groupMembers // sent after the walk: no send under a shard lock
	c.groups.EachGroup(func(g string, members int) { gms = append(gms, groupMembers{g, members}) })
	for _, gm := range gms {
		out.gauge(descGroupMembers, float64(gm.members), out.labels.pair("consumergroup", gm.group))
	}
	// Copied out first: no shard lock is held while the partitions are read.
	var offs []committedOffset
	c.groups.EachCommitted(func(g, t string, p int32, off int64) {
		offs = append(offs, committedOffset{g, t, p, off})
	})
	if c.remote != nil {
		need := map[tpKey][]int64{}
		for _, o := range offs {
			if _, ok := c.parts.Get(o.topic, o.partition); !ok {
				k := tpKey{o.topic, o.partition}
				need[k] = append(need[k], o.offset)
			}
		}
		if len(need) > 0 {
			c.remote.refresh(need)
		}
	}
	if c.logTimes == nil {
		c.logTimes = map[tpOffset]int64{}
	}
	c.logUsed, c.logReads = map[tpOffset]bool{}, maxLogTimeReads
	defer func() {
		for k := range c.logTimes {
			if !c.logUsed[k] {
				delete(c.logTimes, k)
			}
		}
	}()
	now := c.now().UnixMilli()
	sums := make(map[groupTopic]*lagSums)
	for _, o := range offs {
		g, tp, part := out.labels.pair("consumergroup", o.group), out.labels.pair("topic", o.topic), out.labels.partition(o.partition)
		out.gauge(descGroupOffset, float64(o.offset), g, part, tp)
		s := sums[groupTopic{o.group, o.topic}]
		if s == nil {
			s = &lagSums{}
			sums[groupTopic{o.group, o.topic}] = s
		}
		s.offset += o.offset
		hw, start, timeAt, ok := c.partitionOffsets(o.topic, o.partition)
		if !ok {
			continue
		}
		lag := max(hw-o.offset, 0)
		s.lag += lag
		s.hasLag = true
		out.gauge(descGroupLag, float64(lag), g, part, tp)
		if lag == 0 {
			out.gauge(descGroupLagSec, 0, g, part, tp)
			continue
		}
		if ts, ok := timeAt(max(o.offset, start)); ok {
			out.gauge(descGroupLagSec, float64(max(now-ts, 0))/1000, g, part, tp)
		}
	}
	for k, s := range sums {
		g, tp := out.labels.pair("consumergroup", k.group), out.labels.pair("topic", k.topic)
		out.gauge(descGroupOffsetSum, float64(s.offset), g, tp)
		if s.hasLag {
			out.gauge(descGroupLagSum, float64(s.lag), g, tp)
		}
	}
}

// partitionOffsets is a partition's high watermark, log start and record
// timestamps: from the hosted replica, else as its leader last answered.
func (c *lagCollector) partitionOffsets(topic string, part int32) (hw, start int64, timeAt func(int64) (int64, bool), ok bool) {
	if p, ok := c.parts.Get(topic, part); ok {
		if p.Offline() != nil {
			return 0, 0, nil, false
		}
		return p.HighWatermark(), p.LogStartOffset(), func(off int64) (int64, bool) { return c.hostedTime(p, off) }, true
	}
	if c.remote == nil {
		return 0, 0, nil, false
	}
	k := tpKey{topic, part}
	o, ok := c.remote.lookup(k)
	if !ok {
		return 0, 0, nil, false
	}
	return o.HighWatermark, o.LogStart, func(off int64) (int64, bool) { return c.remote.recordTime(k, off) }, true
}

func (c *lagCollector) collectPartitions(out *seriesOut) {
	for _, p := range c.parts.All() {
		if p.Offline() != nil {
			continue
		}
		st := p.State()
		if st.Leader != c.self {
			continue
		}
		part, tp := out.labels.partition(p.Index), out.labels.pair("topic", p.Topic)
		gauge := func(d *prometheus.Desc, v float64) { out.gauge(d, v, part, tp) }
		gauge(descPartCurrent, float64(p.HighWatermark()))
		gauge(descPartOldest, float64(p.LogStartOffset()))
		gauge(descPartLeader, float64(st.Leader))
		gauge(descPartReplicas, float64(len(st.Replicas)))
		gauge(descPartISR, float64(len(st.ISR)))
		gauge(descPartPreferred, boolGauge(len(st.Replicas) > 0 && st.Replicas[0] == st.Leader))
		gauge(descPartUnder, boolGauge(len(st.ISR) < len(st.Replicas)))
	}
	img := c.image()
	if img == nil {
		return
	}
	for name, t := range img.Topics {
		if len(t.Partitions) == 0 {
			continue
		}
		// the leader of partition 0 speaks for the topic
		if p0, ok := c.parts.Get(name, 0); ok && p0.State().Leader == c.self {
			out.gauge(descTopicPartitions, float64(len(t.Partitions)), out.labels.pair("topic", name))
		}
	}
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// registerLagMetrics adds the lag collector to the node's registry.
func (n *Node) registerLagMetrics() error {
	if n.admin == nil || n.admin.metrics == nil {
		return nil
	}
	peers := n.broker.NewPeerOffsets()
	n.stack.push("lag metrics connections", false, func() error { peers.Close(); return nil })
	n.lagCollector = &lagCollector{
		self: n.cfg.NodeID, groups: n.groups, parts: n.parts, image: n.ctl.Image, now: time.Now,
		remote: newRemoteLag(peers, n.ctl.Image, n.cfg.NodeID),
	}
	return n.admin.metrics.Register(n.lagCollector)
}
