package broker

import (
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/metrics"
)

// Request metrics (Config.Metrics; nil turns them off). Per request: its
// total time from the arrival of its size to its response written
// (Kafka's TotalTimeMs), by API; the handler's busy time (its run less the
// waits of long polls and acks=all, less a fetch's own write) and the
// connection's network time (reading the body, writing the response) for
// the idle gauges. Traffic by topic is counted in the Produce and Fetch
// handlers, for topics the image knows only, so that the counters follow
// the cluster's topics (TopicCounters.Forget) and a client naming random
// topics cannot grow them.

// recordMetrics records one handled request; start is when its handler
// began and handled when it returned.
func (c *conn) recordMetrics(r *request, start, handled time.Time) {
	m := c.b.metrics
	if m == nil {
		return
	}
	done := time.Now()
	follower := false
	if f, ok := r.req.(*kmsg.FetchRequest); ok {
		follower = replicaOf(f) >= 0
	}
	began := c.reqStart
	if began.IsZero() || began.After(start) {
		began = start
	}
	m.Requests.Observe(r.hdr.Key, follower, done.Sub(began))
	m.Handler.Add(handled.Sub(start) - c.waited - c.wrote)
	m.Network.Add(start.Sub(began) + done.Sub(handled) + c.wrote)
}

// topicStats is topic's counters, nil when metrics are off.
func (b *Broker) topicStats(topic string) *metrics.TopicStats {
	return b.metrics.TopicsOrNil().Topic(topic)
}

// countProduce counts one partition of a produce to a known topic: a
// failure unless it appended (NOT_LEADER_OR_FOLLOWER and
// UNKNOWN_TOPIC_OR_PARTITION are not failures of this broker, as in
// Kafka's ReplicaManager).
func (b *Broker) countProduce(topic string, bytes int, records int64, err error) {
	if b.metrics == nil {
		return
	}
	if err != nil && (errors.Is(err, kerr.NotLeaderForPartition) || errors.Is(err, kerr.UnknownTopicOrPartition)) {
		return
	}
	b.metrics.Topics.Produce(b.topicStats(topic), uint64(bytes), uint64(max(records, 0)), err != nil)
}

// countFetch counts the partitions of a consumer fetch answered from a
// known topic: the bytes read, or a failure for a storage error (Kafka
// counts neither leadership nor offset errors as failed fetches).
func (b *Broker) countFetch(got []*fetchGot) {
	if b.metrics == nil {
		return
	}
	for _, g := range got {
		if g.part == nil && g.resp.ErrorCode != kerr.KafkaStorageError.Code || g.want.unknownID {
			continue
		}
		b.metrics.Topics.Fetch(b.topicStats(g.want.key.topic), uint64(g.size), g.resp.ErrorCode == kerr.KafkaStorageError.Code)
	}
}

// ConnectionCounts is the number of open client connections by listener
// name (kafka_server_socket_server_metrics_connection_count).
func (b *Broker) ConnectionCounts() map[string]int {
	b.connMu.Lock()
	defer b.connMu.Unlock()
	out := make(map[string]int, 2)
	for c := range b.conns {
		out[c.l.Name]++
	}
	return out
}
