package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/samsa-streaming/samsa/connect"
)

// Class names and aliases, as Kafka's.
const (
	SourceClass = "org.apache.kafka.connect.file.FileStreamSourceConnector"
	SinkClass   = "org.apache.kafka.connect.file.FileStreamSinkConnector"
	SourceAlias = "FileStreamSource"
	SinkAlias   = "FileStreamSink"
	// Version is the Kafka version whose connectors these mirror.
	Version = "4.4.0"
)

// Configuration names and offset fields, as Kafka's.
const (
	FileConfig      = "file"
	TopicConfig     = "topic"
	BatchSizeConfig = "batch.size"
	FilenameField   = "filename"
	PositionField   = "position"

	defaultBatchSize = 2000
	// idleWait is how long a poll that found nothing waits (Java: 1 s).
	idleWait = time.Second
	readSize = 64 << 10
	// maxLine bounds the bytes held for one line without a terminator.
	maxLine = 64 << 20
)

// Plugins returns the two connectors. stdin is what the source reads when
// `file` is unset, stdout what the sink writes to then.
func Plugins(stdin io.Reader, stdout io.Writer) []connect.Plugin {
	return []connect.Plugin{
		{Class: SourceClass, Aliases: []string{SourceAlias}, Kind: connect.KindSource, Version: Version,
			New:    func() any { return &SourceConnector{stdin: stdin} },
			Config: SourceConfigDef},
		{Class: SinkClass, Aliases: []string{SinkAlias}, Kind: connect.KindSink, Version: Version,
			New:    func() any { return &SinkConnector{stdout: stdout} },
			Config: SinkConfigDef},
	}
}

// SourceConfigDef is FileStreamSourceConnector's configuration.
func SourceConfigDef() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: FileConfig, Type: connect.TypeString, Importance: connect.High,
			Documentation: "Source filename. If not specified, the standard input will be used"}).
		Define(connect.ConfigKey{Name: TopicConfig, Type: connect.TypeString, Required: true, Importance: connect.High,
			Validator: nonEmpty, Documentation: "The topic to publish data to"}).
		Define(connect.ConfigKey{Name: BatchSizeConfig, Type: connect.TypeInt, Default: "2000", Importance: connect.Low,
			Documentation: "The maximum number of records the source task can read from the file each time it is polled"})
}

func nonEmpty(v any) error {
	if s, _ := v.(string); s == "" {
		return errors.New("String must be non-empty")
	}
	return nil
}

// SourceConnector is FileStreamSourceConnector.
type SourceConnector struct {
	stdin io.Reader
	props map[string]string
}

// Version implements connect.Versioned.
func (c *SourceConnector) Version() string { return Version }

// Config implements connect.Configurable.
func (c *SourceConnector) Config() *connect.ConfigDef { return SourceConfigDef() }

// Start implements connect.Connector.
func (c *SourceConnector) Start(ctx connect.ConnectorContext, props map[string]string) error {
	if _, err := SourceConfigDef().Parse(props); err != nil {
		return fmt.Errorf("file source: %w", err)
	}
	c.props = maps.Clone(props)
	name := props[FileConfig]
	if name == "" {
		name = "standard input"
	}
	ctx.Logger().Info("Starting file source connector", "reading_from", name)
	return nil
}

// TaskConfigs returns one configuration: only one reader of a stream
// makes sense.
func (c *SourceConnector) TaskConfigs(int) ([]map[string]string, error) {
	return []map[string]string{maps.Clone(c.props)}, nil
}

// Stop implements connect.Connector.
func (c *SourceConnector) Stop() error { return nil }

// NewTask implements connect.SourceConnector.
func (c *SourceConnector) NewTask() connect.SourceTask { return &SourceTask{stdin: c.stdin} }

// ExactlyOnceSupport is supported when reading a file (appended to
// only), unsupported for standard input, whose offsets are not tracked.
func (c *SourceConnector) ExactlyOnceSupport(props map[string]string) connect.ExactlyOnce {
	if props[FileConfig] != "" {
		return connect.ExactlyOnceSupported
	}
	return connect.ExactlyOnceUnsupported
}

// AlterSourceOffsets checks offsets as Java's alterOffsets does: null
// offsets always pass, others need a non-negative integral "position"
// and a partition with "filename".
func (c *SourceConnector) AlterSourceOffsets(props map[string]string, offsets []connect.SourcePartitionOffset) (bool, error) {
	if props[FileConfig] == "" {
		return false, fmt.Errorf("Offsets cannot be modified if the '%s' configuration is unspecified. "+
			"This is because stdin is used for input and offsets are not tracked.", FileConfig)
	}
	for _, po := range offsets {
		if po.Offset == nil {
			continue
		}
		v, ok := po.Offset[PositionField]
		if !ok {
			return false, fmt.Errorf("Offset objects should either be null or contain the key '%s'", PositionField)
		}
		n, ok := position(v)
		if !ok {
			return false, fmt.Errorf("The value for the '%s' key in the offset is expected to be a Long value", PositionField)
		}
		if n < 0 {
			return false, fmt.Errorf("The value for the '%s' key in the offset should be a non-negative value", PositionField)
		}
		if po.Partition == nil {
			return false, errors.New("Partition objects cannot be null")
		}
		if _, ok := po.Partition[FilenameField]; !ok {
			return false, fmt.Errorf("Partition objects should contain the key '%s'", FilenameField)
		}
	}
	return true, nil
}

// position reads an offset's position as stored by either worker: a
// Go integer, or an integral float64/json.Number from decoded JSON.
func position(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case int:
		return int64(x), true
	case float64:
		if x == float64(int64(x)) {
			return int64(x), true
		}
	case interface{ Int64() (int64, error) }:
		n, err := x.Int64()
		return n, err == nil
	}
	return 0, false
}

// SourceTask is FileStreamSourceTask.
type SourceTask struct {
	stdin    io.Reader
	ctx      connect.SourceTaskContext
	log      *slog.Logger
	filename string
	topic    string
	batch    int

	in      io.Reader // nil until the file is open
	pos     int64     // byte position of buf[start] in the file
	buf     []byte
	start   int
	end     int
	tracked bool // false for standard input

	mu      sync.Mutex // guards file and stopped against Stop
	file    *os.File
	stopped bool
	stop    chan struct{}
}

// Version implements connect.Versioned.
func (t *SourceTask) Version() string { return Version }

// Start implements connect.SourceTask.
func (t *SourceTask) Start(ctx connect.SourceTaskContext, props map[string]string) error {
	cfg, err := SourceConfigDef().Parse(props)
	if err != nil {
		return fmt.Errorf("file source: %w", err)
	}
	t.ctx, t.log = ctx, ctx.Logger()
	t.filename, _ = cfg[FileConfig].(string)
	t.topic, _ = cfg[TopicConfig].(string)
	t.batch = defaultBatchSize
	if n, ok := cfg[BatchSizeConfig].(int32); ok && n > 0 {
		t.batch = int(n)
	}
	t.buf = make([]byte, 4096)
	t.stop = make(chan struct{})
	if t.filename == "" {
		if t.stdin == nil {
			return errors.New("file source: no standard input to read")
		}
		t.in = t.stdin
	}
	return nil
}

// Poll returns up to batch.size lines; when there is nothing new it waits
// up to a second (bounded by ctx and Stop) and returns nil.
func (t *SourceTask) Poll(ctx context.Context) ([]*connect.Record, error) {
	if t.in == nil {
		if err := t.open(ctx); err != nil {
			return nil, err
		}
		if t.in == nil {
			t.wait(ctx, idleWait)
			return nil, nil
		}
	}
	var recs []*connect.Record
	for len(recs) < t.batch {
		line, ok := t.nextLine()
		if ok {
			recs = append(recs, t.record(line))
			continue
		}
		n, err := t.read()
		if err != nil {
			return recs, err
		}
		if n == 0 {
			break
		}
	}
	if len(recs) == 0 {
		t.wait(ctx, idleWait)
		return nil, nil
	}
	return recs, nil
}

// open opens the file and seeks to the stored position. A missing file
// leaves t.in nil: the next poll tries again.
func (t *SourceTask) open(ctx context.Context) error {
	f, err := os.Open(t.filename)
	if errors.Is(err, os.ErrNotExist) {
		t.log.Warn("Couldn't find file for FileStreamSourceTask, sleeping to wait for it to be created", "file", t.filename)
		return nil
	}
	if err != nil {
		return fmt.Errorf("file source: open %s: %w", t.filename, err)
	}
	pos, err := t.storedPosition(ctx)
	if err == nil && pos > 0 {
		_, err = f.Seek(pos, io.SeekStart)
	}
	if err != nil {
		_ = f.Close()
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		_ = f.Close()
		return nil
	}
	t.file, t.in, t.pos, t.tracked = f, f, pos, true
	t.log.Debug("Opened file for reading", "file", t.filename, "position", pos)
	return nil
}

func (t *SourceTask) storedPosition(ctx context.Context) (int64, error) {
	off, err := t.ctx.Offsets().Offset(ctx, map[string]any{FilenameField: t.filename})
	if err != nil {
		return 0, fmt.Errorf("file source: read offset of %s: %w", t.filename, err)
	}
	v, ok := off[PositionField]
	if !ok || v == nil {
		return 0, nil
	}
	n, ok := position(v)
	if !ok || n < 0 {
		return 0, fmt.Errorf("file source: offset position %v of %s is the incorrect type", v, t.filename)
	}
	return n, nil
}

// read appends what the input has now to the buffer and returns how many
// bytes came; 0 at the end of the file or when standard input has
// nothing within the idle wait.
func (t *SourceTask) read() (int, error) {
	if t.start > 0 {
		t.end = copy(t.buf, t.buf[t.start:t.end])
		t.start = 0
	}
	if t.end == len(t.buf) {
		if len(t.buf) >= maxLine {
			return 0, fmt.Errorf("file source: a line of %s is longer than %d bytes", t.filename, maxLine)
		}
		t.buf = append(t.buf, make([]byte, len(t.buf))...)
	}
	room := t.buf[t.end:]
	if len(room) > readSize {
		room = room[:readSize]
	}
	if d, ok := t.in.(interface{ SetReadDeadline(time.Time) error }); ok && !t.tracked {
		_ = d.SetReadDeadline(time.Now().Add(idleWait))
	}
	n, err := t.in.Read(room)
	t.end += n
	switch {
	case err == nil, errors.Is(err, io.EOF), errors.Is(err, os.ErrDeadlineExceeded):
		return n, nil
	case t.isStopped():
		return n, nil
	}
	return n, fmt.Errorf("file source: read %s: %w", t.name(), err)
}

// nextLine takes one terminated line off the buffer. A trailing \r waits
// for the next byte, which may be the \n of a \r\n.
func (t *SourceTask) nextLine() (string, bool) {
	b := t.buf[t.start:t.end]
	for i, c := range b {
		if c != '\n' && c != '\r' {
			continue
		}
		next := i + 1
		if c == '\r' {
			if next >= len(b) {
				return "", false
			}
			if b[next] == '\n' {
				next++
			}
		}
		line := strings.ToValidUTF8(string(b[:i]), "\uFFFD")
		t.start += next
		t.pos += int64(next)
		return line, true
	}
	return "", false
}

func (t *SourceTask) record(line string) *connect.Record {
	r := &connect.Record{Topic: t.topic, Partition: -1, ValueSchema: connect.SchemaString, Value: line,
		Timestamp: time.Now()}
	if t.tracked {
		r.SourcePartition = map[string]any{FilenameField: t.filename}
		r.SourceOffset = map[string]any{PositionField: t.pos}
	} else {
		r.SourcePartition = map[string]any{FilenameField: nil}
		r.SourceOffset = map[string]any{PositionField: nil}
	}
	return r
}

func (t *SourceTask) wait(ctx context.Context, d time.Duration) {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
	case <-t.stop:
	case <-tm.C:
	}
}

func (t *SourceTask) isStopped() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stopped
}

func (t *SourceTask) name() string {
	if t.filename == "" {
		return "stdin"
	}
	return t.filename
}

// Stop closes the file (never standard input) and wakes a waiting Poll.
func (t *SourceTask) Stop() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped || t.stop == nil {
		return nil
	}
	t.stopped = true
	close(t.stop)
	if d, ok := t.stdin.(interface{ SetReadDeadline(time.Time) error }); ok && !t.tracked {
		_ = d.SetReadDeadline(time.Now())
	}
	if t.file != nil {
		err := t.file.Close()
		t.file = nil
		if err != nil {
			return fmt.Errorf("file source: close %s: %w", t.filename, err)
		}
	}
	return nil
}
