package broker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/coordinator"
	"github.com/samsa-streaming/samsa/internal/errcode"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
	"github.com/samsa-streaming/samsa/internal/share"
)

// shareTopics is share.Topics over a metadata image.
type shareTopics struct{ img *metadata.Image }

func (t shareTopics) Topic(name string) (share.TopicMeta, bool) {
	mt, ok := t.img.Topics[name]
	if !ok {
		return share.TopicMeta{}, false
	}
	return share.TopicMeta{ID: mt.ID, Name: mt.Name, Partitions: int32(len(mt.Partitions))}, true
}

func (t shareTopics) TopicByID(id [16]byte) (share.TopicMeta, bool) {
	mt, ok := t.img.TopicsByID[metadata.Uuid(id)]
	if !ok {
		return share.TopicMeta{}, false
	}
	return share.TopicMeta{ID: mt.ID, Name: mt.Name, Partitions: int32(len(mt.Partitions))}, true
}

// shareCoordinatorCode is the error a share-group request for id gets on
// this broker: NOT_COORDINATOR (or loading, or no __consumer_offsets yet)
// unless this broker coordinates the id, and GROUP_ID_NOT_FOUND when a
// classic or consumer group has it (Kafka: "Group … is not a share
// group."). Share groups live on the group coordinator of their id, as in
// Kafka.
func (b *Broker) shareCoordinatorCode(id string) (int16, string) {
	typ, exists, code := b.groups.GroupType(id)
	if code != 0 {
		return code, ""
	}
	if exists {
		return kerr.GroupIDNotFound.Code, fmt.Sprintf("Group %s is not a share group (it is a %s group).", id, typ)
	}
	return 0, ""
}

// shareTarget is one partition named by a ShareFetch or ShareAcknowledge.
type shareTarget struct {
	key  share.PartKey
	name string
	part *partition.Partition
	code int16
	mp   *metadata.Partition // for the leader hint
}

// shareResolve finds a share partition's topic and checks this broker
// leads it; code is set otherwise.
func (b *Broker) shareResolve(img *metadata.Image, az *reqAuthz, group string, tp share.TP) shareTarget {
	tg := shareTarget{key: share.PartKey{Group: group, TP: tp}}
	t, ok := img.TopicsByID[metadata.Uuid(tp.Topic)]
	if !ok {
		tg.code = kerr.UnknownTopicID.Code
		return tg
	}
	tg.name = t.Name
	if !az.topic(acl.OpRead, t.Name) {
		tg.code = kerr.TopicAuthorizationFailed.Code
		return tg
	}
	mp, ok := partitionOf(t, tp.Partition)
	if !ok {
		tg.code = kerr.UnknownTopicOrPartition.Code
		return tg
	}
	tg.mp = mp
	p, ok := b.parts.Get(t.Name, tp.Partition)
	if ok && p.Offline() != nil {
		tg.code = kerr.KafkaStorageError.Code
		return tg
	}
	if !ok || mp.Leader != b.cfg.NodeID {
		tg.code = kerr.NotLeaderForPartition.Code
		return tg
	}
	tg.part = p
	return tg
}

// shareCreate makes a share partition on first use. With a share
// coordinator (node wiring), from the state __share_group_state holds, or
// initialised there at share.auto.offset.reset=latest (Kafka's default;
// group configs are not supported yet), the high watermark. When another
// broker leads the state's __share_group_state partition (no
// ReadShareGroupState client yet) or there is no share coordinator, the
// share partition is in memory only.
func (b *Broker) shareCreate(ctx context.Context, tg shareTarget) share.Creator {
	return func() (*share.Partition, bool, error) {
		cfg := b.shares.Config().Partition
		if b.shareStates == nil {
			return share.NewPartition(cfg, tg.part.HighWatermark()), false, nil
		}
		if _, err := b.ensureShareStateTopic(ctx); err != nil {
			return nil, false, err
		}
		v, ok, err := b.shareStates.Read(tg.key)
		switch {
		case errcode.Code(err) == kerr.NotCoordinator.Code && b.leadsShareState(tg.key):
			// Led here, its shard not loaded yet.
			return nil, false, fmt.Errorf("broker: share state of %s not loaded yet: %w", tg.name, kerr.CoordinatorLoadInProgress)
		case errcode.Code(err) == kerr.NotCoordinator.Code:
			b.lg.Warn("share partition state led by another broker: kept in memory only", "group", tg.key.Group, "topic", tg.name, "partition", tg.key.Partition)
			return share.NewPartition(cfg, tg.part.HighWatermark()), false, nil
		case err != nil:
			return nil, false, err
		case ok:
			return share.RestorePartition(cfg, max(v.StartOffset, tg.part.LogStartOffset()), v.Batches), true, nil
		}
		start := tg.part.HighWatermark()
		if err := b.shareStates.Initialize(ctx, tg.key, 0, start); err != nil {
			return nil, false, err
		}
		return share.NewPartition(cfg, start), true, nil
	}
}

// leadsShareState reports whether this broker leads the
// __share_group_state partition of k.
func (b *Broker) leadsShareState(k share.PartKey) bool {
	p, ok := b.shareStates.Partition(k)
	if !ok {
		return false
	}
	t, ok := b.image().Topics[coordinator.ShareGroupStateTopic]
	if !ok {
		return false
	}
	mp, ok := partitionOf(t, p)
	return ok && mp.Leader == b.cfg.NodeID
}

// ensureShareStateTopic creates __share_group_state as Kafka does:
// share.coordinator.state.topic.num.partitions partitions, replication
// capped at the live brokers, compacted.
func (b *Broker) ensureShareStateTopic(ctx context.Context) (*metadata.Topic, error) {
	return b.ensureInternalTopic(ctx, &b.shareStateMu, coordinator.ShareGroupStateTopic,
		"share.coordinator.state.topic.num.partitions", "share.coordinator.state.topic.replication.factor",
		func(*metadata.Image) map[string]string {
			return map[string]string{"cleanup.policy": "compact", "compression.type": "producer", "segment.bytes": "104857600"}
		})
}

// sharePersist writes a share partition's state after acknowledgements,
// before they are answered.
func (b *Broker) sharePersist(ctx context.Context, tg shareTarget) error {
	if b.shareStates == nil {
		return nil
	}
	return b.shares.Persist(tg.key, func(start int64, batches []share.StateBatch) error {
		return b.shareStates.Write(ctx, tg.key, 0, tg.part.LeaderEpoch(), start, batches)
	})
}

// shareAck applies one partition's acknowledgement batches; the answer is
// the partition's AcknowledgeErrorCode.
func (b *Broker) shareAck(ctx context.Context, tg shareTarget, member string, batches []share.AckBatch, renew bool) (int16, string) {
	if tg.code != 0 {
		return tg.code, ""
	}
	var err error
	if werr := b.shares.With(tg.key, b.shareCreate(ctx, tg), func(p *share.Partition, now time.Time) {
		err = p.Acknowledge(member, batches, renew, now)
	}); werr != nil {
		err = werr
	}
	if err == nil {
		err = b.sharePersist(ctx, tg)
	}
	if err != nil {
		return errcode.Code(err), err.Error()
	}
	for _, a := range batches {
		for _, t := range a.Types {
			if t == share.AckRelease {
				b.shares.Notify()
				return 0, ""
			}
		}
	}
	return 0, ""
}

// sharedBatch is a batch read for a share fetch.
type sharedBatch struct {
	first, last int64
	raw         []byte
}

// errShareReadDone ends a share fetch's log scan.
var errShareReadDone = errors.New("broker: share read done")

// shareAcquire acquires up to maxRecords records of one partition for
// member, reading at most about maxBytes from the log; it returns the
// batches holding them and the acquired ranges, and the earliest lock
// expiry of the partition (zero if none).
func (b *Broker) shareAcquire(ctx context.Context, tg shareTarget, member string, maxRecords int, maxBytes int64) ([]byte, []share.AcquiredRange, time.Time, error) {
	var (
		from     int64
		ok       bool
		deadline time.Time
	)
	if err := b.shares.With(tg.key, b.shareCreate(ctx, tg), func(p *share.Partition, now time.Time) {
		if ls := tg.part.LogStartOffset(); p.Start() < ls {
			p.MoveStart(ls)
		}
		from, ok = p.FetchOffset(now)
		deadline, _ = p.NextDeadline()
	}); err != nil {
		return nil, nil, deadline, err
	}
	hw := tg.part.HighWatermark()
	if !ok || from >= hw || maxRecords <= 0 {
		return nil, nil, deadline, nil
	}
	window := int64(b.shares.Config().Partition.MaxRecordLocks)
	var (
		read  []sharedBatch
		size  int64
		spans []share.Batch
	)
	err := tg.part.Log().ScanBatches(from, func(h batch.Header, raw []byte) error {
		if h.LastOffset() >= hw || (len(read) > 0 && (size >= maxBytes || h.BaseOffset-from >= window+int64(maxRecords))) {
			return errShareReadDone
		}
		spans = append(spans, share.Batch{First: h.BaseOffset, Last: h.LastOffset(), Skip: h.IsControl()})
		if !h.IsControl() {
			read = append(read, sharedBatch{h.BaseOffset, h.LastOffset(), bytes.Clone(raw)})
			size += int64(len(raw))
		}
		return nil
	})
	if err != nil && !errors.Is(err, errShareReadDone) {
		return nil, nil, deadline, err
	}
	var acq []share.AcquiredRange
	if err := b.shares.With(tg.key, b.shareCreate(ctx, tg), func(p *share.Partition, now time.Time) {
		acq = p.Acquire(member, spans, maxRecords, now)
		deadline, _ = p.NextDeadline()
	}); err != nil {
		return nil, nil, deadline, err
	}
	var out []byte
	for _, rb := range read {
		for _, a := range acq {
			if a.First <= rb.last && a.Last >= rb.first {
				out = append(out, rb.raw...)
				break
			}
		}
	}
	return out, acq, deadline, nil
}

// waitShare blocks until a partition changes, records are released, the
// earliest lock expires, wait passes or done closes; it reports whether
// acquiring again is worthwhile.
func waitShare(done <-chan struct{}, parts []*partition.Partition, released <-chan struct{}, lockExpiry time.Time, wait time.Duration) bool {
	if !lockExpiry.IsZero() {
		if d := time.Until(lockExpiry) + time.Millisecond; d < wait {
			wait = max(d, time.Millisecond)
		}
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	cases := []reflect.SelectCase{
		{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(done)},
		{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(t.C)},
		{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(released)},
	}
	for _, p := range parts {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(p.Changed())})
	}
	i, _, _ := reflect.Select(cases)
	return i != 0 && (i != 1 || !lockExpiry.IsZero() && !time.Now().Before(lockExpiry))
}

// ackBatchesOf converts wire acknowledgement batches.
func ackBatchesOf[T any](in []T, get func(*T) (int64, int64, []int8)) []share.AckBatch {
	out := make([]share.AckBatch, 0, len(in))
	for i := range in {
		first, last, types := get(&in[i])
		ts := make([]share.AckType, len(types))
		for j, t := range types {
			ts[j] = share.AckType(t)
		}
		out = append(out, share.AckBatch{First: first, Last: last, Types: ts})
	}
	return out
}

// sortTPs orders topic-partitions for deterministic answers.
func sortTPs(tps []share.TP) {
	sort.Slice(tps, func(i, j int) bool {
		if tps[i].Topic != tps[j].Topic {
			return bytes.Compare(tps[i].Topic[:], tps[j].Topic[:]) < 0
		}
		return tps[i].Partition < tps[j].Partition
	})
}

// shareNodeEndpoints lists the leaders named in CurrentLeader hints.
func shareNodeEndpoints(img *metadata.Image, leaders []int32, listener string) []kmsg.ShareFetchResponseNodeEndpoint {
	var out []kmsg.ShareFetchResponseNodeEndpoint
	seen := map[int32]bool{}
	for _, id := range leaders {
		if id < 0 || seen[id] {
			continue
		}
		seen[id] = true
		host, port, ok := brokerEndpoint(img, id, listener)
		if !ok {
			continue
		}
		e := kmsg.NewShareFetchResponseNodeEndpoint()
		e.NodeID, e.Host, e.Port, e.Rack = id, host, port, brokerRack(img, id)
		out = append(out, e)
	}
	return out
}

// closeShareSessions closes the share sessions a closed connection opened,
// releasing the records their members hold (Kafka ties a share session to
// its connection).
func (b *Broker) closeShareSessions(c *conn) {
	for _, s := range c.shareSessions {
		b.shares.CloseOwned(c, s[0], s[1])
	}
	c.shareSessions = nil
}
