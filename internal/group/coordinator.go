package group

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-streaming/samsa/internal/coordinator"
)

// writeTimeout bounds one append to __consumer_offsets, as Kafka's
// offsets.commit.timeout.ms (5 s) does.
const writeTimeout = 5 * time.Second

// Client identifies the connection a request came from.
type Client struct {
	ID   string // the request header's client ID
	Host string // as Kafka reports it: "/" + IP
}

// Coordinator is the group coordinator of one broker.
type Coordinator struct {
	cfg   Config
	lg    *slog.Logger
	clock Clock
	log   Log

	ctx    context.Context // ends at Close
	cancel context.CancelFunc

	skipped atomic.Int64 // records loads skipped (SkippedRecords)

	mu            sync.Mutex
	numPartitions int32
	shards        map[int32]*shard
	closed        bool
	retention     func() bool
}

type shardState int8

const (
	shardLoading shardState = iota
	shardActive
	shardGone
)

// shard is the state of one __consumer_offsets partition this broker leads.
type shard struct {
	c         *Coordinator
	partition int32

	mu     sync.Mutex
	state  shardState
	groups map[string]*group
	// pending holds transactional offsets by producer id until the
	// producer's marker commits or aborts them (txn_offsets.go).
	pending map[int64]*pendingTxn
	// completed are CompleteTransaction calls that arrived while the shard
	// was loading; they are applied after the replay.
	completed []txnCompletion
}

// New returns a coordinator that leads no partition yet.
func New(cfg Config) (*Coordinator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Coordinator{
		cfg: cfg, lg: cfg.Logger, clock: cfg.Clock, log: cfg.Log,
		ctx: ctx, cancel: cancel,
		shards: make(map[int32]*shard),
	}
	c.mu.Lock()
	c.scheduleRetention()
	c.mu.Unlock()
	return c, nil
}

// SetPartitionCount tells the coordinator how many partitions
// __consumer_offsets has; 0 while the topic does not exist.
func (c *Coordinator) SetPartitionCount(n int32) {
	c.mu.Lock()
	c.numPartitions = n
	c.mu.Unlock()
}

// PartitionCount is what SetPartitionCount set.
func (c *Coordinator) PartitionCount() int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.numPartitions
}

// PartitionOf returns the partition of a group, and false while
// __consumer_offsets does not exist.
func (c *Coordinator) PartitionOf(groupID string) (int32, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.numPartitions <= 0 {
		return 0, false
	}
	return coordinator.PartitionFor(groupID, c.numPartitions), true
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
// partition's leader, at leader epoch epoch): a new shard replaces the one
// p had, which is shut down first, so that its in-flight writes are in the
// log before the load reads it. Until load has replayed the partition,
// requests for its groups get COORDINATOR_LOAD_IN_PROGRESS. load returns
// nil, doing nothing, once the shard was unloaded or replaced.
func (c *Coordinator) BeginLoad(p, epoch int32) func(ctx context.Context, read coordinator.ReadFunc) error {
	s := c.addShard(p)
	return func(ctx context.Context, read coordinator.ReadFunc) error {
		if s == nil {
			return nil // closed
		}
		return c.load(ctx, s, read)
	}
}

// addShard registers a loading shard for p, replacing (and shutting down)
// the one p had; nil if c is closed.
func (c *Coordinator) addShard(p int32) *shard {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	old := c.shards[p]
	s := &shard{c: c, partition: p, state: shardLoading, groups: make(map[string]*group), pending: make(map[int64]*pendingTxn)}
	c.shards[p] = s
	c.mu.Unlock()
	if old != nil {
		old.shutdown()
	}
	return s
}

// load replays the partition and installs the groups it describes.
func (c *Coordinator) load(ctx context.Context, s *shard, read coordinator.ReadFunc) error {
	start := c.clock.Now()
	st := newLoadState()
	if err := read(ctx, st.apply); err != nil {
		return fmt.Errorf("group: load __consumer_offsets partition %d: %w", s.partition, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != shardLoading {
		return nil // resigned meanwhile
	}
	st.install(s)
	s.applyCompleted()
	s.state = shardActive
	c.reportSkips(s.partition, st)
	c.lg.Info("loaded __consumer_offsets partition", "partition", s.partition, "groups", len(s.groups), "records", st.records,
		"skipped", st.skipped, "took", c.clock.Now().Sub(start).Round(time.Millisecond))
	return nil
}

// reportSkips logs the records a load of partition p skipped (the first
// maxReportedSkips one by one, then a count) and counts them.
func (c *Coordinator) reportSkips(p int32, st *loadState) {
	if st.skipped == 0 {
		return
	}
	c.skipped.Add(int64(st.skipped))
	for _, sk := range st.skips {
		c.lg.Warn("skipped undecodable __consumer_offsets record while loading", "partition", p, "offset", sk.offset, "reason", sk.reason)
	}
	if more := st.skipped - len(st.skips); more > 0 {
		c.lg.Warn("skipped more undecodable __consumer_offsets records while loading", "partition", p, "more", more)
	}
}

// SkippedRecords is how many records loads skipped because they could not
// be decoded, since the coordinator started.
func (c *Coordinator) SkippedRecords() int64 { return c.skipped.Load() }

// Unload gives up partition p (coordinator.Shards): its groups are dropped
// from memory (the log keeps them) and parked requests get NOT_COORDINATOR.
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
	defer s.mu.Unlock()
	s.state = shardGone
	for _, g := range s.groups {
		g.shutdown()
	}
	s.groups = map[string]*group{}
	s.pending = map[int64]*pendingTxn{}
	s.completed = nil
}

// Close unloads every partition and stops every timer. Loads run on the
// runtime's goroutines; close the runtime first.
func (c *Coordinator) Close() {
	c.mu.Lock()
	c.closed = true
	if c.retention != nil {
		c.retention()
	}
	shards := c.shards
	c.shards = map[int32]*shard{}
	c.mu.Unlock()
	c.cancel()
	for _, s := range shards {
		s.shutdown()
	}
}

// lockShard finds and locks the shard of groupID. On success the caller
// must unlock s.mu; otherwise code is the Kafka error to answer.
func (c *Coordinator) lockShard(groupID string) (s *shard, code int16) {
	c.mu.Lock()
	if c.numPartitions <= 0 {
		c.mu.Unlock()
		return nil, kerr.CoordinatorNotAvailable.Code
	}
	s, ok := c.shards[coordinator.PartitionFor(groupID, c.numPartitions)]
	c.mu.Unlock()
	if !ok {
		return nil, kerr.NotCoordinator.Code
	}
	s.mu.Lock()
	switch s.state {
	case shardLoading:
		s.mu.Unlock()
		return nil, kerr.CoordinatorLoadInProgress.Code
	case shardGone:
		s.mu.Unlock()
		return nil, kerr.NotCoordinator.Code
	}
	return s, 0
}

// allShards returns every shard, for ListGroups and retention.
func (c *Coordinator) allShards() []*shard {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*shard, 0, len(c.shards))
	for _, s := range c.shards {
		out = append(out, s)
	}
	return out
}

// timer is a clock timer whose callback runs under its shard's lock, and
// not at all once cancelled (cancel is called under the same lock).
type timer struct {
	stop func() bool
	done bool
}

func (t *timer) cancel() {
	if t != nil && !t.done {
		t.done = true
		t.stop()
	}
}

// after runs fn under s.mu after d, unless cancelled or the shard is gone.
func (s *shard) after(d time.Duration, fn func()) *timer {
	t := &timer{}
	t.stop = s.c.clock.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if t.done || s.state != shardActive {
			return
		}
		t.done = true
		fn()
	})
	return t
}

// write appends records to the shard's partition; s.mu is held so that the
// log's order is the order of state changes.
func (s *shard) write(ctx context.Context, recs []Record) error {
	_, err := s.writeAt(ctx, recs)
	return err
}

// writeAt is write that also returns the offset of the first record.
func (s *shard) writeAt(ctx context.Context, recs []Record) (int64, error) {
	if len(recs) == 0 {
		return -1, nil
	}
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return s.c.log.Append(ctx, s.partition, recs)
}

// writeCode maps an append error to the code Kafka's coordinator answers.
func writeCode(err error) int16 {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrNotLeader):
		return kerr.NotCoordinator.Code
	default:
		return kerr.CoordinatorNotAvailable.Code
	}
}

func (s *shard) now() time.Time { return s.c.clock.Now() }

// newMemberID is Kafka's member id: prefix, '-', a random UUID.
func newMemberID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return prefix + "-" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// scheduleRetention arms the periodic offsets expiry; c.mu is held.
func (c *Coordinator) scheduleRetention() {
	if c.closed {
		return
	}
	c.retention = c.clock.AfterFunc(c.cfg.Settings.RetentionCheckInterval, func() {
		c.ExpireOffsets()
		c.mu.Lock()
		c.scheduleRetention()
		c.mu.Unlock()
	})
}
