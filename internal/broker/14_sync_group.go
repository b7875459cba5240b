package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
)

// SyncGroup, versions 0-5 (internal/group).
//
// Version notes:
//   - v1: throttle time
//   - v3: InstanceID (KIP-345)
//   - v4: flexible versions
//   - v5: ProtocolType and Protocol in the request, checked against the
//     group's, and in the response (KIP-559)
//
// ACLs: Read on the group, else GROUP_AUTHORIZATION_FAILED with an empty
// assignment.
func init() { register(int16(kmsg.SyncGroup), 0, 5, (*Broker).handleSyncGroup) }

// handleSyncGroup hands SyncGroup v0-v5 to the group coordinator; a
// follower's sync parks until the leader's assignment is written.
func (b *Broker) handleSyncGroup(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.SyncGroupRequest)
	if !c.authz().group(acl.OpRead, req.Group) {
		resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
		resp.ErrorCode, resp.MemberAssignment = kerr.GroupAuthorizationFailed.Code, []byte{}
		return resp, nil
	}
	return b.groups.SyncGroup(ctx, req), nil
}
