package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
)

// Heartbeat, versions 0-4 (internal/group).
//
// Version notes:
//   - v1: throttle time
//   - v3: InstanceID (KIP-345)
//   - v4: flexible versions
//
// ACLs: Read on the group, else GROUP_AUTHORIZATION_FAILED.
func init() { register(int16(kmsg.Heartbeat), 0, 4, (*Broker).handleHeartbeat) }

// handleHeartbeat hands Heartbeat v0-v4 to the group coordinator.
func (b *Broker) handleHeartbeat(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.HeartbeatRequest)
	if !c.authz().group(acl.OpRead, req.Group) {
		resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp, nil
	}
	return b.groups.Heartbeat(ctx, req), nil
}
