package connect

import (
	"context"
	"log/slog"
)

// Kind is what a plugin is.
type Kind string

// Plugin kinds, named as in GET /connector-plugins' "type".
const (
	KindSource          Kind = "source"
	KindSink            Kind = "sink"
	KindConverter       Kind = "converter"
	KindHeaderConverter Kind = "header_converter"
	KindTransformation  Kind = "transformation"
	KindPredicate       Kind = "predicate"
)

// Versioned is implemented by every plugin.
type Versioned interface {
	Version() string
}

// Configurable plugins describe their configuration, for validation and
// for GET /connector-plugins/{p}/config.
type Configurable interface {
	Config() *ConfigDef
}

// ConnectorContext is what the runtime offers a running connector.
type ConnectorContext interface {
	// RequestTaskReconfiguration asks the runtime to call TaskConfigs
	// again (the source's set of inputs changed).
	RequestTaskReconfiguration()
	// RaiseError fails the connector with err.
	RaiseError(err error)
	// Logger is the connector's logger.
	Logger() *slog.Logger
}

// Connector is the common part of source and sink connectors.
type Connector interface {
	Versioned
	Configurable
	// Start is called once with the connector's configuration, which
	// has already passed Config().Validate.
	Start(ctx ConnectorContext, props map[string]string) error
	// TaskConfigs returns at most max task configurations.
	TaskConfigs(max int) ([]map[string]string, error)
	Stop() error
}

// ConfigValidator is implemented by connectors that check their
// configuration beyond the ConfigDef (Java's Connector.validate).
type ConfigValidator interface {
	// ValidateConfig adds error messages to values (keyed by config name).
	ValidateConfig(props map[string]string, values map[string]*ConfigValue)
}

// ExactlyOnce is what a source connector says about exactly-once support
// (Java's ExactlyOnceSupport).
type ExactlyOnce int

// Exactly-once support answers.
const (
	ExactlyOnceUnsupported ExactlyOnce = iota
	ExactlyOnceSupported
)

// SourceConnector reads another system and produces to Kafka.
type SourceConnector interface {
	Connector
	NewTask() SourceTask
}

// ExactlyOnceSourceConnector can say whether it supports exactly-once
// delivery for a configuration. Connectors without it are unsupported.
type ExactlyOnceSourceConnector interface {
	ExactlyOnceSupport(props map[string]string) ExactlyOnce
}

// SinkConnector consumes from Kafka and writes to another system.
type SinkConnector interface {
	Connector
	NewTask() SinkTask
}

// OffsetReader reads a source connector's committed offsets.
type OffsetReader interface {
	// Offset returns the last committed offset for a source partition,
	// or nil.
	Offset(ctx context.Context, partition map[string]any) (map[string]any, error)
}

// SourceTaskContext is what the runtime offers a source task.
type SourceTaskContext interface {
	Offsets() OffsetReader
	Logger() *slog.Logger
}

// SourceTask produces records. Poll is called in a loop by one goroutine;
// Stop may be called from another, and should make a blocked Poll return.
type SourceTask interface {
	Versioned
	Start(ctx SourceTaskContext, props map[string]string) error
	// Poll returns the next records, or nil when there are none now (the
	// task should block briefly, bounded by ctx, rather than spin).
	Poll(ctx context.Context) ([]*Record, error)
	Stop() error
}

// SourceCommitter is implemented by source tasks that want to hear when
// their records are durable (Java's commit / commitRecord).
type SourceCommitter interface {
	// CommitRecord is called once per record after Kafka acknowledged it
	// (md is nil when a transformation dropped it).
	CommitRecord(r *Record, md *RecordMetadata) error
	// Commit is called after the offsets up to now were committed.
	Commit() error
}

// SinkTaskContext is what the runtime offers a sink task.
type SinkTaskContext interface {
	// Assignment is the partitions the task currently owns.
	Assignment() []TopicPartition
	// ResetOffset makes the task resume tp from offset (the next Put
	// starts there).
	ResetOffset(tp TopicPartition, offset int64)
	Pause(tps ...TopicPartition)
	Resume(tps ...TopicPartition)
	// RequestCommit asks for offsets to be committed soon.
	RequestCommit()
	// ReportError sends a record that failed to the dead-letter queue
	// (or fails the task when errors.tolerance is none).
	ReportError(ctx context.Context, r *Record, err error) error
	Logger() *slog.Logger
}

// SinkTask consumes records. All methods are called from one goroutine.
type SinkTask interface {
	Versioned
	Start(ctx SinkTaskContext, props map[string]string) error
	// Open is called when partitions are assigned, Close when revoked.
	Open(ctx context.Context, tps []TopicPartition) error
	Close(ctx context.Context, tps []TopicPartition) error
	// Put delivers records; an error that wraps ErrRetriable makes the
	// runtime retry the same batch later.
	Put(ctx context.Context, records []*Record) error
	// PreCommit flushes and returns the offsets safe to commit (the next
	// offset to read, per partition). Returning current unchanged is
	// Java's default (flush then commit everything delivered).
	PreCommit(ctx context.Context, current map[TopicPartition]int64) (map[TopicPartition]int64, error)
	Stop() error
}

// ErrRetriable marks a sink or source error the runtime retries
// (Java's RetriableException).
var ErrRetriable = retriable{}

type retriable struct{}

func (retriable) Error() string { return "connect: retriable error" }

// Converter turns Connect data into bytes and back (Java's Converter).
type Converter interface {
	// Configure is called once; isKey says whether it converts keys.
	Configure(props map[string]string, isKey bool) error
	FromConnect(topic string, headers []Header, s *Schema, v any) ([]byte, error)
	ToConnect(topic string, headers []Header, data []byte) (*Schema, any, error)
}

// HeaderConverter turns header values into bytes and back.
type HeaderConverter interface {
	Configure(props map[string]string) error
	FromConnectHeader(topic, key string, s *Schema, v any) ([]byte, error)
	ToConnectHeader(topic, key string, data []byte) (*Schema, any, error)
}

// Transformation changes or drops records (Java's Transformation).
type Transformation interface {
	Configure(props map[string]string) error
	// Apply returns the transformed record, or nil to drop it. It must
	// not modify r in place; use r.Copy().
	Apply(r *Record) (*Record, error)
	Close() error
}

// Predicate decides whether a transformation applies to a record.
type Predicate interface {
	Configure(props map[string]string) error
	Test(r *Record) bool
	Close() error
}
