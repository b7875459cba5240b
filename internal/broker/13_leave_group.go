package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// LeaveGroup, versions 0-5 (internal/group).
//
// Version notes:
//   - v0-v2: one MemberID; its error is the top-level ErrorCode
//   - v1: throttle time
//   - v3: batched Members with InstanceID (KIP-345), per-member errors
//   - v4: flexible versions
//   - v5: per-member Reason (KIP-800)
func init() { register(int16(kmsg.LeaveGroup), 0, 5, (*Broker).handleLeaveGroup) }

// handleLeaveGroup hands LeaveGroup v0-v5 to the group coordinator.
func (b *Broker) handleLeaveGroup(ctx context.Context, _ *conn, r *request) (kmsg.Response, error) {
	return b.groups.LeaveGroup(ctx, r.req.(*kmsg.LeaveGroupRequest)), nil
}
