package replication

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
)

// Clock tells the time.
type Clock interface{ Now() time.Time }

// Config configures a Replicator. The settings carry Kafka's names.
type Config struct {
	NodeID int32
	Parts  *partition.Manager
	// Image returns the current cluster image.
	Image func() *metadata.Image
	// Propose commits a metadata record through the controller.
	Propose func(ctx context.Context, r metadata.Record) error
	Logger  *slog.Logger
	Clock   Clock

	FetchMaxBytes         int32         // replica.fetch.max.bytes
	FetchResponseMaxBytes int32         // replica.fetch.response.max.bytes
	FetchWait             time.Duration // replica.fetch.wait.max.ms
	FetchMinBytes         int32         // replica.fetch.min.bytes
	FetchBackoff          time.Duration // replica.fetch.backoff.ms
	LagTimeMax            time.Duration // replica.lag.time.max.ms
	// RequestTimeout bounds one request to a leader.
	RequestTimeout time.Duration
	// Dial connects to a leader's inter-broker listener (TLS when it is an
	// SSL listener); nil: plain TCP.
	Dial func(ctx context.Context, addr string) (net.Conn, error)
}

// Defaults fills zero settings with Kafka's defaults.
func (c Config) Defaults() Config {
	if c.FetchMaxBytes == 0 {
		c.FetchMaxBytes = 1 << 20
	}
	if c.FetchResponseMaxBytes == 0 {
		c.FetchResponseMaxBytes = 10 << 20
	}
	if c.FetchWait == 0 {
		c.FetchWait = 500 * time.Millisecond
	}
	if c.FetchMinBytes == 0 {
		c.FetchMinBytes = 1
	}
	if c.FetchBackoff == 0 {
		c.FetchBackoff = time.Second
	}
	if c.LagTimeMax == 0 {
		c.LagTimeMax = 30 * time.Second
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 30 * time.Second
	}
	return c
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	switch {
	case c.Parts == nil || c.Image == nil || c.Propose == nil || c.Logger == nil || c.Clock == nil:
		return errors.New("replication: Parts, Image, Propose, Logger and Clock are required")
	case c.FetchMaxBytes < 0 || c.FetchResponseMaxBytes < 0 || c.FetchMinBytes < 1:
		return fmt.Errorf("replication: bad fetch sizes %d/%d/%d", c.FetchMaxBytes, c.FetchResponseMaxBytes, c.FetchMinBytes)
	case c.FetchWait < 0 || c.FetchBackoff < 0 || c.LagTimeMax <= 0 || c.RequestTimeout <= 0:
		return errors.New("replication: durations must be positive")
	}
	return nil
}

// follow is one partition a fetcher follows.
type follow struct {
	key     partition.Key
	topicID metadata.Uuid
	epoch   int32 // the leader epoch the image gives
}

// Replicator runs the fetchers and the ISR loop of one broker.
type Replicator struct {
	cfg Config
	lg  *slog.Logger

	mu       sync.Mutex
	ctx      context.Context // set by Run; nil before
	fetchers map[int32]*fetcher
	pending  map[int32][]follow // Sync before Run
	wg       sync.WaitGroup
	// throttle meters bytes fetched for throttled replicas (throttle.go).
	throttle Throttle
}

// New returns a Replicator; Run starts it.
func New(cfg Config) (*Replicator, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Replicator{cfg: cfg, lg: cfg.Logger, fetchers: map[int32]*fetcher{}}, nil
}

// Run runs the ISR loop until ctx ends, then stops every fetcher and waits
// for them.
func (r *Replicator) Run(ctx context.Context) {
	r.mu.Lock()
	r.ctx = ctx
	pending := r.pending
	r.pending = nil
	r.mu.Unlock()
	if pending != nil {
		r.apply(pending)
	}
	r.isrLoop(ctx)
	r.mu.Lock()
	for id, f := range r.fetchers {
		f.cancel()
		delete(r.fetchers, id)
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// Sync brings the fetchers in line with img: one per leader this broker
// follows partitions of. It never blocks on the network.
func (r *Replicator) Sync(img *metadata.Image) {
	want := map[int32][]follow{}
	for _, t := range img.Topics {
		for _, mp := range t.Partitions {
			if mp.Leader == r.cfg.NodeID || mp.Leader < 0 || !slices.Contains(mp.Replicas, r.cfg.NodeID) {
				continue
			}
			want[mp.Leader] = append(want[mp.Leader], follow{key: partition.Key{Topic: t.Name, Partition: mp.Index}, topicID: t.ID, epoch: mp.LeaderEpoch})
		}
	}
	r.mu.Lock()
	if r.ctx == nil {
		r.pending = want
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	r.apply(want)
}

func (r *Replicator) apply(want map[int32][]follow) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx.Err() != nil {
		return
	}
	for id, f := range r.fetchers {
		if _, ok := want[id]; !ok {
			f.cancel()
			delete(r.fetchers, id)
		}
	}
	for id, fs := range want {
		f, ok := r.fetchers[id]
		if !ok {
			f = newFetcher(r, id)
			r.fetchers[id] = f
			r.wg.Go(f.run)
		}
		f.set(fs)
	}
}

// isrLoop asks the controller for the ISR changes the partitions this
// broker leads want, a few times per replica.lag.time.max.ms.
func (r *Replicator) isrLoop(ctx context.Context) {
	every := min(r.cfg.LagTimeMax/4, 250*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		img := r.cfg.Image()
		now := r.cfg.Clock.Now()
		for _, p := range r.cfg.Parts.All() {
			ch, ok := p.DesiredISR(now, r.cfg.LagTimeMax, img.Live)
			if !ok {
				continue
			}
			topic, ok := img.Topics[p.Topic]
			if !ok {
				p.RetryISR()
				continue
			}
			pe := ch.PartitionEpoch
			rec := metadata.ChangePartition{
				TopicID: topic.ID, Partition: p.Index, Leader: r.cfg.NodeID, LeaderEpoch: ch.LeaderEpoch,
				ISR: ch.ISR, ELR: ch.ELR, ExpectedPartitionEpoch: &pe,
			}
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				if err := r.cfg.Propose(pctx, rec); err != nil {
					if ctx.Err() == nil && !errors.Is(err, metadata.ErrStalePartitionEpoch) && !errors.Is(err, metadata.ErrIneligibleReplica) {
						r.lg.Warn("ISR change failed", "topic", p.Topic, "partition", p.Index, "isr", ch.ISR, "err", err)
					}
					p.RetryISR()
					return
				}
				r.lg.Info("ISR changed", "topic", p.Topic, "partition", p.Index, "isr", ch.ISR, "elr", ch.ELR, "leader_epoch", ch.LeaderEpoch)
			})
		}
	}
}
