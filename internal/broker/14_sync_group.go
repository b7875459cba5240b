package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// SyncGroup, versions 0-5 (internal/group).
//
// Version notes:
//   - v1: throttle time
//   - v3: InstanceID (KIP-345)
//   - v4: flexible versions
//   - v5: ProtocolType and Protocol in the request, checked against the
//     group's, and in the response (KIP-559)
func init() { register(int16(kmsg.SyncGroup), 0, 5, (*Broker).handleSyncGroup) }

// handleSyncGroup hands SyncGroup v0-v5 to the group coordinator; a
// follower's sync parks until the leader's assignment is written.
func (b *Broker) handleSyncGroup(ctx context.Context, _ *conn, r *request) (kmsg.Response, error) {
	return b.groups.SyncGroup(ctx, r.req.(*kmsg.SyncGroupRequest)), nil
}
