package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeGroups, versions 0-6 (internal/group).
//
// Version notes:
//   - v1: throttle time
//   - v3: IncludeAuthorizedOperations (KIP-430)
//   - v4: members' InstanceID (KIP-345)
//   - v5: flexible versions
//   - v6: GROUP_ID_NOT_FOUND and ErrorMessage for a missing group (KIP-1043);
//     below v6 it is described as Dead without an error. A KIP-848 group
//     answers GROUP_ID_NOT_FOUND at every version, with a message from v6.
func init() { register(int16(kmsg.DescribeGroups), 0, 6, (*Broker).handleDescribeGroups) }

// handleDescribeGroups hands DescribeGroups v0-v6 to the group coordinator.
func (b *Broker) handleDescribeGroups(ctx context.Context, _ *conn, r *request) (kmsg.Response, error) {
	return b.groups.DescribeGroups(ctx, r.req.(*kmsg.DescribeGroupsRequest)), nil
}
