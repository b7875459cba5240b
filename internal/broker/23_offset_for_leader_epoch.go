package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
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
//
// ACLs: ClusterAction on the cluster allows every topic (followers),
// whatever the replica id; else each topic needs Describe (consumers,
// KIP-320), its partitions answering TOPIC_AUTHORIZATION_FAILED (epoch and
// end offset -1) otherwise, before its existence is looked at.
func init() { register(int16(kmsg.OffsetForLeaderEpoch), 0, 4, (*Broker).handleOffsetForLeaderEpoch) }

// handleOffsetForLeaderEpoch answers followers (KIP-101/279 truncation) and
// consumers (KIP-320 log divergence checks) with
// replication.Leader.OffsetForLeaderEpoch; a consumer (ReplicaID < 0) never
// learns of offsets past the high watermark.
func (b *Broker) handleOffsetForLeaderEpoch(_ context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.OffsetForLeaderEpochRequest)
	resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	img := b.image()
	leader := b.replicaLeader()
	az := c.authz()
	clusterAction := az.cluster(acl.OpClusterAction)
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetForLeaderEpochResponseTopic()
		st.Topic = rt.Topic
		allowed := clusterAction || az.topic(acl.OpDescribe, rt.Topic)
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			sp.Partition = rp.Partition
			if !allowed {
				sp.LeaderEpoch, sp.EndOffset = -1, -1
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			sp.LeaderEpoch, sp.EndOffset, sp.ErrorCode = leader.OffsetForLeaderEpoch(img, rt.Topic, rp.Partition, rp.CurrentLeaderEpoch, rp.LeaderEpoch, req.ReplicaID)
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}
