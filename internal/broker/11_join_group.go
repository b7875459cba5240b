package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
)

// JoinGroup, versions 0-9 (internal/group).
//
// Version notes:
//   - v1: RebalanceTimeoutMillis (v0 uses the session timeout for both)
//   - v2: throttle time
//   - v4: a new member without an instance id gets MEMBER_ID_REQUIRED and
//     rejoins with the member id it was given (KIP-394)
//   - v5: InstanceID, static membership (KIP-345)
//   - v6: flexible versions
//   - v7: ProtocolType in the response, nullable Protocol (KIP-559)
//   - v8: Reason (KIP-800)
//   - v9: SkipAssignment for a returning static leader (KIP-814)
//
// ACLs: Read on the group, else GROUP_AUTHORIZATION_FAILED (generation -1,
// empty member and leader ids, no members; Protocol null from v7), as
// Kafka's JoinGroupRequest.getErrorResponse.
func init() { register(int16(kmsg.JoinGroup), 0, 9, (*Broker).handleJoinGroup) }

// handleJoinGroup hands JoinGroup v0-v9 to the group coordinator, which may
// park it until the rebalance's join phase ends; the connection waits, as
// Kafka mutes it. ctx (the broker's life) bounds the wait.
func (b *Broker) handleJoinGroup(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.JoinGroupRequest)
	if !c.authz().group(acl.OpRead, req.Group) {
		resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
		resp.ErrorCode, resp.Generation = kerr.GroupAuthorizationFailed.Code, -1
		if req.Version < 7 {
			resp.Protocol = kmsg.StringPtr("")
		}
		return resp, nil
	}
	if b.shares.HasGroup(req.Group) {
		// A share group has the id: Kafka answers
		// INCONSISTENT_GROUP_PROTOCOL.
		resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
		resp.ErrorCode, resp.Generation = kerr.InconsistentGroupProtocol.Code, -1
		if req.Version < 7 {
			resp.Protocol = kmsg.StringPtr("")
		}
		return resp, nil
	}
	return b.groups.JoinGroup(ctx, clientOf(c, r), req), nil
}
