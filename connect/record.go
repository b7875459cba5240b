package connect

import "time"

// TopicPartition names one partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Header is one record header with its (optional) schema.
type Header struct {
	Key    string
	Schema *Schema
	Value  any
}

// TimestampType says where a sink record's timestamp came from.
type TimestampType int8

// Timestamp types, as Kafka's record attribute.
const (
	NoTimestampType TimestampType = -1
	CreateTime      TimestampType = 0
	LogAppendTime   TimestampType = 1
)

// Record is a record on its way through the runtime: a SourceRecord
// (SourcePartition/SourceOffset set) from a source task, or a SinkRecord
// (Offset, TimestampType set) for a sink task. Transformations return new
// Records (or modify a copy); they must not modify shared schemas.
type Record struct {
	Topic string
	// Partition is -1 when the producer's partitioner should choose.
	Partition   int32
	KeySchema   *Schema
	Key         any
	ValueSchema *Schema
	Value       any
	// Timestamp is the zero time when the record has none.
	Timestamp time.Time
	Headers   []Header

	// Source side: where the record came from, the keys of the
	// connector's offsets (Java's sourcePartition / sourceOffset).
	SourcePartition map[string]any
	SourceOffset    map[string]any

	// Sink side.
	Offset        int64
	TimestampType TimestampType
	// OriginalTopic, OriginalPartition and OriginalOffset are the
	// consumed position before transformations changed Topic/Partition,
	// used for committing offsets (KIP-793).
	OriginalTopic     string
	OriginalPartition int32
	OriginalOffset    int64
}

// Copy returns a shallow copy whose header slice may be appended to
// independently.
func (r *Record) Copy() *Record {
	c := *r
	c.Headers = append([]Header(nil), r.Headers...)
	return &c
}

// Header returns the last header with key, or nil.
func (r *Record) Header(key string) *Header {
	for i := len(r.Headers) - 1; i >= 0; i-- {
		if r.Headers[i].Key == key {
			return &r.Headers[i]
		}
	}
	return nil
}

// RecordMetadata is where a source record was written.
type RecordMetadata struct {
	Topic     string
	Partition int32
	Offset    int64
	Timestamp time.Time
}
