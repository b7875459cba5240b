package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Heartbeat, versions 0-4 (internal/group).
//
// Version notes:
//   - v1: throttle time
//   - v3: InstanceID (KIP-345)
//   - v4: flexible versions
func init() { register(int16(kmsg.Heartbeat), 0, 4, (*Broker).handleHeartbeat) }

// handleHeartbeat hands Heartbeat v0-v4 to the group coordinator.
func (b *Broker) handleHeartbeat(ctx context.Context, _ *conn, r *request) (kmsg.Response, error) {
	return b.groups.Heartbeat(ctx, r.req.(*kmsg.HeartbeatRequest)), nil
}
