package coordinator

import (
	"context"
	"errors"
	"time"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
)

// Record is one record a coordinator writes to its internal topic. A nil
// Value is a tombstone.
type Record struct {
	Key, Value []byte
}

// Replayed is one record of an internal topic partition read back by a
// load, or one transaction marker.
type Replayed struct {
	Offset     int64 // the record's (or marker's) offset in the log
	Key, Value []byte
	// ProducerID is the transactional producer that wrote the record or
	// marker, or -1 for a record of a non-transactional batch.
	ProducerID    int64
	ProducerEpoch int16
	// Marker says this is a COMMIT (Commit true) or ABORT transaction
	// marker of ProducerID; Key and Value are then nil.
	Marker bool
	Commit bool
}

// ReadFunc reads one partition from its log start to its log end (as the
// end was when the read began), calling fn for every record and every
// transaction marker in order. Keys and values are copies: fn may keep
// them. An error from fn stops the read and is returned.
type ReadFunc func(ctx context.Context, fn func(Replayed) error) error

// Shards is a coordinator as the runtime drives it: one state machine per
// partition of its internal topic that this broker leads.
// group.Coordinator and txn.Coordinator implement it.
type Shards interface {
	// SetPartitionCount tells how many partitions the internal topic
	// has; 0 while it does not exist.
	SetPartitionCount(n int32)
	// BeginLoad makes partition p, led at leader epoch epoch, a loading
	// shard (its keys answer COORDINATOR_LOAD_IN_PROGRESS), replacing
	// and shutting down any shard p had, and returns the function that
	// loads it: it replays what read gives into the shard and makes the
	// shard active. The runtime calls load again after an error, until
	// it succeeds or the load is cancelled; load returns nil, doing
	// nothing, once the shard was unloaded or replaced.
	BeginLoad(p, epoch int32) (load func(ctx context.Context, read ReadFunc) error)
	// Unload drops partition p's shard; its keys answer NOT_COORDINATOR.
	Unload(p int32)
}

// Images is the source of the current metadata image
// (*controller.Controller).
type Images interface {
	Image() *metadata.Image
}

// Partitions finds this broker's replicas of internal topic partitions
// (ManagerPartitions adapts a *partition.Manager).
type Partitions interface {
	Partition(topic string, p int32) (Replica, bool)
}

// Replica is one local replica of a partition: what the writer and the
// loader use of a *partition.Partition.
type Replica interface {
	Append(records []byte, acks int16) (partition.AppendResult, error)
	WaitCommitted(ctx context.Context, offset int64, epoch int32) error
	Producers() []partition.ProducerInfo
	LogEndOffset() int64
	ScanBatches(from int64, fn func(h batch.Header, b []byte) error) error
}

// ManagerPartitions is Partitions over a partition manager.
func ManagerPartitions(m *partition.Manager) Partitions { return managerPartitions{m} }

type managerPartitions struct{ m *partition.Manager }

func (mp managerPartitions) Partition(topic string, p int32) (Replica, bool) {
	part, ok := mp.m.Get(topic, p)
	if !ok {
		return nil, false
	}
	return partitionReplica{part}, true
}

// partitionReplica adds the log scan to a *partition.Partition.
type partitionReplica struct{ *partition.Partition }

func (r partitionReplica) ScanBatches(from int64, fn func(h batch.Header, b []byte) error) error {
	return r.Log().ScanBatches(from, fn)
}

// Clock tells the time (batch timestamps) and runs the loader's backoff
// timers. Tests drive a fake one by hand.
type Clock interface {
	Now() time.Time
	// AfterFunc runs f once, on some goroutine, after d. The returned
	// stop cancels it and reports whether it did so before f started.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// WallClock is the real clock.
type WallClock struct{}

// Now returns time.Now().
func (WallClock) Now() time.Time { return time.Now() }

// AfterFunc wraps time.AfterFunc.
func (WallClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// ErrNotLeader is what the writer and the loader return when this broker
// does not lead (or does not host) the partition; the coordinators answer
// NOT_COORDINATOR.
var ErrNotLeader = errors.New("coordinator: this broker does not lead the internal topic partition")

// ErrProducerFenced is what Writer.AppendTxn returns for a producer epoch
// older than the one the partition knows; TxnOffsetCommit answers
// INVALID_PRODUCER_EPOCH.
var ErrProducerFenced = errors.New("coordinator: transactional producer epoch is fenced")
