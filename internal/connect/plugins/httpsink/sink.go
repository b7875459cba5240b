package httpsink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/samsa-streaming/samsa/connect"
)

// Plugins returns the connector.
func Plugins() []connect.Plugin {
	return []connect.Plugin{{Class: Class, Aliases: []string{Alias}, Kind: connect.KindSink, Version: Version,
		New: func() any { return &Connector{} }, Config: ConfigDef}}
}

// Connector is the HTTP sink connector.
type Connector struct{ props map[string]string }

// Version implements connect.Versioned.
func (c *Connector) Version() string { return Version }

// Config implements connect.Configurable.
func (c *Connector) Config() *connect.ConfigDef { return ConfigDef() }

// ValidateConfig reports a malformed headers setting and BASIC
// authentication without a user.
func (c *Connector) ValidateConfig(props map[string]string, values map[string]*connect.ConfigValue) {
	sep := props[HeaderSepConfig]
	if _, ok := props[HeaderSepConfig]; !ok {
		sep = "|"
	}
	if _, err := parseHeaders(props[HeadersConfig], sep); err != nil && values[HeadersConfig] != nil {
		values[HeadersConfig].Errors = append(values[HeadersConfig].Errors, err.Error())
	}
	if strings.EqualFold(props[AuthTypeConfig], "BASIC") && props[UserConfig] == "" && values[UserConfig] != nil {
		values[UserConfig].Errors = append(values[UserConfig].Errors, "BASIC authentication needs connection.user")
	}
}

// Start implements connect.Connector.
func (c *Connector) Start(_ connect.ConnectorContext, props map[string]string) error {
	if _, err := ParseConfig(props); err != nil {
		return err
	}
	c.props = maps.Clone(props)
	return nil
}

// TaskConfigs implements connect.Connector: max identical tasks.
func (c *Connector) TaskConfigs(max int) ([]map[string]string, error) {
	out := make([]map[string]string, 0, max)
	for range max {
		out = append(out, maps.Clone(c.props))
	}
	return out, nil
}

// Stop implements connect.Connector.
func (c *Connector) Stop() error { return nil }

// NewTask implements connect.SinkConnector.
func (c *Connector) NewTask() connect.SinkTask { return &Task{} }

// AlterSinkOffsets accepts any change: the endpoint keeps no offsets.
func (c *Connector) AlterSinkOffsets(map[string]string, map[connect.TopicPartition]*int64) (bool, error) {
	return true, nil
}

// errorBodyLimit bounds what is read of a response body.
const errorBodyLimit = 64 << 10

// Task sends records.
type Task struct {
	cfg    Config
	client *http.Client
	log    *slog.Logger
	// sent is, per consumed partition, the offset after the last record
	// the endpoint accepted (or that behavior.on.error skipped).
	sent map[connect.TopicPartition]int64
	body []byte
}

// Version implements connect.Versioned.
func (t *Task) Version() string { return Version }

// Start implements connect.SinkTask.
func (t *Task) Start(ctx connect.SinkTaskContext, props map[string]string) error {
	cfg, err := ParseConfig(props)
	if err != nil {
		return err
	}
	t.cfg, t.sent = cfg, map[connect.TopicPartition]int64{}
	t.log = slog.New(slog.DiscardHandler)
	if ctx != nil && ctx.Logger() != nil {
		t.log = ctx.Logger()
	}
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout}
	t.client = &http.Client{Timeout: cfg.RequestTimeout, Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment, DialContext: dialer.DialContext, MaxIdleConnsPerHost: 2,
		IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: cfg.ConnectTimeout}}
	return nil
}

// Open implements connect.SinkTask.
func (t *Task) Open(context.Context, []connect.TopicPartition) error { return nil }

// Close forgets what was sent of the revoked partitions: whatever comes
// again after a reassignment is sent again (at least once).
func (t *Task) Close(_ context.Context, tps []connect.TopicPartition) error {
	for _, tp := range tps {
		delete(t.sent, tp)
	}
	return nil
}

// origin is where r was consumed (before transformations renamed it).
func origin(r *connect.Record) (connect.TopicPartition, int64) {
	if r.OriginalTopic != "" {
		return connect.TopicPartition{Topic: r.OriginalTopic, Partition: r.OriginalPartition}, r.OriginalOffset
	}
	return connect.TopicPartition{Topic: r.Topic, Partition: r.Partition}, r.Offset
}

// Put sends the records not sent before, in batches, in order.
func (t *Task) Put(ctx context.Context, records []*connect.Record) error {
	todo := make([]*connect.Record, 0, len(records))
	for _, r := range records {
		tp, off := origin(r)
		if next, ok := t.sent[tp]; ok && off < next {
			continue
		}
		todo = append(todo, r)
	}
	for len(todo) > 0 {
		n := min(len(todo), t.cfg.BatchMaxSize)
		if err := t.deliver(ctx, todo[:n]); err != nil {
			return err
		}
		for _, r := range todo[:n] {
			tp, off := origin(r)
			t.sent[tp] = off + 1
		}
		todo = todo[n:]
	}
	if cap(t.body) > 4<<20 {
		t.body = nil
	}
	return nil
}

// deliver sends one batch, retrying; a failure that is not retriable
// follows behavior.on.error.
func (t *Task) deliver(ctx context.Context, batch []*connect.Record) error {
	body, err := t.encode(batch)
	if err == nil {
		err = t.sendRetrying(ctx, body)
	}
	if err == nil || errors.Is(err, connect.ErrRetriable) || ctx.Err() != nil {
		return err
	}
	first, _ := origin(batch[0])
	switch t.cfg.Behavior {
	case "log":
		t.log.Error("http sink: skipping records", "topic", first.Topic, "partition", first.Partition,
			"records", len(batch), "error", err)
		return nil
	case "ignore":
		return nil
	}
	return err
}

func (t *Task) encode(batch []*connect.Record) ([]byte, error) {
	b := t.body[:0]
	var err error
	if t.cfg.StringFormat {
		b = append(b, t.cfg.Prefix...)
		for i, r := range batch {
			if i > 0 {
				b = append(b, t.cfg.Separator...)
			}
			b = appendText(b, r.Value)
		}
		b = append(b, t.cfg.Suffix...)
	} else {
		b = append(b, '[')
		for i, r := range batch {
			if i > 0 {
				b = append(b, ',')
			}
			if t.cfg.Envelope {
				b, err = appendEnvelope(b, r)
			} else {
				b, err = appendValue(b, r.ValueSchema, r.Value, 0)
			}
			if err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	t.body = b
	return b, nil
}

// appendText renders a value for the string body format.
func appendText(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return append(b, x...)
	case []byte:
		return append(b, x...)
	case nil:
		return append(b, "null"...)
	}
	out, err := appendValue(b, nil, v, 0)
	if err != nil {
		return fmt.Append(b, v)
	}
	return out
}

// sendRetrying sends body until it is accepted, a non-retriable answer
// comes, or max.retries retries failed (then an ErrRetriable error).
func (t *Task) sendRetrying(ctx context.Context, body []byte) error {
	wait := t.cfg.Backoff
	for attempt := 0; ; attempt++ {
		retry, err := t.send(ctx, body)
		if err == nil || !retry {
			return err
		}
		if attempt >= t.cfg.MaxRetries {
			return fmt.Errorf("http sink: %d attempts failed, the last: %w: %w", attempt+1, err, connect.ErrRetriable)
		}
		t.log.Warn("http sink: request failed, retrying", "attempt", attempt+1, "wait", wait, "error", err)
		tm := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			tm.Stop()
			return fmt.Errorf("http sink: %w", ctx.Err())
		case <-tm.C:
		}
		wait = min(2*wait, t.cfg.BackoffMax)
	}
}

// send makes one request; retry says whether a failure may be retried.
func (t *Task) send(ctx context.Context, body []byte) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, t.cfg.Method, t.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("http sink: %w", err)
	}
	req.Header = t.cfg.Headers.Clone()
	if req.Header.Get("Content-Type") == "" {
		ct := "application/json"
		if t.cfg.StringFormat {
			ct = "text/plain; charset=utf-8"
		}
		req.Header.Set("Content-Type", ct)
	}
	if t.cfg.Basic {
		req.SetBasicAuth(t.cfg.User, t.cfg.Password)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return false, fmt.Errorf("http sink: %w", ctx.Err())
		}
		return true, fmt.Errorf("http sink: %s %s: %w", t.cfg.Method, t.cfg.URL, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, errorBodyLimit))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, nil
	}
	if len(msg) > 512 {
		msg = msg[:512]
	}
	return t.cfg.retryStatus(resp.StatusCode),
		fmt.Errorf("http sink: %s %s answered %s: %s", t.cfg.Method, t.cfg.URL, resp.Status, bytes.TrimSpace(msg))
}

// PreCommit implements connect.SinkTask: Put sends synchronously, so
// everything delivered may be committed.
func (t *Task) PreCommit(_ context.Context, current map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	return current, nil
}

// Stop closes idle connections.
func (t *Task) Stop() error {
	if t.client != nil {
		t.client.CloseIdleConnections()
	}
	return nil
}
