package txn

import (
	"context"
	"errors"

	"github.com/samsa-streaming/samsa/internal/coordinator"
)

// Clock tells the time and runs timers (coordinator.Clock); tests drive a
// fake one by hand.
type Clock = coordinator.Clock

// WallClock is the real clock.
type WallClock = coordinator.WallClock

// Record is one record of __transaction_state. A nil Value is a tombstone.
type Record = coordinator.Record

// Log persists one partition of __transaction_state (coordinator.Writer).
// Loading is the runtime's: it replays the partition into the shard
// BeginLoad returns the load of.
type Log interface {
	// Append writes records to partition as one batch and returns once
	// it is committed, with the offset of the first record.
	Append(ctx context.Context, partition int32, records []Record) (offset int64, err error)
}

// TopicPartition names one partition of a transaction.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Marker asks for one COMMIT or ABORT control batch in each partition.
type Marker struct {
	ProducerID       int64
	ProducerEpoch    int16
	Commit           bool
	CoordinatorEpoch int32
	// TransactionVersion is the transaction.version the transaction ran
	// under (WriteTxnMarkers v2's field): 2 when the epoch was bumped by
	// EndTxn.
	TransactionVersion int8
	Partitions         []TopicPartition
}

// Markers writes transaction markers to the data partitions: WriteTxnMarkers
// semantics, including the completion of transactional offset commits when a
// partition is one of __consumer_offsets.
type Markers interface {
	// WriteMarkers writes the marker to every partition of m and returns
	// one error per partition, in order (nil: written). ErrPartitionGone
	// means the partition no longer exists; the coordinator drops it. Any
	// other error is retried later.
	WriteMarkers(ctx context.Context, m Marker) []error
}

// ErrPartitionGone is what Markers reports for a partition that no longer
// exists (its topic was deleted): there is nothing left to mark.
var ErrPartitionGone = errors.New("txn: partition no longer exists")

// ProducerIDs allocates producer ids (the broker's block from the metadata
// log).
type ProducerIDs interface {
	NextProducerID(ctx context.Context) (int64, error)
}

// ErrNotLeader is what a Log returns when this broker no longer leads the
// partition; the coordinator answers NOT_COORDINATOR.
var ErrNotLeader = coordinator.ErrNotLeader
