package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/errcode"
	"github.com/samsa-streaming/samsa/internal/share"
)

// ShareAcknowledge, versions 1-2 (KIP-932; internal/share).
//
// Version notes:
//   - v0: Kafka 4.0's early access; removed in Kafka 4.1, not served
//   - v1: the stable version: acknowledgements within an open share
//     session (epoch 0 is INVALID_SHARE_SESSION_EPOCH; -1 acknowledges and
//     closes the session, releasing what the member still holds)
//   - v2: IsRenewAck (KIP-1222): RENEW acknowledgements extend locks
func init() { register(int16(kmsg.ShareAcknowledge), 1, 2, (*Broker).handleShareAcknowledge) }

// handleShareAcknowledge applies acknowledgements partition by partition.
func (b *Broker) handleShareAcknowledge(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.ShareAcknowledgeRequest)
	resp := req.ResponseKind().(*kmsg.ShareAcknowledgeResponse)
	if req.GroupID == nil || *req.GroupID == "" || req.MemberID == nil || *req.MemberID == "" {
		resp.ErrorCode, resp.ErrorMessage = kerr.InvalidRequest.Code, kmsg.StringPtr("GroupId and MemberId are required.")
		return resp, nil
	}
	group, member := *req.GroupID, *req.MemberID
	az := c.authz()
	if !az.group(acl.OpRead, group) {
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp, nil
	}
	parts, err := b.shares.SessionUpdate(c, group, member, req.ShareSessionEpoch, false, nil, nil)
	if err != nil {
		resp.ErrorCode, resp.ErrorMessage = errcode.Code(err), kmsg.StringPtr(err.Error())
		return resp, nil
	}
	img := b.image()
	var leaders []int32
	for _, t := range req.Topics {
		rt := kmsg.ShareAcknowledgeResponseTopic{TopicID: t.TopicID}
		for _, p := range t.Partitions {
			tp := share.TP{Topic: t.TopicID, Partition: p.Partition}
			rp := kmsg.NewShareAcknowledgeResponseTopicPartition()
			rp.Partition, rp.CurrentLeader.LeaderID, rp.CurrentLeader.LeaderEpoch = p.Partition, -1, -1
			tg := b.shareResolve(img, az, group, tp)
			batches := ackBatchesOf(p.AcknowledgementBatches, func(a *kmsg.ShareAcknowledgeRequestTopicPartitionAcknowledgementBatch) (int64, int64, []int8) {
				return a.FirstOffset, a.LastOffset, a.AcknowledgeTypes
			})
			var msg string
			rp.ErrorCode, msg = b.shareAck(ctx, tg, member, batches, req.IsRenewAck)
			if msg != "" {
				rp.ErrorMessage = kmsg.StringPtr(msg)
			}
			if rp.ErrorCode == kerr.NotLeaderForPartition.Code && tg.mp != nil {
				rp.CurrentLeader.LeaderID, rp.CurrentLeader.LeaderEpoch = tg.mp.Leader, tg.mp.LeaderEpoch
				leaders = append(leaders, tg.mp.Leader)
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if req.ShareSessionEpoch == -1 {
		b.shares.ReleaseSession(group, member, parts)
	}
	for _, e := range shareNodeEndpoints(img, leaders, c.l.Name) {
		resp.NodeEndpoints = append(resp.NodeEndpoints, kmsg.ShareAcknowledgeResponseNodeEndpoint{NodeID: e.NodeID, Host: e.Host, Port: e.Port, Rack: e.Rack})
	}
	return resp, nil
}
