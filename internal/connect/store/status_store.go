package store

import (
	"context"
	"log/slog"
	"sync"

	"github.com/samsa-streaming/samsa/internal/connect/protocol"
	"github.com/twmb/franz-go/pkg/kgo"
)

// StatusStoreConfig configures a StatusStore (status.storage.topic,
// status.storage.partitions, status.storage.replication.factor).
type StatusStoreConfig struct {
	TopicConfig
	Logger *slog.Logger
}

// Defaults fills Java's defaults: connect-status, 5 partitions.
func (c *StatusStoreConfig) Defaults() {
	if c.Topic == "" {
		c.Topic = "connect-status"
	}
	if c.Partitions == 0 {
		c.Partitions = 5
	}
}

// StatusStore tails the status topic and writes statuses.
type StatusStore struct {
	log     *topicLog
	updates chan struct{}

	mu    sync.Mutex
	state StatusState
}

// NewStatusStore returns a store reaching the cluster with clientOpts;
// cfg gets Defaults.
func NewStatusStore(clientOpts []kgo.Opt, cfg StatusStoreConfig) (*StatusStore, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &StatusStore{updates: make(chan struct{}, 1), state: NewStatusState()}
	s.log = newTopicLog(clientOpts, cfg.TopicConfig, cfg.Logger, s.onRecord)
	return s, nil
}

func (s *StatusStore) onRecord(r *kgo.Record) {
	s.mu.Lock()
	err := s.state.apply(string(r.Key), r.Value)
	s.mu.Unlock()
	if err != nil {
		s.log.log.Warn("connect store: ignoring status record", "offset", r.Offset, "err", err)
	}
	select {
	case s.updates <- struct{}{}:
	default:
	}
}

// Start creates the topic if missing, reads it to the end and keeps
// tailing it until ctx ends or Close.
func (s *StatusStore) Start(ctx context.Context) error { return s.log.start(ctx) }

// Close stops the tail and waits for it.
func (s *StatusStore) Close() { s.log.close() }

// ReadToEnd waits until every status written before the call is visible.
func (s *StatusStore) ReadToEnd(ctx context.Context) error { return s.log.readToEnd(ctx) }

// Updates is signalled (coalesced) after records were applied.
func (s *StatusStore) Updates() <-chan struct{} { return s.updates }

// All returns the current state; the caller may keep it.
func (s *StatusStore) All() StatusState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.clone()
}

// Connector returns a connector's status.
func (s *StatusStore) Connector(c string) (Status, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.state.Connectors[c]
	return st, ok
}

// Task returns a task's status.
func (s *StatusStore) Task(id protocol.TaskID) (Status, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.state.Tasks[id]
	return st, ok
}

func (s *StatusStore) write(ctx context.Context, recs ...*kgo.Record) error {
	if err := s.log.produce(ctx, recs...); err != nil {
		return err
	}
	return s.ReadToEnd(ctx)
}

// PutConnector writes a connector's status.
func (s *StatusStore) PutConnector(ctx context.Context, c string, st Status) error {
	return s.write(ctx, rec(StatusConnectorKey(c), EncodeStatus(st)))
}

// PutTask writes a task's status.
func (s *StatusStore) PutTask(ctx context.Context, id protocol.TaskID, st Status) error {
	return s.write(ctx, rec(StatusTaskKey(id), EncodeStatus(st)))
}

// canWriteSafely is Java's putSafe rule: write unless another worker
// reported from a newer generation.
func canWriteSafely(cur Status, ok bool, st Status) bool {
	return !ok || cur.WorkerID == st.WorkerID || cur.Generation <= st.Generation
}

// PutConnectorSafe writes unless another worker holds a newer status.
func (s *StatusStore) PutConnectorSafe(ctx context.Context, c string, st Status) error {
	if cur, ok := s.Connector(c); !canWriteSafely(cur, ok, st) {
		return nil
	}
	return s.PutConnector(ctx, c, st)
}

// PutTaskSafe writes unless another worker holds a newer status.
func (s *StatusStore) PutTaskSafe(ctx context.Context, id protocol.TaskID, st Status) error {
	if cur, ok := s.Task(id); !canWriteSafely(cur, ok, st) {
		return nil
	}
	return s.PutTask(ctx, id, st)
}

// PutTopic records that a connector used a topic.
func (s *StatusStore) PutTopic(ctx context.Context, t TopicStatus) error {
	return s.write(ctx, rec(StatusTopicKey(t.Topic, t.Connector), EncodeTopicStatus(t)))
}

// DeleteTopics forgets a connector's active topics (PUT …/topics/reset).
func (s *StatusStore) DeleteTopics(ctx context.Context, c string) error {
	s.mu.Lock()
	var recs []*kgo.Record
	for _, t := range sortedKeys(s.state.Topics[c]) {
		recs = append(recs, rec(StatusTopicKey(t, c), nil))
	}
	s.mu.Unlock()
	if len(recs) == 0 {
		return nil
	}
	return s.write(ctx, recs...)
}

// DeleteConnector writes tombstones for a connector's status and its
// tasks' statuses.
func (s *StatusStore) DeleteConnector(ctx context.Context, c string) error {
	s.mu.Lock()
	recs := []*kgo.Record{rec(StatusConnectorKey(c), nil)}
	for id := range s.state.Tasks {
		if id.Connector == c {
			recs = append(recs, rec(StatusTaskKey(id), nil))
		}
	}
	s.mu.Unlock()
	return s.write(ctx, recs...)
}

// Topic is the status topic's name.
func (s *StatusStore) Topic() string { return s.log.cfg.Topic }
