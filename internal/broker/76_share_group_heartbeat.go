package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/share"
)

// ShareGroupHeartbeat, versions 1 (KIP-932; internal/share).
//
// Version notes:
//   - v0: Kafka 4.0's early access; removed in Kafka 4.1, not served
//   - v1: the stable version; the member generates its MemberId, so an
//     empty one is INVALID_REQUEST; TOPIC_AUTHORIZATION_FAILED for
//     subscribed topics the principal may not Describe
//
// Share groups are coordinated by the broker that coordinates the id's
// __consumer_offsets partition (FindCoordinator type GROUP), in memory: a
// coordinator move or restart loses membership, and members rejoin when
// they get UNKNOWN_MEMBER_ID. An id used by a classic or consumer group is
// GROUP_ID_NOT_FOUND, as Kafka answers.
func init() {
	register(int16(kmsg.ShareGroupHeartbeat), 1, 1, (*Broker).handleShareGroupHeartbeat)
}

func (b *Broker) handleShareGroupHeartbeat(_ context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.ShareGroupHeartbeatRequest)
	resp := req.ResponseKind().(*kmsg.ShareGroupHeartbeatResponse)
	az := c.authz()
	if !az.group(acl.OpRead, req.GroupID) {
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp, nil
	}
	for _, t := range req.SubscribedTopicNames {
		if !az.topic(acl.OpDescribe, t) {
			resp.ErrorCode = kerr.TopicAuthorizationFailed.Code
			return resp, nil
		}
	}
	if req.GroupID != "" {
		if code, msg := b.shareCoordinatorCode(req.GroupID); code != 0 {
			resp.ErrorCode = code
			if msg != "" {
				resp.ErrorMessage = kmsg.StringPtr(msg)
			}
			return resp, nil
		}
	}
	cl := clientOf(c, r)
	return b.shares.Heartbeat(req, shareTopics{b.image()}, share.Client{ID: cl.ID, Host: cl.Host}), nil
}
