package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
)

// LeaveGroup, versions 0-5 (internal/group).
//
// Version notes:
//   - v0-v2: one MemberID; its error is the top-level ErrorCode
//   - v1: throttle time
//   - v3: batched Members with InstanceID (KIP-345), per-member errors
//   - v4: flexible versions
//   - v5: per-member Reason (KIP-800)
//
// ACLs: Read on the group, else the top-level GROUP_AUTHORIZATION_FAILED
// and no members (every version), as Kafka.
func init() { register(int16(kmsg.LeaveGroup), 0, 5, (*Broker).handleLeaveGroup) }

// handleLeaveGroup hands LeaveGroup v0-v5 to the group coordinator.
func (b *Broker) handleLeaveGroup(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.LeaveGroupRequest)
	if !c.authz().group(acl.OpRead, req.Group) {
		resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp, nil
	}
	return b.groups.LeaveGroup(ctx, req), nil
}
