package broker

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/log"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/replication"
)

// replicaOf is the follower's broker id of a Fetch request, or -1 for a
// consumer.
func replicaOf(req *kmsg.FetchRequest) int32 {
	if req.Version >= 15 {
		return req.ReplicaState.ID
	}
	return req.ReplicaID
}

// handleReplicaFetch serves a follower (Kafka's replica fetch): it records
// the follower's fetch offset as its log end offset, which moves the high
// watermark and the ISR, and returns records up to the log end (not the
// high watermark). Sessions are not used: followers send full fetches.
func (b *Broker) handleReplicaFetch(ctx context.Context, c *conn, r *request, replica int32) (kmsg.Response, error) {
	req := r.req.(*kmsg.FetchRequest)
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	got := longPoll(ctx, req, func() []*fetchGot { return b.readReplicaFetch(b.image(), req, replica) })
	out := fetchAssembly{resp: resp, img: b.image()}
	for _, g := range got {
		out.add(g)
	}
	if err := c.writeFetch(r.hdr.CorrelationID, resp, out.ordered()); err != nil {
		return nil, err
	}
	return nil, nil
}

func (b *Broker) readReplicaFetch(img *metadata.Image, req *kmsg.FetchRequest, replica int32) []*fetchGot {
	remaining := int64(req.MaxBytes)
	if req.MaxBytes <= 0 {
		remaining = 1 << 62
	}
	minOne := true
	now := b.now()
	rate := replication.ThrottleRate(img, b.cfg.NodeID, "leader.replication.throttled.rate")
	var out []*fetchGot
	for _, rt := range req.Topics {
		name := rt.Topic
		if req.Version >= 13 {
			if t, ok := img.TopicsByID[metadata.Uuid(rt.TopicID)]; ok {
				name = t.Name
			}
		}
		for _, rp := range rt.Partitions {
			w := &fetchWant{key: sessionKey{name, rp.Partition}, topicID: rt.TopicID, offset: rp.FetchOffset, maxBytes: rp.PartitionMaxBytes, epoch: rp.CurrentLeaderEpoch}
			g := &fetchGot{want: w, resp: kmsg.NewFetchResponseTopicPartition()}
			g.resp.Partition = rp.Partition
			g.resp.HighWatermark, g.resp.LastStableOffset, g.resp.LogStartOffset = -1, -1, -1
			g.resp.PreferredReadReplica = -1
			out = append(out, g)
			t, ok := img.Topics[name]
			if !ok {
				g.resp.ErrorCode = kerr.UnknownTopicOrPartition.Code
				if req.Version >= 13 {
					g.resp.ErrorCode = kerr.UnknownTopicID.Code
				}
				continue
			}
			mp, ok := partitionOf(t, rp.Partition)
			if !ok {
				g.resp.ErrorCode = kerr.UnknownTopicOrPartition.Code
				continue
			}
			p, ok := b.parts.Get(t.Name, rp.Partition)
			if !ok || mp.Leader != b.cfg.NodeID {
				g.resp.ErrorCode = kerr.NotLeaderForPartition.Code
				b.leaderHint(img, mp, &g.resp)
				continue
			}
			g.part = p
			// KIP-320: a follower whose last fetched epoch ends earlier in
			// this log has diverged; tell it where to truncate.
			if req.Version >= 12 && rp.LastFetchedEpoch >= 0 {
				epoch, end := p.Log().EndOffsetForEpoch(rp.LastFetchedEpoch)
				if epoch != rp.LastFetchedEpoch || end < rp.FetchOffset {
					g.resp.DivergingEpoch.Epoch, g.resp.DivergingEpoch.EndOffset = epoch, end
					g.resp.HighWatermark = p.HighWatermark()
					g.resp.LogStartOffset = p.LogStartOffset()
					g.resp.LastStableOffset = p.LastStableOffset()
					continue
				}
			}
			hw, err := p.FollowerFetch(replica, rp.CurrentLeaderEpoch, rp.FetchOffset, now)
			if err != nil {
				g.resp.ErrorCode = errorCode(err)
				if errors.Is(err, log.ErrOffsetOutOfRange) {
					g.resp.ErrorCode = kerr.OffsetOutOfRange.Code
				}
				g.resp.HighWatermark = p.HighWatermark()
				g.resp.LogStartOffset = p.LogStartOffset()
				continue
			}
			g.resp.HighWatermark, g.resp.LastStableOffset, g.resp.LogStartOffset = hw, p.LastStableOffset(), p.LogStartOffset()
			if rp.FetchOffset < p.LogStartOffset() {
				g.resp.ErrorCode = kerr.OffsetOutOfRange.Code
				continue
			}
			leo := p.LogEndOffset()
			if rp.FetchOffset >= leo || remaining <= 0 && !minOne {
				continue
			}
			throttled := rate > 0 && replication.ThrottledReplica(t.Configs["leader.replication.throttled.replicas"], rp.Partition, b.cfg.NodeID)
			if throttled && !b.replThrottle.Allow(now, rate) {
				continue
			}
			limit := max(min(int64(rp.PartitionMaxBytes), remaining), 0)
			res, err := p.Log().Read(rp.FetchOffset, int32(min(limit, 1<<31-1)), leo, minOne)
			if err != nil {
				if errors.Is(err, log.ErrOffsetOutOfRange) {
					g.resp.ErrorCode = kerr.OffsetOutOfRange.Code
				} else {
					g.resp.ErrorCode = kerr.KafkaStorageError.Code
					b.lg.Warn("replica fetch read failed", "topic", t.Name, "partition", rp.Partition, "err", err)
				}
				continue
			}
			g.chunks, g.size = res.Chunks, res.Size
			if throttled {
				b.replThrottle.Record(now, g.size)
			}
			if g.size > 0 {
				minOne = false
				remaining -= g.size
			}
		}
	}
	return out
}
