package group

import (
	"context"
	"errors"
	"time"
)

// Clock tells the time and runs timers. Tests drive a fake one by hand.
type Clock interface {
	Now() time.Time
	// AfterFunc runs f once, on some goroutine, after d. The returned stop
	// cancels it and reports whether it did so before f started.
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

// Record is one record of __consumer_offsets. A nil Value is a tombstone.
type Record struct {
	Key, Value []byte
}

// Log persists one partition of __consumer_offsets.
type Log interface {
	// Append writes records to partition as one batch and returns once
	// it is committed, with the offset of the first record.
	Append(ctx context.Context, partition int32, records []Record) (offset int64, err error)
	// Replay calls fn for every record of partition from the log start to
	// the high watermark, in order. Control batches are skipped.
	Replay(ctx context.Context, partition int32, fn func(key, value []byte) error) error
}

// Topics tells whether a topic-partition exists, for offset commits.
type Topics interface {
	PartitionExists(topic string, partition int32) bool
}

// ErrNotLeader is what a Log returns when this broker no longer leads the
// partition; the coordinator answers NOT_COORDINATOR.
var ErrNotLeader = errors.New("group: not the leader of the offsets partition")
