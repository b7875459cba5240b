package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(int16(kmsg.Heartbeat), 0, 4, handleHeartbeat) }

// handleHeartbeat hands Heartbeat v0-v4 to the group coordinator.
func handleHeartbeat(b *Broker, ctx context.Context, _ *conn, r *request) (kmsg.Response, error) {
	if b.groups == nil {
		return nil, errGroupsOff
	}
	return b.groups.Heartbeat(ctx, r.req.(*kmsg.HeartbeatRequest)), nil
}
