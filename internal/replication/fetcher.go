package replication

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/partition"
)

// fetcher follows the partitions one leader leads.
type fetcher struct {
	r      *Replicator
	leader int32
	ctx    context.Context
	cancel context.CancelFunc

	mu    sync.Mutex
	want  []follow
	wake  chan struct{}
	state map[partition.Key]*followState // owned by run
}

type followState struct {
	follow
	// truncated is the leader epoch this follower last reconciled its log
	// for; -1 = never.
	truncated int32
	backoff   time.Time
}

func newFetcher(r *Replicator, leader int32) *fetcher {
	ctx, cancel := context.WithCancel(r.ctx)
	return &fetcher{r: r, leader: leader, ctx: ctx, cancel: cancel, wake: make(chan struct{}, 1), state: map[partition.Key]*followState{}}
}

func (f *fetcher) set(fs []follow) {
	f.mu.Lock()
	f.want = fs
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// refresh takes the latest partition set.
func (f *fetcher) refresh() {
	f.mu.Lock()
	want := f.want
	f.mu.Unlock()
	seen := map[partition.Key]bool{}
	for _, w := range want {
		seen[w.key] = true
		st, ok := f.state[w.key]
		if !ok {
			f.state[w.key] = &followState{follow: w, truncated: -1}
			continue
		}
		if st.epoch != w.epoch {
			st.backoff = time.Time{}
		}
		st.follow = w
	}
	for k := range f.state {
		if !seen[k] {
			delete(f.state, k)
		}
	}
}

func (f *fetcher) run() {
	lg := f.r.lg.With("leader", f.leader)
	var conn *peer
	defer func() {
		if conn != nil {
			conn.close()
		}
	}()
	backoff := func() bool {
		t := time.NewTimer(f.r.cfg.FetchBackoff)
		defer t.Stop()
		select {
		case <-f.ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	for f.ctx.Err() == nil {
		f.refresh()
		if len(f.state) == 0 {
			select {
			case <-f.ctx.Done():
				return
			case <-f.wake:
			}
			continue
		}
		addr := ""
		if b, ok := f.r.cfg.Image().Brokers[f.leader]; ok {
			addr = b.ReplicationAddr()
		}
		if conn != nil && conn.addr != addr {
			conn.close()
			conn = nil
		}
		if conn == nil {
			if addr == "" {
				if !backoff() {
					return
				}
				continue
			}
			c, err := dialPeer(f.ctx, f.r.cfg.Dial, addr, "samsa-replica-"+strconv.Itoa(int(f.r.cfg.NodeID)))
			if err != nil {
				lg.Debug("dialling the leader failed", "addr", addr, "err", err)
				if !backoff() {
					return
				}
				continue
			}
			conn = c
		}
		if err := f.round(conn); err != nil {
			if f.ctx.Err() != nil {
				return
			}
			lg.Info("fetching from the leader failed", "addr", addr, "err", err)
			conn.close()
			conn = nil
			if !backoff() {
				return
			}
		}
	}
}

// round reconciles diverged partitions, then fetches once.
func (f *fetcher) round(conn *peer) error {
	now := time.Now()
	var ready []*followState
	for _, st := range f.state {
		if now.Before(st.backoff) {
			continue
		}
		p, ok := f.r.cfg.Parts.Get(st.key.Topic, st.key.Partition)
		if !ok || p.IsLeader() || p.State().LeaderEpoch != st.epoch {
			continue // the partition manager has not caught up with the image yet
		}
		if p.Offline() != nil {
			continue // its log directory failed: nothing to fetch into (Kafka stops its fetcher)
		}
		if st.truncated != st.epoch {
			if err := f.truncate(conn, p, st); err != nil {
				return err
			}
			if st.truncated != st.epoch {
				continue
			}
		}
		ready = append(ready, st)
	}
	if len(ready) == 0 {
		t := time.NewTimer(100 * time.Millisecond)
		defer t.Stop()
		select {
		case <-f.ctx.Done():
		case <-f.wake:
		case <-t.C:
		}
		return nil
	}
	return f.fetch(conn, ready)
}

// truncate reconciles the follower's log with the leader's (KIP-101/279):
// it asks for the end of its latest epoch in the leader's log, walking back
// to an epoch both logs share, and truncates there.
func (f *fetcher) truncate(conn *peer, p *partition.Partition, st *followState) error {
	ask, done, err := firstAsk(p)
	if err != nil {
		return fmt.Errorf("truncate %s-%d: %w", st.key.Topic, st.key.Partition, err)
	}
	if done {
		st.truncated = st.epoch
		return nil
	}
	for range maxEpochQueries {
		req := kmsg.NewPtrOffsetForLeaderEpochRequest()
		req.Version = 4
		req.ReplicaID = f.r.cfg.NodeID
		rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
		rt.Topic = st.key.Topic
		rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
		rp.Partition, rp.CurrentLeaderEpoch, rp.LeaderEpoch = st.key.Partition, st.epoch, ask
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp := kmsg.NewPtrOffsetForLeaderEpochResponse()
		if err := conn.do(f.ctx, f.r.cfg.RequestTimeout, req, resp); err != nil {
			return err
		}
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			return errors.New("OffsetForLeaderEpoch: malformed response")
		}
		sp := resp.Topics[0].Partitions[0]
		if sp.ErrorCode != 0 {
			f.r.lg.Debug("OffsetForLeaderEpoch refused", "topic", st.key.Topic, "partition", st.key.Partition, "err", kerr.ErrorForCode(sp.ErrorCode))
			st.backoff = time.Now().Add(f.retryAfter(sp.ErrorCode))
			return nil
		}
		next, done, err := applyEpochAnswer(p, ask, sp.LeaderEpoch, sp.EndOffset)
		if err != nil {
			return fmt.Errorf("truncate %s-%d: %w", st.key.Topic, st.key.Partition, err)
		}
		if done {
			st.truncated = st.epoch
			return nil
		}
		ask = next
	}
	return fmt.Errorf("%s-%d: leader epochs did not converge", st.key.Topic, st.key.Partition)
}

// The decisions of the follower, as functions of the partition and the
// leader's answers, so that the fetcher and the deterministic simulation
// (sim_test.go) run the same code; only the network differs.

// maxEpochQueries bounds the OffsetForLeaderEpoch walk of one truncation.
const maxEpochQueries = 64

// epochLog is what the truncation decision reads of a follower's log.
type epochLog interface {
	EndOffsetForEpoch(epoch int32) (leaderEpoch int32, endOffset int64)
	LogStartOffset() int64
}

// firstAsk starts a truncation: the epoch to ask the leader the end of (the
// log's latest), or done when the log has no epoch history, after
// truncating it to its high watermark (only that is known committed).
func firstAsk(p *partition.Partition) (ask int32, done bool, err error) {
	l := p.Log()
	ask = l.LatestEpoch()
	if ask >= 0 {
		return ask, false, nil
	}
	if l.LogEndOffset() > p.HighWatermark() {
		if err := p.TruncateTo(p.HighWatermark()); err != nil {
			return -1, true, err
		}
	}
	return -1, true, nil
}

// truncationStep is one step of the KIP-279 walk: the leader says its
// latest epoch <= ask is leaderEpoch, ending at leaderEnd. Either the
// follower truncates at target (done), or its own epochs show the logs
// diverged earlier and it asks again for nextAsk. hw is the follower's
// high watermark, the answer when the leader knows no such epoch.
func truncationStep(l epochLog, hw int64, ask, leaderEpoch int32, leaderEnd int64) (target int64, nextAsk int32, done bool) {
	switch {
	case leaderEpoch < 0 || leaderEnd < 0:
		return hw, -1, true
	case leaderEpoch == ask:
		_, localEnd := l.EndOffsetForEpoch(ask)
		return min(leaderEnd, localEnd), -1, true
	}
	le, localEnd := l.EndOffsetForEpoch(leaderEpoch)
	switch {
	case le < 0:
		return l.LogStartOffset(), -1, true
	case le == leaderEpoch:
		return min(leaderEnd, localEnd), -1, true
	}
	return -1, le, false
}

// applyEpochAnswer applies the leader's answer to the question "where does
// epoch ask end?": it truncates the log and reports done, or returns the
// epoch to ask about next.
func applyEpochAnswer(p *partition.Partition, ask, leaderEpoch int32, leaderEnd int64) (next int32, done bool, err error) {
	target, next, done := truncationStep(p.Log(), p.HighWatermark(), ask, leaderEpoch, leaderEnd)
	if !done {
		return next, false, nil
	}
	// Truncating at the log end is not a no-op for the partition: an
	// epoch entry there without records must go.
	if err := p.TruncateTo(max(target, 0)); err != nil {
		return -1, true, err
	}
	return -1, true, nil
}

// fetch sends one replica Fetch for ready partitions and applies the answer.
func (f *fetcher) fetch(conn *peer, ready []*followState) error {
	cfg := f.r.cfg
	req := kmsg.NewPtrFetchRequest()
	// v15: the follower names itself with its broker epoch (KIP-903), so
	// that the fetches of an older incarnation of this broker are refused;
	// partitions go by topic id (v13+).
	req.Version = 15
	req.ReplicaID = cfg.NodeID
	req.ReplicaState.ID, req.ReplicaState.Epoch = cfg.NodeID, -1
	req.MaxWaitMillis = int32(cfg.FetchWait / time.Millisecond)
	req.MinBytes = cfg.FetchMinBytes
	req.MaxBytes = cfg.FetchResponseMaxBytes
	req.SessionEpoch = -1
	byTopic := map[string]int{}
	names := map[[16]byte]string{} // topic id → name, for the response
	parts := map[partition.Key]*partition.Partition{}
	img := cfg.Image()
	if self, ok := img.Brokers[cfg.NodeID]; ok {
		req.ReplicaState.Epoch = self.Epoch
	}
	rate := ThrottleRate(img, cfg.NodeID, "follower.replication.throttled.rate")
	now := time.Now()
	throttled := map[partition.Key]bool{}
	for _, st := range ready {
		p, ok := cfg.Parts.Get(st.key.Topic, st.key.Partition)
		if !ok {
			continue
		}
		if rate > 0 {
			if t, ok := img.Topics[st.key.Topic]; ok && ThrottledReplica(t.Configs["follower.replication.throttled.replicas"], st.key.Partition, cfg.NodeID) {
				if !f.r.throttle.Allow(now, rate) {
					continue // over follower.replication.throttled.rate this second
				}
				throttled[st.key] = true
			}
		}
		parts[st.key] = p
		ti, ok := byTopic[st.key.Topic]
		if !ok {
			t := kmsg.NewFetchRequestTopic()
			t.Topic = st.key.Topic
			t.TopicID = st.topicID
			names[st.topicID] = st.key.Topic
			req.Topics = append(req.Topics, t)
			ti = len(req.Topics) - 1
			byTopic[st.key.Topic] = ti
		}
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition = st.key.Partition
		rp.CurrentLeaderEpoch = st.epoch
		rp.FetchOffset = p.LogEndOffset()
		rp.LastFetchedEpoch = p.Log().LatestEpoch()
		rp.LogStartOffset = p.LogStartOffset()
		rp.PartitionMaxBytes = cfg.FetchMaxBytes
		req.Topics[ti].Partitions = append(req.Topics[ti].Partitions, rp)
	}
	if len(req.Topics) == 0 {
		// Everything ready is throttled: wait for the next second's quota.
		t := time.NewTimer(100 * time.Millisecond)
		defer t.Stop()
		select {
		case <-f.ctx.Done():
		case <-t.C:
		}
		return nil
	}
	resp := kmsg.NewPtrFetchResponse()
	if err := conn.do(f.ctx, cfg.RequestTimeout+cfg.FetchWait, req, resp); err != nil {
		return err
	}
	if resp.ErrorCode != 0 {
		return fmt.Errorf("fetch: %w", kerr.ErrorForCode(resp.ErrorCode))
	}
	for _, rt := range resp.Topics {
		name := rt.Topic
		if n, ok := names[rt.TopicID]; ok && name == "" {
			name = n
		}
		for _, rp := range rt.Partitions {
			k := partition.Key{Topic: name, Partition: rp.Partition}
			st, p := f.state[k], parts[k]
			if st == nil || p == nil {
				continue
			}
			if throttled[k] {
				f.r.throttle.Record(now, int64(len(rp.RecordBatches)))
			}
			if err := f.apply(p, st, &rp); err != nil {
				return err
			}
		}
	}
	return nil
}

func (f *fetcher) apply(p *partition.Partition, st *followState, rp *kmsg.FetchResponseTopicPartition) error {
	out, err := applyFetch(f.r.lg, p, st.key, rp)
	if out&fetchRetruncate != 0 {
		st.truncated = -1
	}
	if out&fetchBackoff != 0 {
		st.backoff = time.Now().Add(f.retryAfter(rp.ErrorCode))
	}
	return err
}

// leaderMoveRetry is how soon a follower asks again after an answer that
// only says leadership is moving (the leader, or this follower, has not
// applied the newest metadata yet): replica.fetch.backoff.ms (1 s) would
// add a second to every failover's acks=all.
const leaderMoveRetry = 50 * time.Millisecond

// retryAfter is the backoff after an error code.
func (f *fetcher) retryAfter(code int16) time.Duration {
	switch code {
	case kerr.NotLeaderForPartition.Code, kerr.UnknownLeaderEpoch.Code, kerr.FencedLeaderEpoch.Code:
		return min(leaderMoveRetry, f.r.cfg.FetchBackoff)
	}
	return f.r.cfg.FetchBackoff
}

// fetchOutcome tells the fetcher what a partition's answer asks of it next,
// besides the next fetch: bits of fetchRetruncate and fetchBackoff.
type fetchOutcome uint8

const (
	// fetchRetruncate: reconcile the log with the leader's again
	// (OffsetForLeaderEpoch) before fetching.
	fetchRetruncate fetchOutcome = 1 << iota
	// fetchBackoff: wait replica.fetch.backoff.ms before asking again.
	fetchBackoff
)

// applyFetch applies one partition's replica Fetch answer to p: records
// appended with the leader's high watermark, a truncation to a diverging
// epoch's end (KIP-320), a restart at the leader's log start offset. An
// error leaves the connection unusable.
func applyFetch(lg *slog.Logger, p *partition.Partition, key partition.Key, rp *kmsg.FetchResponseTopicPartition) (fetchOutcome, error) {
	switch rp.ErrorCode {
	case 0:
	case kerr.OffsetOutOfRange.Code:
		if rp.LogStartOffset >= 0 && p.LogEndOffset() < rp.LogStartOffset {
			return 0, p.ResetTo(rp.LogStartOffset)
		}
		return fetchRetruncate, nil
	default:
		lg.Debug("replica fetch refused", "topic", key.Topic, "partition", key.Partition, "err", kerr.ErrorForCode(rp.ErrorCode))
		return fetchBackoff, nil
	}
	if rp.DivergingEpoch.EndOffset >= 0 && rp.DivergingEpoch.Epoch >= 0 {
		le, localEnd := p.Log().EndOffsetForEpoch(rp.DivergingEpoch.Epoch)
		target := rp.DivergingEpoch.EndOffset
		if le != rp.DivergingEpoch.Epoch {
			return fetchRetruncate, nil
		}
		return 0, p.TruncateTo(min(target, localEnd))
	}
	recs := wholeBatches(rp.RecordBatches)
	if err := p.AppendReplica(recs, rp.HighWatermark); err != nil {
		if errors.Is(err, partition.ErrNotLeader) || errors.Is(err, partition.ErrClosed) {
			return 0, nil
		}
		lg.Warn("appending fetched records failed", "topic", key.Topic, "partition", key.Partition, "err", err)
		return fetchRetruncate | fetchBackoff, nil
	}
	if rp.LogStartOffset > p.LogStartOffset() && rp.LogStartOffset <= p.LogEndOffset() {
		if err := p.Log().SetLogStartOffset(rp.LogStartOffset); err != nil {
			lg.Warn("moving the log start offset failed", "topic", key.Topic, "partition", key.Partition, "err", err)
		}
	}
	return 0, nil
}

// wholeBatches drops a trailing partial batch (a fetch may cut one).
func wholeBatches(b []byte) []byte {
	n := 0
	for rest := b; len(rest) >= batch.LogOverhead; {
		h, err := batch.ParseHeader(rest)
		if err != nil || h.Size() > int64(len(rest)) || h.Size() <= 0 {
			break
		}
		n += int(h.Size())
		rest = rest[h.Size():]
	}
	return b[:n]
}
