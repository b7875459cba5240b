package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetForLeaderEpoch, versions 0-4.
//
// Version notes:
//   - v1: LeaderEpoch in the response
//   - v2: CurrentLeaderEpoch fencing (KIP-320); throttle time
//   - v3: ReplicaID (KIP-392), default -2; below v3 it reads as -2, so the
//     consumer cap of EndOffset at the high watermark (ReplicaID < 0) applies
//   - v4: flexible versions
//   - Kafka 4.0 serves v2-v4 only (v0-v1 went with KIP-896)
func init() { register(int16(kmsg.OffsetForLeaderEpoch), 0, 4, (*Broker).handleOffsetForLeaderEpoch) }

func (b *Broker) handleOffsetForLeaderEpoch(_ context.Context, _ *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.OffsetForLeaderEpochRequest)
	resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	img := b.image()
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetForLeaderEpochResponseTopic()
		st.Topic = rt.Topic
		t, tok := img.Topics[rt.Topic]
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.LeaderEpoch, sp.EndOffset = -1, -1
			st.Partitions = append(st.Partitions, sp)
			ptr := &st.Partitions[len(st.Partitions)-1]
			if !tok {
				ptr.ErrorCode = kerr.UnknownTopicOrPartition.Code
				continue
			}
			mp, ok := partitionOf(t, rp.Partition)
			if !ok {
				ptr.ErrorCode = kerr.UnknownTopicOrPartition.Code
				continue
			}
			p, ok := b.parts.Get(t.Name, rp.Partition)
			if !ok || mp.Leader != b.cfg.NodeID {
				ptr.ErrorCode = kerr.NotLeaderForPartition.Code
				continue
			}
			if code := checkLeaderEpoch(rp.CurrentLeaderEpoch, p.LeaderEpoch()); code != 0 {
				ptr.ErrorCode = code
				continue
			}
			ptr.LeaderEpoch, ptr.EndOffset = p.Log().EndOffsetForEpoch(rp.LeaderEpoch)
			if ptr.LeaderEpoch == p.LeaderEpoch() || ptr.EndOffset > p.HighWatermark() {
				// A consumer must not learn of offsets past the high watermark.
				if ptr.EndOffset > p.HighWatermark() && req.ReplicaID < 0 {
					ptr.EndOffset = p.HighWatermark()
				}
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}
