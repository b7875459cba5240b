package txn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-streaming/samsa/internal/coordinator"
)

// writeTimeout bounds one append to __transaction_state (Kafka's
// request.timeout.ms for coordinator writes).
const writeTimeout = 5 * time.Second

// Coordinator is the transaction coordinator of one broker.
type Coordinator struct {
	cfg   Config
	lg    *slog.Logger
	clock Clock
	log   Log

	ctx    context.Context // ends at Close
	cancel context.CancelFunc

	mu            sync.Mutex
	markers       Markers
	ids           ProducerIDs
	numPartitions int32
	shards        map[int32]*shard
	closed        bool
	timers        map[string]func() bool
	bg            sync.WaitGroup // timer callbacks
}

type shardState int8

const (
	shardLoading shardState = iota
	shardActive
	shardGone
)

// shard is the state of one __transaction_state partition this broker
// leads.
type shard struct {
	c          *Coordinator
	partition  int32
	coordEpoch int32

	mu    sync.Mutex
	state shardState
	txns  map[string]*meta
}

// New returns a coordinator that leads no partition yet. Its periodic work
// (aborting timed-out transactions, expiring idle ids, retrying markers)
// runs on Clock timers until Close.
func New(cfg Config) (*Coordinator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Coordinator{
		cfg: cfg, lg: cfg.Logger, clock: cfg.Clock, log: cfg.Log,
		ctx: ctx, cancel: cancel,
		markers: cfg.Markers, ids: cfg.IDs,
		shards: make(map[int32]*shard),
		timers: make(map[string]func() bool),
	}
	c.mu.Lock()
	c.every("abort-timed-out", cfg.Settings.AbortInterval, func() { c.AbortTimedOut(c.ctx) })
	c.every("expire-ids", cfg.Settings.RemoveExpiredInterval, func() { c.ExpireIDs(c.ctx) })
	c.every("retry-markers", cfg.Settings.MarkerRetryInterval, func() { c.CompletePending(c.ctx) })
	c.mu.Unlock()
	return c, nil
}

// Attach supplies the marker writer and the producer id source when they
// were not known at New (the broker is built after the coordinator). It must
// be called before the coordinator leads a partition.
func (c *Coordinator) Attach(m Markers, ids ProducerIDs) {
	c.mu.Lock()
	c.markers, c.ids = m, ids
	c.mu.Unlock()
}

func (c *Coordinator) deps() (Markers, ProducerIDs) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.markers, c.ids
}

// every runs fn every d on the clock until Close; c.mu is held.
func (c *Coordinator) every(name string, d time.Duration, fn func()) {
	if c.closed {
		return
	}
	c.timers[name] = c.clock.AfterFunc(d, func() {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return
		}
		c.bg.Add(1)
		c.mu.Unlock()
		defer c.bg.Done()
		fn()
		c.mu.Lock()
		c.every(name, d, fn)
		c.mu.Unlock()
	})
}

// SetPartitionCount tells the coordinator how many partitions
// __transaction_state has; 0 while the topic does not exist.
func (c *Coordinator) SetPartitionCount(n int32) {
	c.mu.Lock()
	c.numPartitions = n
	c.mu.Unlock()
}

// Leads reports whether this coordinator leads partition p (loaded or
// loading).
func (c *Coordinator) Leads(p int32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.shards[p]
	return ok
}

// BeginLoad makes this coordinator the coordinator of partition p
// (coordinator.Shards; the runtime calls it when this broker becomes the
// partition's leader), whose leader epoch epoch is the coordinator epoch
// markers carry. A new shard replaces the one p had, which is shut down
// first. Until load has replayed the partition, requests for its ids get
// COORDINATOR_LOAD_IN_PROGRESS; load then completes the transactions found
// in PrepareCommit or PrepareAbort. load returns nil, doing nothing, once
// the shard was unloaded or replaced.
func (c *Coordinator) BeginLoad(p, epoch int32) func(ctx context.Context, read coordinator.ReadFunc) error {
	s := c.addShard(p, epoch)
	return func(ctx context.Context, read coordinator.ReadFunc) error {
		if s == nil {
			return nil // closed
		}
		return c.load(ctx, s, read)
	}
}

// addShard registers a loading shard for p, replacing (and shutting down)
// the one p had; nil if c is closed.
func (c *Coordinator) addShard(p, coordEpoch int32) *shard {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	old := c.shards[p]
	s := &shard{c: c, partition: p, coordEpoch: coordEpoch, state: shardLoading, txns: make(map[string]*meta)}
	c.shards[p] = s
	c.mu.Unlock()
	if old != nil {
		old.shutdown()
	}
	return s
}

// load replays the partition, installs the transactions it describes and
// completes those that were between their Prepare and Complete records.
func (c *Coordinator) load(ctx context.Context, s *shard, read coordinator.ReadFunc) error {
	start := c.clock.Now()
	txns := make(map[string]*meta)
	records, skipped := 0, 0
	err := read(ctx, func(r coordinator.Replayed) error {
		if r.Marker {
			return nil
		}
		key, value := r.Key, r.Value
		records++
		id, ok, err := decodeKey(key)
		if err != nil || !ok {
			skipped++
			return nil
		}
		if value == nil {
			delete(txns, id)
			return nil
		}
		m, err := decodeValue(id, value)
		if err != nil {
			// Kafka fails the load on a value it cannot read; one bad
			// record must not make every id of the partition unusable,
			// so it is skipped and counted instead.
			skipped++
			c.lg.Warn("skipping unreadable __transaction_state record", "partition", s.partition, "transactional_id", id, "err", err)
			return nil
		}
		txns[id] = m
		return nil
	})
	if err != nil {
		return fmt.Errorf("txn: load __transaction_state partition %d: %w", s.partition, err)
	}
	var pending []string
	s.mu.Lock()
	if s.state != shardLoading {
		s.mu.Unlock()
		return nil // resigned meanwhile
	}
	for id, m := range txns {
		if m.state == Dead {
			continue
		}
		s.txns[id] = m
		if m.state == PrepareCommit || m.state == PrepareAbort {
			pending = append(pending, id)
		}
	}
	s.state = shardActive
	s.mu.Unlock()
	c.lg.Info("loaded __transaction_state partition", "partition", s.partition, "transactional_ids", len(txns),
		"records", records, "skipped", skipped, "to_complete", len(pending), "took", c.clock.Now().Sub(start).Round(time.Millisecond))
	for _, id := range pending {
		if err := c.finish(ctx, s, id); err != nil {
			c.lg.Info("completing a transaction after load failed; will retry", "transactional_id", id, "err", err)
		}
	}
	return nil
}

// Unload gives up partition p (coordinator.Shards): its transactions are
// dropped from memory (the log keeps them).
func (c *Coordinator) Unload(p int32) {
	c.mu.Lock()
	s, ok := c.shards[p]
	delete(c.shards, p)
	c.mu.Unlock()
	if ok {
		s.shutdown()
	}
}

func (s *shard) shutdown() {
	s.mu.Lock()
	s.state = shardGone
	s.txns = map[string]*meta{}
	s.mu.Unlock()
}

// Close unloads every partition, stops the timers and waits for any running
// timer callback. Loads run on the runtime's goroutines; close the runtime
// first.
func (c *Coordinator) Close() {
	c.mu.Lock()
	c.closed = true
	for _, stop := range c.timers {
		stop()
	}
	shards := c.shards
	c.shards = map[int32]*shard{}
	c.mu.Unlock()
	c.cancel()
	for _, s := range shards {
		s.shutdown()
	}
	c.bg.Wait()
}

// shardOf finds and locks the shard of id. On success the caller must
// unlock s.mu; otherwise err is the Kafka error to answer.
func (c *Coordinator) lockShard(id string) (*shard, error) {
	c.mu.Lock()
	if c.numPartitions <= 0 {
		c.mu.Unlock()
		return nil, kerr.CoordinatorNotAvailable
	}
	s, ok := c.shards[coordinator.PartitionFor(id, c.numPartitions)]
	c.mu.Unlock()
	if !ok {
		return nil, kerr.NotCoordinator
	}
	s.mu.Lock()
	switch s.state {
	case shardLoading:
		s.mu.Unlock()
		return nil, kerr.CoordinatorLoadInProgress
	case shardGone:
		s.mu.Unlock()
		return nil, kerr.NotCoordinator
	}
	return s, nil
}

// allShards returns every shard.
func (c *Coordinator) allShards() []*shard {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*shard, 0, len(c.shards))
	for _, s := range c.shards {
		out = append(out, s)
	}
	return out
}

// persist appends n's record and installs n; s.mu is held, so the log's
// order is the order of state changes.
func (s *shard) persist(ctx context.Context, n *meta) error {
	if err := s.write(ctx, []Record{n.record()}); err != nil {
		return err
	}
	s.txns[n.id] = n
	return nil
}

func (s *shard) write(ctx context.Context, recs []Record) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	_, err := s.c.log.Append(ctx, s.partition, recs)
	if err != nil {
		s.c.lg.Warn("append to __transaction_state failed", "partition", s.partition, "err", err)
	}
	return writeErr(err)
}

// writeErr maps an append error to what Kafka's coordinator answers.
func writeErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotLeader):
		return kerr.NotCoordinator
	default:
		return kerr.CoordinatorNotAvailable
	}
}

func (c *Coordinator) nowMs() int64 { return c.clock.Now().UnixMilli() }
