package node

import (
	"github.com/samsa-streaming/samsa/internal/partition"
)

// What the per-partition and per-group metrics (metrics_partitions.go,
// metrics_lag.go) read of the node: narrow read-only views, which the
// node's partition manager and group coordinator answer (the adapters
// below), and which benchmarks answer from memory to measure a scrape of
// more partitions than the machine's file descriptors can open.

// metricsPartition is one hosted partition.
type metricsPartition interface {
	ID() (topic string, index int32)
	ReplicaStats() partition.ReplicaStats
	State() partition.LeaderState
	Offline() error
	LogSize() int64
	HighWatermark() int64
	LogStartOffset() int64
	// RecordTime is the timestamp at off from in-memory samples;
	// ReadRecordTime reads it from the log.
	RecordTime(off int64) (int64, bool)
	ReadRecordTime(off int64) (int64, error)
}

// metricsPartitions is the hosted partitions.
type metricsPartitions interface {
	Each(fn func(metricsPartition))
	Get(topic string, index int32) (metricsPartition, bool)
}

// metricsGroups is the groups this broker coordinates.
type metricsGroups interface {
	EachGroup(fn func(group string, members int))
	EachCommitted(fn func(group, topic string, partition int32, offset int64))
}

// hostedPartitions is the partition manager as metricsPartitions.
type hostedPartitions struct{ m *partition.Manager }

func (h hostedPartitions) Each(fn func(metricsPartition)) {
	for _, p := range h.m.All() {
		fn(hostedPartition{p})
	}
}

func (h hostedPartitions) Get(topic string, index int32) (metricsPartition, bool) {
	p, ok := h.m.Get(topic, index)
	if !ok {
		return nil, false
	}
	return hostedPartition{p}, true
}

// hostedPartition is a *partition.Partition as a metricsPartition (one
// pointer: no allocation as an interface value).
type hostedPartition struct{ *partition.Partition }

func (p hostedPartition) ID() (string, int32) { return p.Topic, p.Index }

func (p hostedPartition) LogSize() int64 { return p.Log().Size() }
