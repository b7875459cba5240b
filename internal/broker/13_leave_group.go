package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(int16(kmsg.LeaveGroup), 0, 5, (*Broker).handleLeaveGroup) }

// handleLeaveGroup hands LeaveGroup v0-v5 to the group coordinator.
func (b *Broker) handleLeaveGroup(ctx context.Context, _ *conn, r *request) (kmsg.Response, error) {
	return b.groups.LeaveGroup(ctx, r.req.(*kmsg.LeaveGroupRequest)), nil
}
