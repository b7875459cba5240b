package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(int16(kmsg.Heartbeat), 0, 4, (*Broker).handleHeartbeat) }

// handleHeartbeat hands Heartbeat v0-v4 to the group coordinator.
func (b *Broker) handleHeartbeat(ctx context.Context, _ *conn, r *request) (kmsg.Response, error) {
	return b.groups.Heartbeat(ctx, r.req.(*kmsg.HeartbeatRequest)), nil
}
