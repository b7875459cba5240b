package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetDelete, version 0 (KIP-496; internal/group).
//
// Version notes:
//   - v0: not flexible
func init() { register(int16(kmsg.OffsetDelete), 0, 0, (*Broker).handleOffsetDelete) }

// handleOffsetDelete hands OffsetDelete v0 to the group coordinator.
func (b *Broker) handleOffsetDelete(ctx context.Context, _ *conn, r *request) (kmsg.Response, error) {
	return b.groups.OffsetDelete(ctx, r.req.(*kmsg.OffsetDeleteRequest)), nil
}
