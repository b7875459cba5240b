package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

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

// replicaLeader is this broker's leader side of replication
// (internal/replication leader.go).
func (b *Broker) replicaLeader() replication.Leader {
	return replication.Leader{Self: b.cfg.NodeID, Parts: b.parts, Throttle: &b.replThrottle}
}

// handleReplicaFetch serves a follower (Kafka's replica fetch) with
// replication.Leader.ReplicaFetch: it records the follower's fetch offset
// as its log end offset, which moves the high watermark and the ISR, and
// returns records up to the log end (not the high watermark). Sessions are
// not used: followers send full fetches.
func (b *Broker) handleReplicaFetch(ctx context.Context, c *conn, r *request, replica int32) (kmsg.Response, error) {
	req := r.req.(*kmsg.FetchRequest)
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	if stale, ok := b.staleReplica(req, replica); ok {
		b.lg.Info("refusing a fetch from an older incarnation of a follower", "replica", replica, "broker_epoch", req.ReplicaState.Epoch, "current", stale)
		resp.ErrorCode = kerr.StaleBrokerEpoch.Code
		return resp, nil
	}
	rf, wants := decodeReplicaFetch(req, replica)
	leader := b.replicaLeader()
	got := longPoll(ctx, req, &c.waited, func() []*fetchGot {
		return b.replicaFetchGot(leader.ReplicaFetch(b.image(), b.now(), rf), wants)
	})
	out := fetchAssembly{resp: resp, img: b.image()}
	for _, g := range got {
		out.add(g)
		if g.part != nil && b.metrics != nil {
			b.metrics.Topics.FollowerFetch(b.topicStats(g.want.key.topic))
		}
	}
	if err := c.writeFetchFrame(r.hdr.CorrelationID, resp, out.ordered()); err != nil {
		return nil, err
	}
	return nil, nil
}

// decodeReplicaFetch is req as the leader code takes it, and the
// response's topic of each partition (wants[i] for rf.Partitions[i]).
func decodeReplicaFetch(req *kmsg.FetchRequest, replica int32) (rf replication.ReplicaFetch, wants []fetchWant) {
	rf = replication.ReplicaFetch{Replica: replica, MaxBytes: req.MaxBytes, ByID: req.Version >= 13}
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			last := rp.LastFetchedEpoch
			if req.Version < 12 {
				last = -1
			}
			rf.Partitions = append(rf.Partitions, replication.ReplicaFetchPartition{
				Topic: rt.Topic, TopicID: metadata.Uuid(rt.TopicID), Partition: rp.Partition,
				CurrentLeaderEpoch: rp.CurrentLeaderEpoch, FetchOffset: rp.FetchOffset,
				LastFetchedEpoch: last, MaxBytes: rp.PartitionMaxBytes,
			})
			wants = append(wants, fetchWant{topicID: rt.TopicID, offset: rp.FetchOffset, maxBytes: rp.PartitionMaxBytes, epoch: rp.CurrentLeaderEpoch})
		}
	}
	return rf, wants
}

// replicaFetchGot turns the leader's answers into the Fetch response
// path's partitions, logging read failures.
func (b *Broker) replicaFetchGot(res []replication.ReplicaFetchResult, wants []fetchWant) []*fetchGot {
	out := make([]*fetchGot, 0, len(res))
	for i := range res {
		pr := &res[i]
		w := wants[i]
		w.key = sessionKey{pr.Topic, pr.Partition}
		if pr.ReadErr != nil {
			b.lg.Warn("replica fetch read failed", "topic", pr.Topic, "partition", pr.Partition, "err", pr.ReadErr)
		}
		out = append(out, &fetchGot{want: &w, resp: pr.Response(), chunks: pr.Chunks, size: pr.Size, part: pr.Replica})
	}
	return out
}

// staleReplica reports whether a follower's fetch carries a broker epoch
// (KIP-903, v15+) other than its registration's in the image: the fetch of
// an older incarnation of that broker (a paused or partitioned process
// that another one replaced), which must not count towards the ISR or the
// high watermark. It returns the current epoch.
func (b *Broker) staleReplica(req *kmsg.FetchRequest, replica int32) (int64, bool) {
	if req.Version < 15 || req.ReplicaState.Epoch < 0 {
		return 0, false
	}
	br, ok := b.image().Brokers[replica]
	if !ok {
		return -1, true
	}
	return br.Epoch, br.Epoch != req.ReplicaState.Epoch
}
