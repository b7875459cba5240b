package share

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-streaming/samsa/internal/coordinator"
)

// Log appends records to a __share_group_state partition, acks=all
// (coordinator.Writer).
type Log interface {
	Append(ctx context.Context, p int32, recs []coordinator.Record) (int64, error)
}

// Coordinator is the share coordinator (Kafka's ShareCoordinatorService):
// one StateStore per __share_group_state partition this broker leads,
// loaded and unloaded by the coordinator runtime (coordinator.Shards).
// Safe for concurrent use: mu guards the shard map, each shard's mu is
// held across its append so the log order is the order of changes.
type Coordinator struct {
	log                Log
	lg                 *slog.Logger
	updatesPerSnapshot int
	now                func() int64

	mu     sync.Mutex
	n      int32
	shards map[int32]*stateShard
}

type stateShard struct {
	mu      sync.Mutex
	loading bool
	gone    bool
	store   *StateStore
}

// NewCoordinator returns a share coordinator writing through log; now
// gives the record timestamps (milliseconds).
func NewCoordinator(log Log, lg *slog.Logger, updatesPerSnapshot int, now func() int64) *Coordinator {
	return &Coordinator{log: log, lg: lg, updatesPerSnapshot: updatesPerSnapshot, now: now, shards: map[int32]*stateShard{}}
}

// CoordinatorKey is Kafka's share-partition key for FindCoordinator type
// SHARE and for placing its state: "group:topicId:partition", the topic id
// in Kafka's URL-safe base64.
func CoordinatorKey(k PartKey) string {
	return k.Group + ":" + base64.RawURLEncoding.EncodeToString(k.Topic[:]) + ":" + strconv.Itoa(int(k.Partition))
}

// SetPartitionCount implements coordinator.Shards.
func (c *Coordinator) SetPartitionCount(n int32) {
	c.mu.Lock()
	c.n = n
	c.mu.Unlock()
}

// BeginLoad implements coordinator.Shards: the shard answers
// COORDINATOR_LOAD_IN_PROGRESS until its partition is replayed.
func (c *Coordinator) BeginLoad(p, _ int32) func(ctx context.Context, read coordinator.ReadFunc) error {
	s := &stateShard{loading: true, store: NewStateStore(c.updatesPerSnapshot)}
	c.mu.Lock()
	if old, ok := c.shards[p]; ok {
		old.mu.Lock()
		old.gone = true
		old.mu.Unlock()
	}
	c.shards[p] = s
	c.mu.Unlock()
	return func(ctx context.Context, read coordinator.ReadFunc) error {
		store := NewStateStore(c.updatesPerSnapshot)
		skipped := 0
		err := read(ctx, func(r coordinator.Replayed) error {
			if r.Marker || r.Key == nil {
				return nil
			}
			if err := store.Apply(Rec{Key: r.Key, Value: r.Value}); err != nil {
				skipped++
			}
			return nil
		})
		if err != nil {
			return err
		}
		if skipped > 0 {
			c.lg.Warn("skipped undecodable __share_group_state records", "partition", p, "records", skipped)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.gone {
			s.store, s.loading = store, false
		}
		return nil
	}
}

// Unload implements coordinator.Shards.
func (c *Coordinator) Unload(p int32) {
	c.mu.Lock()
	s, ok := c.shards[p]
	delete(c.shards, p)
	c.mu.Unlock()
	if ok {
		s.mu.Lock()
		s.gone = true
		s.mu.Unlock()
	}
}

// Partition is the __share_group_state partition holding k's state, and
// false while the topic does not exist.
func (c *Coordinator) Partition(k PartKey) (int32, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n <= 0 {
		return 0, false
	}
	return coordinator.PartitionFor(CoordinatorKey(k), c.n), true
}

// lock returns k's shard locked, or NOT_COORDINATOR /
// COORDINATOR_LOAD_IN_PROGRESS / COORDINATOR_NOT_AVAILABLE.
func (c *Coordinator) lock(k PartKey) (*stateShard, int32, error) {
	p, ok := c.Partition(k)
	if !ok {
		return nil, 0, fmt.Errorf("share: no %s yet: %w", coordinator.ShareGroupStateTopic, kerr.CoordinatorNotAvailable)
	}
	c.mu.Lock()
	s, ok := c.shards[p]
	c.mu.Unlock()
	if !ok {
		return nil, p, fmt.Errorf("share: not the coordinator of %s partition %d: %w", coordinator.ShareGroupStateTopic, p, kerr.NotCoordinator)
	}
	s.mu.Lock()
	switch {
	case s.gone:
		s.mu.Unlock()
		return nil, p, fmt.Errorf("share: %s partition %d moved: %w", coordinator.ShareGroupStateTopic, p, kerr.NotCoordinator)
	case s.loading:
		s.mu.Unlock()
		return nil, p, fmt.Errorf("share: %s partition %d loading: %w", coordinator.ShareGroupStateTopic, p, kerr.CoordinatorLoadInProgress)
	}
	return s, p, nil
}

// Read is ReadShareGroupState: ok is false when k has no state.
func (c *Coordinator) Read(k PartKey) (StateValue, bool, error) {
	s, _, err := c.lock(k)
	if err != nil {
		return StateValue{}, false, err
	}
	defer s.mu.Unlock()
	v, ok := s.store.Get(k)
	return v, ok, nil
}

// Initialize is InitializeShareGroupState.
func (c *Coordinator) Initialize(ctx context.Context, k PartKey, stateEpoch int32, start int64) error {
	return c.change(ctx, k, func(st *StateStore) ([]Rec, error) { return st.Initialize(k, stateEpoch, start, c.now()) })
}

// Write is WriteShareGroupState.
func (c *Coordinator) Write(ctx context.Context, k PartKey, stateEpoch, leaderEpoch int32, start int64, batches []StateBatch) error {
	return c.change(ctx, k, func(st *StateStore) ([]Rec, error) {
		return st.Write(k, stateEpoch, leaderEpoch, start, batches, -1, c.now())
	})
}

// Delete is DeleteShareGroupState.
func (c *Coordinator) Delete(ctx context.Context, k PartKey) error {
	return c.change(ctx, k, func(st *StateStore) ([]Rec, error) { return st.Delete(k), nil })
}

// change decides records under the shard lock, appends them (acks=all)
// and folds them in once durable.
func (c *Coordinator) change(ctx context.Context, k PartKey, decide func(*StateStore) ([]Rec, error)) error {
	s, p, err := c.lock(k)
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	recs, err := decide(s.store)
	if err != nil || len(recs) == 0 {
		return err
	}
	out := make([]coordinator.Record, len(recs))
	for i, r := range recs {
		out[i] = coordinator.Record{Key: r.Key, Value: r.Value}
	}
	if _, err := c.log.Append(ctx, p, out); err != nil {
		return fmt.Errorf("share: write %s partition %d: %w", coordinator.ShareGroupStateTopic, p, err)
	}
	var errs []error
	for _, r := range recs {
		errs = append(errs, s.store.Apply(r))
	}
	return errors.Join(errs...)
}
