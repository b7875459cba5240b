package coordinator

import (
	"math"
	"unicode/utf16"
)

// The internal topics the coordinators keep their state in.
const (
	// OffsetsTopic is Kafka's group metadata topic.
	OffsetsTopic = "__consumer_offsets"
	// TxnStateTopic is Kafka's transaction state topic.
	TxnStateTopic = "__transaction_state"
)

// JavaHashCode is Java's String.hashCode: 31-based over UTF-16 code units.
func JavaHashCode(s string) int32 {
	var h int32
	for _, r := range s {
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			h = 31*h + int32(r1)
			h = 31*h + int32(r2)
			continue
		}
		h = 31*h + int32(r)
	}
	return h
}

// PartitionFor is the partition of key among n partitions of an internal
// topic, as Kafka's Utils.abs(key.hashCode()) % n: a group id's partition
// of __consumer_offsets, a transactional id's of __transaction_state.
// Utils.abs maps math.MinInt32 to 0.
func PartitionFor(key string, n int32) int32 {
	h := JavaHashCode(key)
	if h == math.MinInt32 {
		h = 0
	} else if h < 0 {
		h = -h
	}
	return h % n
}
