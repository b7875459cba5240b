package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(int16(kmsg.LeaveGroup), 0, 5, handleLeaveGroup) }

// handleLeaveGroup hands LeaveGroup v0-v5 to the group coordinator.
func handleLeaveGroup(b *Broker, ctx context.Context, _ *conn, r *request) (kmsg.Response, error) {
	if b.groups == nil {
		return nil, errGroupsOff
	}
	return b.groups.LeaveGroup(ctx, r.req.(*kmsg.LeaveGroupRequest)), nil
}
