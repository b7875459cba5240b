package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/samsa-streaming/samsa/internal/metadata"
)

// Config configures a Runtime.
type Config struct {
	// NodeID is this broker.
	NodeID int32
	// Images is the current metadata image: the writer and the loader
	// check leadership against it.
	Images Images
	// Partitions are this broker's replicas.
	Partitions Partitions
	// Clock stamps batches and times load retries.
	Clock  Clock
	Logger *slog.Logger
	// Backoff is the load retry schedule; zero: 100 ms doubling to 5 s.
	Backoff Backoff
}

// Runtime runs the coordinators of one broker over their internal topics:
// it writes their records (Writer), and, following the metadata images,
// makes each coordinator own exactly the shards of the partitions this
// broker leads, loading them in the background.
type Runtime struct {
	cfg Config
	lg  *slog.Logger

	ctx    context.Context // ends at Close; parent of every load
	cancel context.CancelFunc
	loads  sync.WaitGroup

	skipped atomic.Int64 // batches loads skipped (SkippedBatches)

	mu     sync.Mutex
	topics map[string]*topicRuntime
	synced int64 // offset of the last image synced
	closed bool
}

// topicRuntime is the ownership of one internal topic's shards.
type topicRuntime struct {
	leaders leaders
	shards  Shards
	loader  loader
	owned   map[int32]*ownership
}

// ownership is one partition this broker leads: the leader epoch its
// shard was loaded for, and the cancel of that load.
type ownership struct {
	epoch  int32
	cancel context.CancelFunc
}

// New returns a runtime that owns nothing yet.
func New(cfg Config) (*Runtime, error) {
	if cfg.Images == nil || cfg.Partitions == nil || cfg.Clock == nil || cfg.Logger == nil {
		return nil, errors.New("coordinator: Images, Partitions, Clock and Logger are required")
	}
	if cfg.Backoff.Min <= 0 || cfg.Backoff.Max < cfg.Backoff.Min {
		cfg.Backoff = Backoff{Min: defaultMinBackoff, Max: defaultMaxBackoff}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Runtime{cfg: cfg, lg: cfg.Logger, ctx: ctx, cancel: cancel, topics: make(map[string]*topicRuntime), synced: -1}, nil
}

func (r *Runtime) leaders(topic string) leaders {
	return leaders{topic: topic, nodeID: r.cfg.NodeID, images: r.cfg.Images, parts: r.cfg.Partitions, lg: r.lg, skipped: &r.skipped}
}

// SkippedBatches is how many undecodable batches loads have skipped since
// the runtime started (each also logged at WARN).
func (r *Runtime) SkippedBatches() int64 { return r.skipped.Load() }

// Writer returns the partition writer of an internal topic.
func (r *Runtime) Writer(topic string) *Writer {
	return &Writer{leaders: r.leaders(topic), clock: r.cfg.Clock}
}

// Register makes shards the coordinator of topic's partitions: from the
// next Sync on, it owns the shards of the partitions this broker leads. A
// second coordinator of the same topic is a wiring error: Register panics,
// as http.ServeMux.Handle does for a duplicate pattern.
func (r *Runtime) Register(topic string, shards Shards) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.topics[topic]; ok {
		panic(fmt.Sprintf("coordinator: %s already has a coordinator", topic))
	}
	l := r.leaders(topic)
	r.topics[topic] = &topicRuntime{
		leaders: l, shards: shards, owned: make(map[int32]*ownership),
		loader: loader{topic: topic, lg: r.lg, clock: r.cfg.Clock, backoff: r.cfg.Backoff, read: l.read},
	}
}

// Sync makes every registered coordinator own exactly the shards of the
// partitions of its topic that this broker leads and hosts in img: shards
// of newly led partitions start loading, shards of partitions no longer
// led are unloaded (their loads cancelled), and a partition led at a new
// leader epoch is loaded again (another leader may have written in
// between). The node calls it at start and after every metadata image, in
// order; an image older than one already synced is ignored. Loads run in
// the background; Sync waits only for a shard it replaces or unloads to
// finish an append in flight (at most CommitTimeout).
func (r *Runtime) Sync(img *metadata.Image) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || img.Offset < r.synced {
		return
	}
	r.synced = img.Offset
	for _, t := range r.topics {
		r.syncTopic(t, img)
	}
}

// syncTopic is Sync for one topic; r.mu is held.
func (r *Runtime) syncTopic(t *topicRuntime, img *metadata.Image) {
	want := make(map[int32]int32) // partition → leader epoch
	mt, ok := img.Topics[t.leaders.topic]
	if ok {
		t.shards.SetPartitionCount(int32(len(mt.Partitions)))
		for _, mp := range mt.Partitions {
			if _, hosted := t.leaders.parts.Partition(t.leaders.topic, mp.Index); hosted && mp.Leader == r.cfg.NodeID {
				want[mp.Index] = mp.LeaderEpoch
			}
		}
	} else {
		t.shards.SetPartitionCount(0)
	}
	for p, o := range t.owned {
		epoch, keep := want[p]
		switch {
		case !keep:
			o.cancel()
			delete(t.owned, p)
			t.shards.Unload(p)
			r.lg.Info("unloaded coordinator shard", "topic", t.leaders.topic, "partition", p, "leader_epoch", o.epoch)
		case epoch != o.epoch:
			o.cancel()
			delete(t.owned, p) // loaded again below, at the new epoch
		}
	}
	for p, epoch := range want {
		if _, ok := t.owned[p]; !ok {
			r.startLoad(t, p, epoch)
		}
	}
}

// startLoad makes t's coordinator own partition p at epoch and loads it in
// the background; r.mu is held.
func (r *Runtime) startLoad(t *topicRuntime, p, epoch int32) {
	load := t.shards.BeginLoad(p, epoch)
	ctx, cancel := context.WithCancel(r.ctx)
	t.owned[p] = &ownership{epoch: epoch, cancel: cancel}
	r.lg.Info("loading coordinator shard", "topic", t.leaders.topic, "partition", p, "leader_epoch", epoch)
	r.loads.Go(func() { // owned by r; stopped by Sync (cancel) or Close; waited by Close
		defer cancel()
		t.loader.run(ctx, p, epoch, load)
	})
}

// Close cancels every load, waits for them, and unloads every shard. Sync
// does nothing afterwards. Call it before closing the coordinators.
func (r *Runtime) Close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.loads.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.topics {
		for p := range t.owned {
			t.shards.Unload(p)
		}
		clear(t.owned)
	}
}
