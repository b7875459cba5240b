package node

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/metrics"
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

// lagCollector is the prometheus.Collector of the metrics above, and a
// metrics.Bulk: /metrics in the text format has it write them directly
// (metrics_lag_series.go).
type lagCollector struct {
	self   int32
	groups metricsGroups // nil: none coordinated here
	parts  metricsPartitions
	image  func() *metadata.Image
	now    func() time.Time
	remote *remoteLag // partitions hosted elsewhere (metrics_lag_remote.go); nil: not reported

	mu       sync.Mutex // one scrape at a time; guards the fields below
	labels   labelCache // metrics_lag_series.go
	names    partitionNames
	logTimes map[tpOffset]int64 // timestamps read from hosted logs (older than their samples)
	logUsed  map[tpOffset]bool  // logTimes keys this scrape used
	logReads int                // log reads left this scrape
	offs     []committedOffset  // reused between scrapes, as are the two below
	sums     []lagSums
	sumIndex map[groupTopic]int // into sums
}

// lagFamilies are the lag collector's families.
func lagFamilies() []*metrics.Family {
	return []*metrics.Family{metrics.FamGroupOffset, metrics.FamGroupOffsetSum, metrics.FamGroupLag, metrics.FamGroupLagSum,
		metrics.FamGroupLagSec, metrics.FamGroupMembers, metrics.FamTopicPartitions, metrics.FamPartCurrent, metrics.FamPartOldest,
		metrics.FamPartLeader, metrics.FamPartReplicas, metrics.FamPartISR, metrics.FamPartPreferred, metrics.FamPartUnder}
}

func (c *lagCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range lagFamilies() {
		ch <- f.Desc
	}
}

type committedOffset struct {
	group, topic string
	partition    int32
	offset       int64
}

type groupTopic struct{ group, topic string }

type lagSums struct {
	groupTopic
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

// WriteText writes the families into t (metrics.Bulk).
func (c *lagCollector) WriteText(t *metrics.Text) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := &seriesOut{text: t}
	c.collectGroups(out)
	c.collectPartitions(out)
}

// maxLogTimeReads bounds the log reads of one scrape (the rest wait).
const maxLogTimeReads = 200

// hostedTime is the timestamp at off of a hosted partition: from its time
// samples, else (off was appended before the partition was opened) read
// from its log once and kept while a group stays at that offset.
func (c *lagCollector) hostedTime(p metricsPartition, off int64) (int64, bool) {
	if ts, ok := p.RecordTime(off); ok {
		return ts, true
	}
	topic, index := p.ID()
	k := tpOffset{tpKey{topic, index}, off}
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
		out.sample(metrics.FamGroupMembers, float64(gm.members), gm.group)
	}
	// Copied out first: no shard lock is held while the partitions are read.
	offs := c.offs[:0]
	c.groups.EachCommitted(func(g, t string, p int32, off int64) {
		offs = append(offs, committedOffset{g, t, p, off})
	})
	defer func() { clear(offs); c.offs = offs[:0] }()
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
	c.collectLag(out, offs)
}

// collectLag reports the committed offsets, the lag and its time, and
// their per-topic sums (in the order the group-topics first appear).
func (c *lagCollector) collectLag(out *seriesOut, offs []committedOffset) {
	if c.logTimes == nil {
		c.logTimes, c.logUsed, c.sumIndex = map[tpOffset]int64{}, map[tpOffset]bool{}, map[groupTopic]int{}
	}
	clear(c.logUsed)
	c.logReads = maxLogTimeReads
	defer func() {
		for k := range c.logTimes {
			if !c.logUsed[k] {
				delete(c.logTimes, k)
			}
		}
	}()
	now := c.now().UnixMilli()
	clear(c.sumIndex)
	sums := c.sums[:0]
	for _, o := range offs {
		g, tp, part := o.group, o.topic, c.names.name(o.partition)
		out.sample(metrics.FamGroupOffset, float64(o.offset), g, tp, part)
		i, ok := c.sumIndex[groupTopic{g, tp}]
		if !ok {
			i = len(sums)
			c.sumIndex[groupTopic{g, tp}] = i
			sums = append(sums, lagSums{groupTopic: groupTopic{g, tp}})
		}
		s := &sums[i]
		s.offset += o.offset
		hw, start, hosted, ok := c.partitionOffsets(o.topic, o.partition)
		if !ok {
			continue
		}
		lag := max(hw-o.offset, 0)
		s.lag += lag
		s.hasLag = true
		out.sample(metrics.FamGroupLag, float64(lag), g, tp, part)
		if lag == 0 {
			out.sample(metrics.FamGroupLagSec, 0, g, tp, part)
			continue
		}
		if ts, ok := c.timeAt(hosted, tpKey{tp, o.partition}, max(o.offset, start)); ok {
			out.sample(metrics.FamGroupLagSec, float64(max(now-ts, 0))/1000, g, tp, part)
		}
	}
	for _, s := range sums {
		out.sample(metrics.FamGroupOffsetSum, float64(s.offset), s.group, s.topic)
		if s.hasLag {
			out.sample(metrics.FamGroupLagSum, float64(s.lag), s.group, s.topic)
		}
	}
	clear(sums)
	c.sums = sums[:0]
}

// partitionOffsets is a partition's high watermark and log start: from
// the hosted replica (hosted), else (hosted nil) as its leader last
// answered.
func (c *lagCollector) partitionOffsets(topic string, part int32) (hw, start int64, hosted metricsPartition, ok bool) {
	if p, ok := c.parts.Get(topic, part); ok {
		if p.Offline() != nil {
			return 0, 0, nil, false
		}
		return p.HighWatermark(), p.LogStartOffset(), p, true
	}
	if c.remote == nil {
		return 0, 0, nil, false
	}
	o, ok := c.remote.lookup(tpKey{topic, part})
	if !ok {
		return 0, 0, nil, false
	}
	return o.HighWatermark, o.LogStart, nil, true
}

// timeAt is the timestamp at off of the partition k: hosted's, else as
// fetched from its leader.
func (c *lagCollector) timeAt(hosted metricsPartition, k tpKey, off int64) (int64, bool) {
	if hosted != nil {
		return c.hostedTime(hosted, off)
	}
	return c.remote.recordTime(k, off)
}

func (c *lagCollector) collectPartitions(out *seriesOut) {
	c.parts.Each(func(p metricsPartition) {
		if p.Offline() != nil {
			return
		}
		st := p.State()
		if st.Leader != c.self {
			return
		}
		topic, index := p.ID()
		part := c.names.name(index)
		out.sample(metrics.FamPartCurrent, float64(p.HighWatermark()), topic, part)
		out.sample(metrics.FamPartOldest, float64(p.LogStartOffset()), topic, part)
		out.sample(metrics.FamPartLeader, float64(st.Leader), topic, part)
		out.sample(metrics.FamPartReplicas, float64(len(st.Replicas)), topic, part)
		out.sample(metrics.FamPartISR, float64(len(st.ISR)), topic, part)
		out.sample(metrics.FamPartPreferred, boolGauge(len(st.Replicas) > 0 && st.Replicas[0] == st.Leader), topic, part)
		out.sample(metrics.FamPartUnder, boolGauge(len(st.ISR) < len(st.Replicas)), topic, part)
	})
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
			out.sample(metrics.FamTopicPartitions, float64(len(t.Partitions)), name)
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
		self: n.cfg.NodeID, parts: hostedPartitions{n.parts}, image: n.ctl.Image, now: time.Now,
		remote: newRemoteLag(peers, n.ctl.Image, n.cfg.NodeID),
	}
	if n.groups != nil {
		n.lagCollector.groups = n.groups
	}
	if err := n.admin.metrics.RegisterBulk(n.lagCollector); err != nil {
		return fmt.Errorf("lag metrics: %w", err)
	}
	return nil
}
