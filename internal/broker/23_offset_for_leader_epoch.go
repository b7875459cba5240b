package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(int16(kmsg.OffsetForLeaderEpoch), 0, 4, (*Broker).handleOffsetForLeaderEpoch) }

// handleOffsetForLeaderEpoch answers followers (KIP-101/279 truncation) and
// consumers (KIP-320 log divergence checks) with
// replication.Leader.OffsetForLeaderEpoch; a consumer (ReplicaID < 0) never
// learns of offsets past the high watermark.
func (b *Broker) handleOffsetForLeaderEpoch(_ context.Context, _ *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.OffsetForLeaderEpochRequest)
	resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	img := b.image()
	leader := b.replicaLeader()
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetForLeaderEpochResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.LeaderEpoch, sp.EndOffset, sp.ErrorCode = leader.OffsetForLeaderEpoch(img, rt.Topic, rp.Partition, rp.CurrentLeaderEpoch, rp.LeaderEpoch, req.ReplicaID)
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}
