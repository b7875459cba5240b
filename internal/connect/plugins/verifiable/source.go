package verifiable

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/samsa-streaming/samsa/connect"
)

// Class names, as Kafka's, and configuration names.
const (
	SourceClass = "org.apache.kafka.connect.tools.VerifiableSourceConnector"
	SinkClass   = "org.apache.kafka.connect.tools.VerifiableSinkConnector"
	// Version is the Kafka version whose connectors these mirror.
	Version = "4.4.0"

	NameConfig               = "name"
	IDConfig                 = "id"
	TopicConfig              = "topic"
	ThroughputConfig         = "throughput"
	CompleteRecordDataConfig = "complete.record.data"

	// maxBatch bounds the records one Poll returns.
	maxBatch = 1000
	// offsetReadTimeout bounds the stored-offset read in Start.
	offsetReadTimeout = time.Minute
)

// Plugins returns the two connectors; both print to out.
func Plugins(out io.Writer) []connect.Plugin {
	return []connect.Plugin{
		{Class: SourceClass, Kind: connect.KindSource, Version: Version,
			New: func() any { return &SourceConnector{out: out} }, Config: connect.NewConfigDef},
		{Class: SinkClass, Kind: connect.KindSink, Version: Version,
			New: func() any { return &SinkConnector{out: out} }, Config: connect.NewConfigDef},
	}
}

// taskConfigs gives each of max tasks the connector's configuration with
// its own id.
func taskConfigs(props map[string]string, max int) []map[string]string {
	out := make([]map[string]string, 0, max)
	for i := range max {
		p := maps.Clone(props)
		if p == nil {
			p = map[string]string{}
		}
		p[IDConfig] = strconv.Itoa(i)
		out = append(out, p)
	}
	return out
}

// SourceConnector is VerifiableSourceConnector: no configuration of its
// own, tasks.max tasks.
type SourceConnector struct {
	out   io.Writer
	props map[string]string
}

// Version implements connect.Versioned.
func (c *SourceConnector) Version() string { return Version }

// Config implements connect.Configurable (empty, as Java's).
func (c *SourceConnector) Config() *connect.ConfigDef { return connect.NewConfigDef() }

// Start implements connect.Connector.
func (c *SourceConnector) Start(_ connect.ConnectorContext, props map[string]string) error {
	c.props = maps.Clone(props)
	return nil
}

// TaskConfigs implements connect.Connector.
func (c *SourceConnector) TaskConfigs(max int) ([]map[string]string, error) {
	return taskConfigs(c.props, max), nil
}

// Stop implements connect.Connector.
func (c *SourceConnector) Stop() error { return nil }

// NewTask implements connect.SourceConnector.
func (c *SourceConnector) NewTask() connect.SourceTask { return &SourceTask{out: c.out} }

// completeSchema is the value schema with complete.record.data.
var completeSchema = &connect.Schema{Type: connect.StructT, Fields: []connect.Field{
	{Name: "name", Index: 0, Schema: connect.SchemaString},
	{Name: "task", Index: 1, Schema: connect.SchemaInt32},
	{Name: "topic", Index: 2, Schema: connect.SchemaString},
	{Name: "time_ms", Index: 3, Schema: connect.SchemaInt64},
	{Name: "seqno", Index: 4, Schema: connect.SchemaInt64},
}}

// SourceTask is VerifiableSourceTask.
type SourceTask struct {
	out      io.Writer
	log      *slog.Logger
	name     *string // nil when the config has none (printed as null)
	topic    *string
	id       int32
	complete bool

	throughput int64
	startSeq   int64
	seq        int64
	started    time.Time
	partition  map[string]any

	key any // the task id, boxed once

	stopOnce sync.Once
	stop     chan struct{}
	line     []byte

	commitMu  sync.Mutex // CommitRecord may come from producer callbacks
	commitBuf []byte
}

// Version implements connect.Versioned.
func (t *SourceTask) Version() string { return Version }

func optional(props map[string]string, k string) *string {
	if v, ok := props[k]; ok {
		return &v
	}
	return nil
}

// Start reads the task's configuration and resumes after the stored
// seqno of partition {"id": id}.
func (t *SourceTask) Start(ctx connect.SourceTaskContext, props map[string]string) error {
	id, err := strconv.ParseInt(strings.TrimSpace(props[IDConfig]), 10, 32)
	if err != nil {
		return fmt.Errorf("Invalid VerifiableSourceTask configuration: %w", err)
	}
	tp, err := strconv.ParseInt(strings.TrimSpace(props[ThroughputConfig]), 10, 64)
	if err != nil {
		return fmt.Errorf("Invalid VerifiableSourceTask configuration: %w", err)
	}
	t.log, t.id, t.throughput = ctx.Logger(), int32(id), tp
	t.name, t.topic = optional(props, NameConfig), optional(props, TopicConfig)
	t.complete = strings.EqualFold(props[CompleteRecordDataConfig], "true")
	t.partition = map[string]any{"id": t.id}
	t.key = t.id
	rctx, cancel := context.WithTimeout(context.Background(), offsetReadTimeout)
	defer cancel()
	prev, err := ctx.Offsets().Offset(rctx, t.partition)
	if err != nil {
		return fmt.Errorf("verifiable source: read offset: %w", err)
	}
	t.seq = 0
	if prev != nil {
		n, ok := integer(prev["seqno"])
		if !ok {
			return fmt.Errorf("verifiable source: stored offset %v has no integer seqno", prev)
		}
		t.seq = n + 1
	}
	t.startSeq, t.started = t.seq, time.Now()
	t.stop = make(chan struct{})
	t.log.Info("Started VerifiableSourceTask", "name", deref(t.name), "task", t.id,
		"topic", deref(t.topic), "seqno", t.startSeq)
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// integer reads a JSON-decoded or Go integer.
func integer(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case int:
		return int64(x), true
	case float64:
		return int64(x), x == float64(int64(x))
	case interface{ Int64() (int64, error) }:
		n, err := x.Int64()
		return n, err == nil
	}
	return 0, false
}

// Poll returns the next records, as many as the throughput allows now
// (at most maxBatch), printing one line per record.
func (t *SourceTask) Poll(ctx context.Context) ([]*connect.Record, error) {
	n := t.allowed(ctx)
	if n == 0 {
		return nil, nil
	}
	now := time.Now()
	ms := now.UnixMilli()
	recs := make([]*connect.Record, 0, n)
	t.line = t.line[:0]
	for range n {
		t.line = t.appendSent(t.line, t.seq, ms)
		recs = append(recs, t.record(t.seq, ms, now))
		t.seq++
	}
	if _, err := t.out.Write(t.line); err != nil {
		return nil, fmt.Errorf("verifiable source: write: %w", err)
	}
	return recs, nil
}

// allowed is how many records may go now under throughput, waiting
// (bounded by ctx and Stop) until at least one may.
func (t *SourceTask) allowed(ctx context.Context) int {
	for {
		if t.throughput < 0 {
			return maxBatch
		}
		var wait time.Duration
		if t.throughput == 0 {
			wait = time.Hour
		} else {
			elapsed := time.Since(t.started)
			sent := t.seq - t.startSeq
			due := int64(elapsed.Seconds()*float64(t.throughput)) + 1 - sent
			if due > 0 {
				return int(min(due, maxBatch))
			}
			next := time.Duration(float64(sent) / float64(t.throughput) * float64(time.Second))
			wait = next - elapsed
		}
		tm := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			tm.Stop()
			return 0
		case <-t.stop:
			tm.Stop()
			return 0
		case <-tm.C:
		}
	}
}

func (t *SourceTask) record(seq, ms int64, now time.Time) *connect.Record {
	boxed := any(seq)
	r := &connect.Record{Partition: -1, KeySchema: connect.SchemaInt32, Key: t.key, Timestamp: now,
		SourcePartition: t.partition, SourceOffset: map[string]any{"seqno": boxed}}
	if t.topic != nil {
		r.Topic = *t.topic
	}
	if !t.complete {
		r.ValueSchema, r.Value = connect.SchemaInt64, boxed
		return r
	}
	st := connect.NewStruct(completeSchema)
	st.Values = []any{deref(t.name), t.id, r.Topic, ms, seq}
	r.ValueSchema, r.Value = completeSchema, st
	return r
}

// appendSent prints {"task","seqno","time_ms","name","topic"}: Java's
// HashMap order for those keys.
func (t *SourceTask) appendSent(b []byte, seq, ms int64) []byte {
	b = append(b, `{"task":`...)
	b = strconv.AppendInt(b, int64(t.id), 10)
	b = append(b, `,"seqno":`...)
	b = strconv.AppendInt(b, seq, 10)
	return t.appendTail(b, ms)
}

func (t *SourceTask) appendTail(b []byte, ms int64) []byte {
	b = append(b, `,"time_ms":`...)
	b = strconv.AppendInt(b, ms, 10)
	b = append(b, `,"name":`...)
	b = appendOptString(b, t.name)
	b = append(b, `,"topic":`...)
	b = appendOptString(b, t.topic)
	return append(b, "}\n"...)
}

// CommitRecord prints {"committed":true,"task","seqno","time_ms","name",
// "topic"} (Java's HashMap order).
func (t *SourceTask) CommitRecord(r *connect.Record, _ *connect.RecordMetadata) error {
	t.commitMu.Lock()
	defer t.commitMu.Unlock()
	b := append(t.commitBuf[:0], `{"committed":true,"task":`...)
	b = strconv.AppendInt(b, int64(t.id), 10)
	b = append(b, `,"seqno":`...)
	b = appendJSON(b, seqnoOf(r.Value))
	b = t.appendTail(b, time.Now().UnixMilli())
	t.commitBuf = b
	if _, err := t.out.Write(b); err != nil {
		return fmt.Errorf("verifiable source: write: %w", err)
	}
	return nil
}

// seqnoOf is the record's seqno: its value, or the seqno field of a
// complete-record struct.
func seqnoOf(v any) any {
	if st, ok := v.(*connect.Struct); ok && st.Schema != nil && st.Schema.Field("seqno") != nil {
		return st.Get("seqno")
	}
	return v
}

// Commit implements connect.SourceCommitter.
func (t *SourceTask) Commit() error { return nil }

// Stop wakes a Poll waiting for its throughput.
func (t *SourceTask) Stop() error {
	if t.stop != nil {
		t.stopOnce.Do(func() { close(t.stop) })
	}
	return nil
}
