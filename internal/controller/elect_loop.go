package controller

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/samsa-streaming/samsa/internal/metadata"
)

// The election loop: on the active controller only, it proposes the
// changes Elections (elect.go) computes, after every published image and
// every HeartbeatInterval (1s without one), and every
// LeaderImbalanceCheckInterval the preferred-leader rebalance of
// RebalanceElections when AutoLeaderRebalance is on.
//
// After an image it looks only at what changed since its last pass: when
// no broker, broker config or topic config changed, only the created and
// changed partitions are examined; otherwise, and on the timer, every
// partition is. Every change is conditional on the partition epoch it was
// computed from, so a change that raced with another (the partition
// leader's ISR update, an admin request) fails with ErrStalePartitionEpoch
// and is recomputed from the newer image.
//
// The loop is a goroutine of the controller, stopped by Close (stopc) and
// waited for with the liveness goroutine.

const (
	// maxParallelElections bounds the proposals in flight in one pass;
	// raft batches them, so a pass over many partitions (a broker
	// failure) takes a few commits, not one per partition.
	maxParallelElections = 64
	// electionEvery is the full-pass interval without HeartbeatInterval.
	electionEvery = time.Second
)

// startElections subscribes to published images and starts the loop.
func (c *Controller) startElections() {
	wake := make(chan struct{}, 1)
	c.Subscribe(func(_, _ *metadata.Image) {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	c.livenessWG.Go(func() { c.electionLoop(wake) })
}

func (c *Controller) electionLoop(wake <-chan struct{}) {
	every := c.cfg.HeartbeatInterval
	if every <= 0 {
		every = electionEvery
	}
	full := time.NewTicker(every)
	defer full.Stop()
	var rebalance <-chan time.Time
	if c.cfg.AutoLeaderRebalance == nil || *c.cfg.AutoLeaderRebalance {
		t := time.NewTicker(c.cfg.LeaderImbalanceCheckInterval)
		defer t.Stop()
		rebalance = t.C
	}
	pct := 10
	if c.cfg.LeaderImbalancePerBrokerPercentage != nil {
		pct = *c.cfg.LeaderImbalancePerBrokerPercentage
	}
	timeout := max(2*every, 5*time.Second)

	// last is the image of the previous pass while leader; nil makes the
	// next pass a full one.
	var last *metadata.Image
	for {
		doFull, doRebalance := false, false
		select {
		case <-c.stopc:
			return
		case <-wake:
		case <-full.C:
			doFull = true
		case <-rebalance:
			doRebalance = true
		}
		if !c.IsLeader() {
			last = nil
			continue
		}
		img := c.Image()
		changes := c.electionChanges(last, img, doFull)
		last = img
		if !c.proposeChanges(changes, "election", timeout) {
			return
		}
		if doRebalance {
			if !c.proposeChanges(RebalanceElections(c.Image(), pct), "preferred leader election", timeout) {
				return
			}
		}
	}
}

// electionPolicy resolves topics' policies against img and the static
// defaults in the controller's config.
func (c *Controller) electionPolicy(img *metadata.Image) func(t *metadata.Topic) ElectionPolicy {
	def := ElectionPolicy{MinISR: c.cfg.MinInsyncReplicas, Unclean: c.cfg.UncleanLeaderElection}
	return func(t *metadata.Topic) ElectionPolicy { return TopicElectionPolicy(img, t, def) }
}

// electionChanges computes the changes img needs, looking only at the
// partitions that changed since last when that is enough.
func (c *Controller) electionChanges(last, img *metadata.Image, full bool) []metadata.ChangePartition {
	policy := c.electionPolicy(img)
	if full || last == nil {
		return Elections(img, policy)
	}
	if last == img {
		return nil
	}
	d := metadata.Diff(last, img)
	if len(d.ChangedBrokers)+len(d.RemovedBrokers)+len(d.ChangedBrokerConfigs)+len(d.ChangedTopicConfigs) > 0 {
		return Elections(img, policy)
	}
	var out []metadata.ChangePartition
	for _, p := range slices.Concat(d.CreatedPartitions, d.ChangedPartitions) {
		t := img.TopicsByID[p.TopicID]
		if t == nil {
			continue
		}
		if ch, ok := ElectPartition(img, p, policy(t)); ok {
			out = append(out, ch)
		}
	}
	return out
}

// proposeChanges proposes changes, up to maxParallelElections at a time,
// and waits for them. Stale partition epochs are expected (the next pass
// recomputes); other failures are logged. It returns false once the
// controller is closed.
func (c *Controller) proposeChanges(changes []metadata.ChangePartition, what string, timeout time.Duration) bool {
	if len(changes) == 0 {
		return true
	}
	var (
		wg              sync.WaitGroup
		closed          atomic.Bool
		applied, failed atomic.Int64
	)
	sem := make(chan struct{}, maxParallelElections)
	before := c.Image()
	names := before.TopicsByID
	for _, ch := range changes {
		select {
		case sem <- struct{}{}:
		case <-c.stopc:
			closed.Store(true)
		}
		if closed.Load() {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			_, err := c.ProposeAsLeader(ctx, ch)
			topic := ch.TopicID.String()
			if t := names[ch.TopicID]; t != nil {
				topic = t.Name
			}
			switch {
			case err == nil:
				applied.Add(1)
				if uncleanElection(before, ch) {
					c.stats.unclean.Add(1)
				}
				c.log.Debug(what, "topic", topic, "partition", ch.Partition, "leader", ch.Leader,
					"leader_epoch", ch.LeaderEpoch, "isr", ch.ISR, "elr", ch.ELR, "replicas", ch.Replicas)
			case errors.Is(err, metadata.ErrStalePartitionEpoch), errors.Is(err, ErrNotActiveController):
			case errors.Is(err, ErrClosed):
				closed.Store(true)
			default:
				failed.Add(1)
				c.log.Warn(what+" failed", "topic", topic, "partition", ch.Partition, "err", err)
			}
		})
	}
	wg.Wait()
	if n := applied.Load(); n > 0 || failed.Load() > 0 {
		c.log.Info(what+"s applied", "changed", n, "failed", failed.Load(), "computed", len(changes))
	}
	return !closed.Load()
}
