package store

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// OffsetStoreConfig configures an OffsetStore (offset.storage.topic,
// offset.storage.partitions, offset.storage.replication.factor).
type OffsetStoreConfig struct {
	TopicConfig
	Logger *slog.Logger
}

// Defaults fills Java's defaults: connect-offsets, 25 partitions.
func (c *OffsetStoreConfig) Defaults() {
	if c.Topic == "" {
		c.Topic = "connect-offsets"
	}
	if c.Partitions == 0 {
		c.Partitions = 25
	}
}

// SourceOffset is one source partition's committed offset; a nil Offset
// in Put deletes it (a tombstone).
type SourceOffset struct {
	Partition map[string]any
	Offset    map[string]any
}

type offsetEntry struct {
	key       []byte // as found on the topic, reused for rewrites
	partition map[string]any
	offset    map[string]any
}

// OffsetStore tails the offsets topic and writes source offsets.
// Partition maps are compared by content: {"a":1,"b":2} written by Java
// in any key order is the same partition.
type OffsetStore struct {
	log *topicLog

	mu      sync.Mutex
	entries map[string]map[string]offsetEntry // connector -> canonical partition -> entry
}

// NewOffsetStore returns a store reaching the cluster with clientOpts;
// cfg gets Defaults.
func NewOffsetStore(clientOpts []kgo.Opt, cfg OffsetStoreConfig) (*OffsetStore, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &OffsetStore{entries: map[string]map[string]offsetEntry{}}
	s.log = newTopicLog(clientOpts, cfg.TopicConfig, cfg.Logger, s.onRecord)
	return s, nil
}

// EncodeOffsetKey is Java's offset key, ["<connector>",{partition}].
func EncodeOffsetKey(connector string, partition map[string]any) []byte {
	return appendJSON(nil, []any{connector, partition})
}

// EncodeOffsetValue is the offset map as JSON (nil for a tombstone).
func EncodeOffsetValue(offset map[string]any) []byte {
	if offset == nil {
		return nil
	}
	return appendJSON(nil, offset)
}

// DecodeOffsetKey parses ["<connector>",{partition}].
func DecodeOffsetKey(key []byte) (string, map[string]any, error) {
	v, err := decodeJSON(key)
	if err != nil {
		return "", nil, err
	}
	arr, ok := v.([]any)
	if !ok || len(arr) != 2 {
		return "", nil, fmt.Errorf("store: offset key is not a [connector, partition] pair")
	}
	c, ok := arr[0].(string)
	if !ok {
		return "", nil, fmt.Errorf("store: offset key's connector is %T", arr[0])
	}
	p, ok := arr[1].(map[string]any)
	if !ok && arr[1] != nil {
		return "", nil, fmt.Errorf("store: offset key's partition is %T", arr[1])
	}
	return c, p, nil
}

func canonical(partition map[string]any) string { return string(appendJSON(nil, partition)) }

func (s *OffsetStore) onRecord(r *kgo.Record) {
	c, p, err := DecodeOffsetKey(r.Key)
	if err != nil {
		s.log.log.Warn("connect store: ignoring offset record", "offset", r.Offset, "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	byPart := s.entries[c]
	if r.Value == nil {
		delete(byPart, canonical(p))
		return
	}
	v, err := decodeJSON(r.Value)
	off, ok := v.(map[string]any)
	if err != nil || !ok {
		s.log.log.Warn("connect store: ignoring offset value", "offset", r.Offset, "err", err)
		return
	}
	if byPart == nil {
		byPart = map[string]offsetEntry{}
		s.entries[c] = byPart
	}
	byPart[canonical(p)] = offsetEntry{key: r.Key, partition: p, offset: off}
}

// Start creates the topic if missing, reads it to the end and keeps
// tailing it until ctx ends or Close.
func (s *OffsetStore) Start(ctx context.Context) error { return s.log.start(ctx) }

// Close stops the tail and waits for it.
func (s *OffsetStore) Close() { s.log.close() }

// ReadToEnd waits until every offset written before the call is visible.
func (s *OffsetStore) ReadToEnd(ctx context.Context) error { return s.log.readToEnd(ctx) }

// Get returns a source partition's committed offset.
func (s *OffsetStore) Get(connector string, partition map[string]any) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[connector][canonical(partition)]
	return e.offset, ok
}

// All returns a connector's offsets, ordered by partition.
func (s *OffsetStore) All(connector string) []SourceOffset {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := sortedKeys(s.entries[connector])
	out := make([]SourceOffset, 0, len(keys))
	for _, k := range keys {
		e := s.entries[connector][k]
		out = append(out, SourceOffset{Partition: e.partition, Offset: e.offset})
	}
	return out
}

// Connectors returns the connectors that have offsets, sorted.
func (s *OffsetStore) Connectors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for c, m := range s.entries {
		if len(m) > 0 {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

// Put writes offsets (nil Offset deletes) and waits until they are read
// back. A partition already on the topic is rewritten under the exact
// key bytes found there, so compaction and partitioning match.
func (s *OffsetStore) Put(ctx context.Context, connector string, offsets []SourceOffset) error {
	if len(offsets) == 0 {
		return nil
	}
	recs := make([]*kgo.Record, 0, len(offsets))
	s.mu.Lock()
	for _, o := range offsets {
		key := EncodeOffsetKey(connector, o.Partition)
		if e, ok := s.entries[connector][canonical(o.Partition)]; ok {
			key = e.key
		}
		recs = append(recs, &kgo.Record{Key: key, Value: EncodeOffsetValue(o.Offset)})
	}
	s.mu.Unlock()
	if err := s.log.produce(ctx, recs...); err != nil {
		return err
	}
	return s.ReadToEnd(ctx)
}

// Delete removes one source partition's offset.
func (s *OffsetStore) Delete(ctx context.Context, connector string, partition map[string]any) error {
	return s.Put(ctx, connector, []SourceOffset{{Partition: partition}})
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// KeyFor returns the key bytes to write a partition's offset under: the
// exact bytes already on the topic if there are any (Java may order the
// partition map differently), else EncodeOffsetKey. For runtimes that
// write offsets in their own (exactly-once) transactions.
func (s *OffsetStore) KeyFor(connector string, partition map[string]any) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[connector][canonical(partition)]; ok {
		return e.key
	}
	return EncodeOffsetKey(connector, partition)
}

// Topic is the offsets topic's name.
func (s *OffsetStore) Topic() string { return s.log.cfg.Topic }
