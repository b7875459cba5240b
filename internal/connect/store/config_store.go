package store

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/samsa-streaming/samsa/internal/connect/protocol"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ConfigStoreConfig configures a ConfigStore (config.storage.topic,
// config.storage.replication.factor).
type ConfigStoreConfig struct {
	TopicConfig
	Logger *slog.Logger
}

// Defaults fills Java's defaults: connect-configs, one partition.
func (c *ConfigStoreConfig) Defaults() {
	if c.Topic == "" {
		c.Topic = "connect-configs"
	}
	c.Partitions = 1 // Java always creates the config topic with one partition
}

// ConfigStore tails the config topic into a ConfigState and writes to it.
type ConfigStore struct {
	cfg     ConfigStoreConfig
	log     *topicLog
	updates chan struct{}

	mu    sync.Mutex
	state ConfigState // owned by the tail goroutine under mu
}

// NewConfigStore returns a store reaching the cluster with clientOpts
// (seed brokers, TLS, SASL); cfg gets Defaults.
func NewConfigStore(clientOpts []kgo.Opt, cfg ConfigStoreConfig) (*ConfigStore, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &ConfigStore{cfg: cfg, updates: make(chan struct{}, 1), state: NewConfigState()}
	s.log = newTopicLog(clientOpts, cfg.TopicConfig, cfg.Logger, s.onRecord)
	return s, nil
}

func (s *ConfigStore) onRecord(r *kgo.Record) {
	s.mu.Lock()
	err := s.state.apply(string(r.Key), r.Value, r.Offset)
	s.mu.Unlock()
	if err != nil {
		s.log.log.Warn("connect store: ignoring config record", "offset", r.Offset, "err", err)
	}
	select {
	case s.updates <- struct{}{}:
	default:
	}
}

// Start creates the topic if missing, reads it to the end and keeps
// tailing it until ctx ends or Close.
func (s *ConfigStore) Start(ctx context.Context) error { return s.log.start(ctx) }

// Close stops the tail and waits for it.
func (s *ConfigStore) Close() { s.log.close() }

// ReadToEnd waits until every record written before the call is in the
// snapshot.
func (s *ConfigStore) ReadToEnd(ctx context.Context) error { return s.log.readToEnd(ctx) }

// Updates is signalled (coalesced) after records were applied.
func (s *ConfigStore) Updates() <-chan struct{} { return s.updates }

// Snapshot returns the current state; the caller may keep it.
func (s *ConfigStore) Snapshot() ConfigState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.clone()
}

func (s *ConfigStore) write(ctx context.Context, recs ...*kgo.Record) error {
	if err := s.log.produce(ctx, recs...); err != nil {
		return err
	}
	return s.ReadToEnd(ctx)
}

func rec(key string, value []byte) *kgo.Record { return &kgo.Record{Key: []byte(key), Value: value} }

// PutConnectorConfig writes a connector's config, preceded by its target
// state when target is not "" (Java's initial_state).
func (s *ConfigStore) PutConnectorConfig(ctx context.Context, c string, props map[string]string, target string) error {
	var recs []*kgo.Record
	if target != "" {
		recs = append(recs, rec(TargetStateKey(c), EncodeTargetState(target)))
	}
	return s.write(ctx, append(recs, rec(ConnectorKey(c), EncodeConnectorConfig(props)))...)
}

// PutTaskConfigs writes every task's config then the commit record.
func (s *ConfigStore) PutTaskConfigs(ctx context.Context, c string, tasks []map[string]string) error {
	recs := make([]*kgo.Record, 0, len(tasks)+1)
	for i, t := range tasks {
		recs = append(recs, rec(TaskKey(protocol.TaskID{Connector: c, Task: int32(i)}), EncodeConnectorConfig(t)))
	}
	return s.write(ctx, append(recs, rec(CommitKey(c), EncodeTaskCommit(len(tasks))))...)
}

// PutTargetState writes STARTED, PAUSED or STOPPED.
func (s *ConfigStore) PutTargetState(ctx context.Context, c, state string) error {
	switch state {
	case TargetStarted, TargetPaused, TargetStopped:
	default:
		return errors.New("store: target state must be STARTED, PAUSED or STOPPED")
	}
	return s.write(ctx, rec(TargetStateKey(c), EncodeTargetState(state)))
}

// RemoveConnector writes tombstones for the config and the target state.
func (s *ConfigStore) RemoveConnector(ctx context.Context, c string) error {
	return s.write(ctx, rec(ConnectorKey(c), nil), rec(TargetStateKey(c), nil))
}

// RequestRestart writes a restart request.
func (s *ConfigStore) RequestRestart(ctx context.Context, r RestartRequest) error {
	return s.write(ctx, rec(RestartKey(r.Connector), EncodeRestartRequest(r)))
}

// PutSessionKey writes the session key.
func (s *ConfigStore) PutSessionKey(ctx context.Context, k SessionKey) error {
	return s.write(ctx, rec(SessionKeyKey, EncodeSessionKey(k)))
}

// PutTaskCountRecord writes tasks-fencing-<c> (exactly-once source).
func (s *ConfigStore) PutTaskCountRecord(ctx context.Context, c string, n int) error {
	return s.write(ctx, rec(TaskCountKey(c), EncodeTaskCount(n)))
}

// PutLoggerLevel writes a cluster-wide logger level.
func (s *ConfigStore) PutLoggerLevel(ctx context.Context, namespace, level string) error {
	return s.write(ctx, rec(LoggerKey(namespace), EncodeLoggerLevel(level)))
}

// Topic is the config topic's name.
func (s *ConfigStore) Topic() string { return s.log.cfg.Topic }
