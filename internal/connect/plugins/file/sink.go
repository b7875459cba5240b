package file

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/samsa-streaming/samsa/connect"
)

// SinkConfigDef is FileStreamSinkConnector's configuration.
func SinkConfigDef() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: FileConfig, Type: connect.TypeString, Importance: connect.High,
			Documentation: "Destination filename. If not specified, the standard output will be used"})
}

// SinkConnector is FileStreamSinkConnector.
type SinkConnector struct {
	stdout io.Writer
	props  map[string]string
}

// Version implements connect.Versioned.
func (c *SinkConnector) Version() string { return Version }

// Config implements connect.Configurable.
func (c *SinkConnector) Config() *connect.ConfigDef { return SinkConfigDef() }

// Start implements connect.Connector.
func (c *SinkConnector) Start(ctx connect.ConnectorContext, props map[string]string) error {
	c.props = maps.Clone(props)
	name := props[FileConfig]
	if name == "" {
		name = "standard output"
	}
	ctx.Logger().Info("Starting file sink connector", "writing_to", name)
	return nil
}

// TaskConfigs returns max copies of the connector's configuration.
func (c *SinkConnector) TaskConfigs(max int) ([]map[string]string, error) {
	out := make([]map[string]string, 0, max)
	for range max {
		out = append(out, maps.Clone(c.props))
	}
	return out, nil
}

// Stop implements connect.Connector.
func (c *SinkConnector) Stop() error { return nil }

// NewTask implements connect.SinkConnector.
func (c *SinkConnector) NewTask() connect.SinkTask { return &SinkTask{stdout: c.stdout} }

// AlterSinkOffsets accepts any change: the sink keeps no offsets of its
// own (Java's answer).
func (c *SinkConnector) AlterSinkOffsets(map[string]string, map[connect.TopicPartition]*int64) (bool, error) {
	return true, nil
}

// SinkTask is FileStreamSinkTask.
type SinkTask struct {
	stdout io.Writer
	out    io.Writer
	file   *os.File
	line   []byte
}

// Version implements connect.Versioned.
func (t *SinkTask) Version() string { return Version }

// Start opens the file for appending, creating it when missing.
func (t *SinkTask) Start(_ connect.SinkTaskContext, props map[string]string) error {
	name := props[FileConfig]
	if name == "" {
		if t.stdout == nil {
			return fmt.Errorf("file sink: no standard output to write to")
		}
		t.out = t.stdout
		return nil
	}
	f, err := os.OpenFile(name, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("Couldn't find or create file '%s' for FileStreamSinkTask: %w", name, err)
	}
	t.file, t.out = f, f
	return nil
}

// Open implements connect.SinkTask.
func (t *SinkTask) Open(context.Context, []connect.TopicPartition) error { return nil }

// Close implements connect.SinkTask.
func (t *SinkTask) Close(context.Context, []connect.TopicPartition) error { return nil }

// Put writes one line per record, all in one write.
func (t *SinkTask) Put(_ context.Context, records []*connect.Record) error {
	if len(records) == 0 {
		return nil
	}
	t.line = t.line[:0]
	for _, r := range records {
		t.line = appendJava(t.line, r.Value)
		t.line = append(t.line, '\n')
	}
	if _, err := t.out.Write(t.line); err != nil {
		return fmt.Errorf("file sink: write: %w", err)
	}
	if cap(t.line) > 1<<20 {
		t.line = nil
	}
	return nil
}

// PreCommit has nothing buffered to flush: Put wrote everything.
func (t *SinkTask) PreCommit(_ context.Context, current map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	return current, nil
}

// Stop closes the file (never standard output).
func (t *SinkTask) Stop() error {
	if t.file == nil {
		return nil
	}
	err := t.file.Close()
	t.file = nil
	if err != nil {
		return fmt.Errorf("file sink: close: %w", err)
	}
	return nil
}

// appendJava renders v as Java's String.valueOf renders the value the
// Java sink would hold (Struct{a=1,b=x}, {k=v, …}, [a, b], 1.0, null).
func appendJava(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return append(b, x...)
	case []byte:
		return append(b, x...)
	case bool:
		return strconv.AppendBool(b, x)
	case int8, int16, int32, int64, int, uint8, uint16, uint32, uint64:
		return fmt.Append(b, x)
	case float32:
		return appendJavaFloat(b, float64(x), 32)
	case float64:
		return appendJavaFloat(b, x, 64)
	case connect.Decimal:
		return append(b, x.String()...)
	case time.Time:
		return append(b, x.Format("Mon Jan 02 15:04:05 MST 2006")...)
	case *connect.Struct:
		return appendStruct(b, x)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendJava(b, e)
		}
		return append(b, ']')
	case map[string]any:
		return appendJavaMap(b, len(x), func(yield func(k, v any)) {
			for k, e := range x {
				yield(k, e)
			}
		})
	case map[any]any:
		return appendJavaMap(b, len(x), func(yield func(k, v any)) {
			for k, e := range x {
				yield(k, e)
			}
		})
	}
	return fmt.Append(b, v)
}

// appendJavaMap renders a map as {k=v, k2=v2}, sorted by the rendered
// key (Java's HashMap order is not reproducible in general).
func appendJavaMap(b []byte, n int, each func(yield func(k, v any))) []byte {
	type entry struct {
		k string
		v any
	}
	entries := make([]entry, 0, n)
	each(func(k, v any) { entries = append(entries, entry{string(appendJava(nil, k)), v}) })
	sort.Slice(entries, func(i, j int) bool { return entries[i].k < entries[j].k })
	b = append(b, '{')
	for i, e := range entries {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendJava(append(append(b, e.k...), '='), e.v)
	}
	return append(b, '}')
}

// appendStruct follows Kafka's Struct.toString: non-null fields only.
func appendStruct(b []byte, s *connect.Struct) []byte {
	b = append(b, "Struct{"...)
	first := true
	for i, f := range s.Schema.Fields {
		if i >= len(s.Values) || s.Values[i] == nil {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJava(append(append(b, f.Name...), '='), s.Values[i])
	}
	return append(b, '}')
}

// appendJavaFloat follows Double.toString / Float.toString: plain with
// at least one decimal between 10^-3 and 10^7, else d.dddE±n.
func appendJavaFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	}
	a := math.Abs(f)
	if a == 0 || (a >= 1e-3 && a < 1e7) {
		s := strconv.FormatFloat(f, 'f', -1, bits)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return append(b, s...)
	}
	s := strconv.FormatFloat(f, 'E', -1, bits)
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	n, _ := strconv.Atoi(exp)
	return append(append(append(b, mant...), 'E'), strconv.Itoa(n)...)
}
