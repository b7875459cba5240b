package verifiable

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/samsa-streaming/samsa/connect"
)

// SinkConnector is VerifiableSinkConnector: no configuration of its own,
// tasks.max tasks.
type SinkConnector struct {
	out   io.Writer
	props map[string]string
}

// Version implements connect.Versioned.
func (c *SinkConnector) Version() string { return Version }

// Config implements connect.Configurable (empty, as Java's).
func (c *SinkConnector) Config() *connect.ConfigDef { return connect.NewConfigDef() }

// Start implements connect.Connector.
func (c *SinkConnector) Start(_ connect.ConnectorContext, props map[string]string) error {
	c.props = maps.Clone(props)
	return nil
}

// TaskConfigs implements connect.Connector.
func (c *SinkConnector) TaskConfigs(max int) ([]map[string]string, error) {
	return taskConfigs(c.props, max), nil
}

// Stop implements connect.Connector.
func (c *SinkConnector) Stop() error { return nil }

// NewTask implements connect.SinkConnector.
func (c *SinkConnector) NewTask() connect.SinkTask { return &SinkTask{out: c.out} }

// received is what the sink remembers of a record until it is flushed:
// the JSON of its key, value and offset.
type received struct {
	task, seqno []byte
	offset      int64
	topic       string
}

// SinkTask is VerifiableSinkTask.
type SinkTask struct {
	out       io.Writer
	name      *string
	id        int32
	unflushed map[connect.TopicPartition][]received
	line      []byte
}

// Version implements connect.Versioned.
func (t *SinkTask) Version() string { return Version }

// Start implements connect.SinkTask.
func (t *SinkTask) Start(_ connect.SinkTaskContext, props map[string]string) error {
	id, err := strconv.ParseInt(strings.TrimSpace(props[IDConfig]), 10, 32)
	if err != nil {
		return fmt.Errorf("Invalid VerifiableSourceTask configuration: %w", err)
	}
	t.id, t.name = int32(id), optional(props, NameConfig)
	t.unflushed = map[connect.TopicPartition][]received{}
	return nil
}

// Open implements connect.SinkTask.
func (t *SinkTask) Open(context.Context, []connect.TopicPartition) error { return nil }

// Close implements connect.SinkTask: like Java's, it keeps what was not
// flushed.
func (t *SinkTask) Close(context.Context, []connect.TopicPartition) error { return nil }

// Put prints one line per record and remembers it until its partition is
// flushed.
func (t *SinkTask) Put(_ context.Context, records []*connect.Record) error {
	ms := time.Now().UnixMilli()
	t.line = t.line[:0]
	for _, r := range records {
		rc := received{task: appendJSON(nil, r.Key), seqno: appendJSON(nil, seqnoOf(r.Value)),
			offset: r.Offset, topic: r.Topic}
		t.line = t.appendLine(t.line, &rc, ms, false)
		tp := connect.TopicPartition{Topic: r.Topic, Partition: r.Partition}
		t.unflushed[tp] = append(t.unflushed[tp], rc)
	}
	return t.write()
}

// PreCommit prints the flushed lines of the partitions being committed
// and commits what was delivered.
func (t *SinkTask) PreCommit(_ context.Context, current map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	ms := time.Now().UnixMilli()
	t.line = t.line[:0]
	for tp := range current {
		for i := range t.unflushed[tp] {
			t.line = t.appendLine(t.line, &t.unflushed[tp][i], ms, true)
		}
		delete(t.unflushed, tp)
	}
	if err := t.write(); err != nil {
		return nil, err
	}
	return current, nil
}

func (t *SinkTask) write() error {
	if len(t.line) == 0 {
		return nil
	}
	_, err := t.out.Write(t.line)
	if cap(t.line) > 1<<20 {
		t.line = nil
	}
	if err != nil {
		return fmt.Errorf("verifiable sink: write: %w", err)
	}
	return nil
}

// appendLine prints {"task","seqno","offset","time_ms","name","topic",
// "sinkTask"[,"flushed"]}: Java's HashMap order for those keys.
func (t *SinkTask) appendLine(b []byte, r *received, ms int64, flushed bool) []byte {
	b = append(append(b, `{"task":`...), r.task...)
	b = append(append(b, `,"seqno":`...), r.seqno...)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, r.offset, 10)
	b = append(b, `,"time_ms":`...)
	b = strconv.AppendInt(b, ms, 10)
	b = append(b, `,"name":`...)
	b = appendOptString(b, t.name)
	b = append(b, `,"topic":`...)
	b = appendString(b, r.topic)
	b = append(b, `,"sinkTask":`...)
	b = strconv.AppendInt(b, int64(t.id), 10)
	if flushed {
		b = append(b, `,"flushed":true`...)
	}
	return append(b, "}\n"...)
}

// Stop implements connect.SinkTask.
func (t *SinkTask) Stop() error { return nil }

func appendOptString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendString(b, *s)
}

// appendString quotes s as Jackson does: only '"', '\\' and control
// characters are escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c == '\t':
			b = append(b, `\t`...)
		case c == '\b':
			b = append(b, `\b`...)
		case c == '\f':
			b = append(b, `\f`...)
		case c < 0x20:
			b = fmt.Appendf(b, `\u%04X`, c)
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// appendJSON prints a record's key or value as Jackson would print the
// Java object (numbers, strings, booleans, null, lists and maps); what
// JSON cannot hold prints as a string.
func appendJSON(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, x)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case *connect.Struct:
		return appendString(b, fmt.Sprint(x.Values))
	case connect.Decimal:
		return append(b, x.String()...)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return appendString(b, fmt.Sprint(v))
	}
	return append(b, bytes.TrimRight(buf.Bytes(), "\n")...)
}
