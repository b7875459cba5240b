package group

import (
	"context"

	"github.com/samsa-streaming/samsa/internal/coordinator"
)

// Clock tells the time and runs timers (coordinator.Clock); tests drive a
// fake one by hand.
type Clock = coordinator.Clock

// WallClock is the real clock.
type WallClock = coordinator.WallClock

// Record is one record of __consumer_offsets. A nil Value is a tombstone.
type Record = coordinator.Record

// Log persists one partition of __consumer_offsets (coordinator.Writer).
// Loading is the runtime's: it replays the partition into the shard
// BeginLoad returns the load of.
type Log interface {
	// Append writes records to partition as one batch and returns once
	// it is committed, with the offset of the first record.
	Append(ctx context.Context, partition int32, records []Record) (offset int64, err error)
	// AppendTxn writes records to partition as one transactional batch of
	// the producer (TxnOffsetCommit), like Append otherwise. A producer
	// epoch older than the partition knows fails with ErrProducerFenced.
	AppendTxn(ctx context.Context, partition int32, producerID int64, epoch int16, records []Record) (offset int64, err error)
}

// Replayed is one record of a load, or one transaction marker.
type Replayed = coordinator.Replayed

// Topics tells whether a topic-partition exists, for offset commits.
type Topics interface {
	PartitionExists(topic string, partition int32) bool
}

// ErrNotLeader is what a Log returns when this broker no longer leads the
// partition; the coordinator answers NOT_COORDINATOR.
var ErrNotLeader = coordinator.ErrNotLeader

// ErrProducerFenced is what Log.AppendTxn returns for a producer epoch older
// than the one the partition knows; TxnOffsetCommit answers
// INVALID_PRODUCER_EPOCH.
var ErrProducerFenced = coordinator.ErrProducerFenced
